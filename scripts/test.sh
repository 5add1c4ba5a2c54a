#!/usr/bin/env bash
# Installs what is missing, builds Xunjian with AddressSanitizer + UBSan, and runs the whole
# test suite through ctest. Used by CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh --test

BUILD_DIR=${XJ_BUILD_DIR:-build-asan}
JOBS=${XJ_JOBS:-$(nproc)}

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DXJ_SANITIZE=ON -DXJ_TESTS=ON
cmake --build "$BUILD_DIR" -j "$JOBS"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$BUILD_DIR"
ctest -j "$JOBS" --output-on-failure --timeout 300 "$@"
