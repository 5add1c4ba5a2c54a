#!/usr/bin/env bash
# Alert latency benchmark (issue 6): from the collector's commit of a failing result to the
# WeCom receiver's receipt, p50 and p99 over 1,000 alerts with for: 0; and a 1,000-alert storm:
# the time until every message or digest is delivered within the rate limits.
#
# Method (bench/alerts/alert_latency.py): a Release xunjian-collector, a local WeCom robot
# (tests/fixtures/robot_receiver.py) and failing results posted through the agent wire API.
# The start of each measurement is outbox.created (set in the transaction that commits the
# alert's state change), the end the receiver's receipt time: one machine, one clock.
#   1. grouping on (window 10s), rate limit and storm digest off, 100 hosts round-robin, a
#      host's alerts 11 s apart: every alert is the first of a quiet group (the leading edge
#      the person on duty meets), so this is the grouped path with nothing held;
#   2. grouping off (window 0), one host, an alert every 20 ms;
#   3. the storm: 1,000 alerts over 100 hosts posted as fast as one client can, the default
#      grouping and storm settings (window 10s, threshold 20/min, a digest every 10s), 20 per
#      minute on the channel and on the receiver. Prints the messages, digests, the alerts they
#      carry (must be all), the receiver's rejections (must be 0) and first commit -> last
#      receipt.
# For comparison, Prometheus + Alertmanager's default path adds a 30 s group_wait on top of
# scrape and evaluation intervals. Target: p99 <= 100 ms.
#
#   bench/alert_latency_bench.sh                  all three, N = 1000 (run 1 takes ~2 min)
#   bench/alert_latency_bench.sh --n 50           a quick smoke run
#   bench/alert_latency_bench.sh --only storm
#
# Builds a Release collector in build-bench-rel (XJ_BENCH_BUILD_DIR to change it).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${XJ_BENCH_BUILD_DIR:-build-bench-rel}
JOBS=${XJ_BENCH_JOBS:-2}
ARGS=()
while (($#)); do
  case "$1" in
    --n|--hosts|--gap|--only) ARGS+=("$1" "$2"); shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "alert_latency_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [[ -z "${XJ_BENCH_COLLECTOR:-}" ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXJ_TESTS=OFF -DXJ_WERROR=OFF >/dev/null
  ninja -C "$BUILD_DIR" -j"$JOBS" xunjian-collector >/dev/null
fi
# XJ_BENCH_COLLECTOR: another build's binary (e.g. a sanitized one for a smoke run; its figures
# are not the product's).
BIN=${XJ_BENCH_COLLECTOR:-$BUILD_DIR/collector/xunjian-collector}
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (+ working tree changes)'), collector: $BIN"
python3 bench/alerts/alert_latency.py --collector "$BIN" "${ARGS[@]}"
