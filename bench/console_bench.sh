#!/usr/bin/env bash
# Console benchmark (issue 9): the server's time to render the overview (GET /console/) with
# 1,000 hosts and 30,000 checks in the store (target <= 200 ms). The store is filled through
# the real Store::ingest and the alert pipeline (see bench/console/console_bench_main.cpp);
# the request is timed in-process as the HTTP server calls the handler.
#
#   bench/console_bench.sh                     1000 hosts x 30 checks, 50 runs
#   bench/console_bench.sh --hosts 200 --runs 10
#
# Builds a Release console_bench in build-bench-rel (XJ_BENCH_BUILD_DIR to change it).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${XJ_BENCH_BUILD_DIR:-build-bench-rel}
JOBS=${XJ_BENCH_JOBS:-2}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXJ_BENCH=ON -DXJ_TESTS=OFF \
  -DXJ_WERROR=OFF >/dev/null
ninja -C "$BUILD_DIR" -j"$JOBS" console_bench >/dev/null
WORK=$(mktemp -d /tmp/xunjian-console-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== date: $(date -u '+%Y-%m-%d %H:%M UTC')"
"$BUILD_DIR/bench/console_bench" "$WORK" "$@"
