#!/usr/bin/env bash
# Installs what is missing, builds Xunjian, and runs every check of the example agent
# config once on this machine, printing the table an on-site engineer sees.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh

BUILD_DIR=${XJ_BUILD_DIR:-build-release}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXJ_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"

STATE_DIR=${XJ_STATE_DIR:-$PWD/$BUILD_DIR/demo-state}
mkdir -p "$STATE_DIR"
AGENT="$BUILD_DIR/agent/xunjian-agent"
CONFIG=packaging/examples/agent.yaml

echo
echo "== xunjian-agent validate -c $CONFIG"
"$AGENT" validate -c "$CONFIG" --state-dir "$STATE_DIR"
echo
echo "== xunjian-agent check -c $CONFIG   (every check once, on this machine)"
set +e
"$AGENT" check -c "$CONFIG" --state-dir "$STATE_DIR"
worst=$?
set -e
echo
echo "Exit code $worst is the worst status (0 ok, 1 warning, 2 critical, 3 unknown)."
echo "JSON as sent to the collector:  $AGENT check -c $CONFIG --state-dir $STATE_DIR --json"
echo "Run as a daemon:                 $AGENT run -c $CONFIG --state-dir $STATE_DIR"
echo "Check kinds and their keys:      docs/checks.md"
