#!/usr/bin/env bash
# Report benchmark (issue 7): the monthly service report for 500 hosts x 30 checks x 31 days
# of 1-minute results. The store is built directly in the collector's schema with what those
# results leave in it (daily rollups, seconds in status per day, status changes, alert
# history; see bench/report/report_bench_main.cpp), then the report is made in a fresh
# process: time to build the model, to render the HTML (target: model + HTML <= 3 s), the
# Markdown and JSON, peak RSS; with Chromium installed, the PDF separately.
#
#   bench/report_bench.sh                   500 hosts x 30 checks x 31 days, 3 runs
#   bench/report_bench.sh --hosts 50        a smaller fleet while iterating
#   bench/report_bench.sh --runs 5 --no-pdf
#
# Builds a Release report_bench in build-bench-rel (XJ_BENCH_BUILD_DIR to change it).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${XJ_BENCH_BUILD_DIR:-build-bench-rel}
JOBS=${XJ_BENCH_JOBS:-2}
HOSTS=500 CHECKS=30 DAYS=31 RUNS=3 PDF=1
while (($#)); do
  case "$1" in
    --hosts) HOSTS=$2; shift ;;
    --checks) CHECKS=$2; shift ;;
    --days) DAYS=$2; shift ;;
    --runs) RUNS=$2; shift ;;
    --no-pdf) PDF=0 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "report_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXJ_BENCH=ON -DXJ_TESTS=OFF \
  -DXJ_WERROR=OFF >/dev/null
ninja -C "$BUILD_DIR" -j"$JOBS" report_bench >/dev/null
BIN="$BUILD_DIR/bench/report_bench"

WORK=$(mktemp -d /tmp/xunjian-report-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (+ working tree changes)')"
echo "== store: $HOSTS hosts x $CHECKS checks x $DAYS days"
"$BIN" make "$WORK/collector.db" --hosts "$HOSTS" --checks "$CHECKS" --days "$DAYS"

for ((i = 1; i <= RUNS; i++)); do
  echo "== run $i"
  if ((PDF)) && ((i == RUNS)) && command -v chromium >/dev/null; then
    "$BIN" run "$WORK/collector.db" "$WORK/out" --pdf
  else
    "$BIN" run "$WORK/collector.db" "$WORK/out"
  fi
done
