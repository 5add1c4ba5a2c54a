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
# A failing test gets one more run (--repeat until-pass:2) so that one rare, not yet explained
# failure cannot sink a whole CI run; a test that fails twice fails the suite. The log of the
# failed first attempt stays in the output. Known case: docs/ARCHITECTURE.md ("Flaky tests").
ctest -j "$JOBS" --output-on-failure --timeout 300 --repeat until-pass:2 "$@"
