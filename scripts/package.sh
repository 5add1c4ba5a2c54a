#!/usr/bin/env bash
# Builds the Debian packages from a Release build:
#   build-package/xunjian-agent_<ver>_amd64.deb, build-package/xunjian-collector_<ver>_amd64.deb
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh --package
BUILD_DIR=${XJ_BUILD_DIR:-build-package}
# XJ_WERROR=OFF: GCC 12 reports false -Wrestrict / -Wformat-truncation at -O3; the warnings
# are errors in every Debug and sanitizer build.
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXJ_TESTS=OFF -DXJ_WERROR=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
(cd "$BUILD_DIR" && cpack -G DEB)
ls -l "$BUILD_DIR"/*.deb
