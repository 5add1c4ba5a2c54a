#!/usr/bin/env bash
# Ingest benchmark (issue 3): N simulated agents x M checks posting real batches over
# keep-alive HTTP to a fresh xunjian-collector on 127.0.0.1 (port chosen by the kernel at run
# time), for a fixed time; then, in the same run, the same rows inserted straight into SQLite
# in large transactions -- the limit of this storage design. Prints sustained results/s,
# p50/p99 request latency, the collector's CPU and peak RSS (/proc), bytes on disk per stored
# result, the raw SQLite figure and the ratio, and checks that the store holds exactly what
# the collector acknowledged (exit 1 if not).
#
#   bench/ingest_bench.sh                      10,000 agents x 20 checks, 60 s per phase
#   bench/ingest_bench.sh --write              ... and update docs/benchmarks.md
#   bench/ingest_bench.sh --duration 20 --agents 2000      a short run while iterating
#   bench/ingest_bench.sh --collector-threads 8            collector.threads (default: unset)
#   bench/ingest_bench.sh --rev HEAD           measure a commit (clean `git archive` export)
#                                              instead of the working tree
#   bench/ingest_bench.sh --help               every option (--concurrency, --raw-txn, --keep)
#
# Builds a Release collector and the bench tools in build-ingest-rel (XJ_BENCH_BUILD_DIR to
# change it). Linux only (reads /proc). Needs the build dependencies (scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${XJ_BENCH_BUILD_DIR:-build-ingest-rel}
JOBS=${XJ_BENCH_JOBS:-2}
ARGS=()
WRITE=0
REV=""
while (($#)); do
  case "$1" in
    --write) WRITE=1 ;;
    --rev) REV=${2:?--rev needs a commit}; shift ;;
    --rev=*) REV=${1#--rev=} ;;
    -h|--help)
      sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
      echo; echo "Options passed on to bench/ingest/run.py:"
      exec python3 bench/ingest/run.py --help ;;
    *) ARGS+=("$1") ;;
  esac
  shift
done

# The working tree is shared with other engineers' work in progress; --rev measures exactly
# one commit instead.
SRC_DIR=.
if [[ -n "$REV" ]]; then
  SHA=$(git rev-parse --short "$REV^{commit}")
  COMMIT="$SHA (clean export of $REV)"
  SRC_DIR="$BUILD_DIR/src-$SHA"
  BUILD_DIR="$BUILD_DIR/build-$SHA"
  if [[ ! -f "$SRC_DIR/CMakeLists.txt" ]]; then  # a commit never changes: export it once
    rm -rf "$SRC_DIR" && mkdir -p "$SRC_DIR"
    git archive "$SHA" | tar -x -C "$SRC_DIR"
  fi
else
  COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo "no git")
  dirty=$(git status --porcelain -- collector checks common cmake bench CMakeLists.txt 2>/dev/null | wc -l)
  if ((dirty)); then
    COMMIT="$COMMIT + uncommitted changes ($dirty files in collector/, checks/, common/, cmake, bench/)"
  fi
fi

# XJ_WERROR=OFF: GCC 12 at -O3 reports a false -Wrestrict inside libstdc++'s string code.
# CMake's Release is -O3 -DNDEBUG.
mkdir -p "$BUILD_DIR"
BUILD_LOG="$BUILD_DIR/bench-build.log"
if ! { cmake -S "$SRC_DIR" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXJ_TESTS=OFF \
         -DXJ_WERROR=OFF -DXJ_BENCH=ON &&
       cmake --build "$BUILD_DIR" -j "$JOBS" --target xunjian-collector ingest_load \
         ingest_tokens ingest_raw_sqlite; } >"$BUILD_LOG" 2>&1; then
  tail -n 40 "$BUILD_LOG" >&2
  echo "bench: the build failed (full log: $BUILD_LOG)" >&2
  exit 1
fi

RUN=(python3 bench/ingest/run.py --bin-dir "$BUILD_DIR" --commit "$COMMIT")
if ((WRITE)); then RUN+=(--write docs/benchmarks.md); fi
exec "${RUN[@]}" "${ARGS[@]}"
