#!/usr/bin/env bash
# Installs what is missing, builds Xunjian, and runs it on this machine: a collector on the
# embedded SQLite store and an agent checking this machine with the example config, shipping
# to that collector. Waits for the first results, shows them and where to look, and keeps
# both running until Ctrl-C.
#
#   XJ_DEMO_PORT=8443     the collector's port on 127.0.0.1 (default: 8443, or a free one)
#   XJ_BUILD_DIR=...      build dir (default build-release); state goes to <build>/demo
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

./scripts/deps.sh

BUILD_DIR=${XJ_BUILD_DIR:-build-release}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXJ_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"

AGENT="$ROOT/$BUILD_DIR/agent/xunjian-agent"
COLLECTOR="$ROOT/$BUILD_DIR/collector/xunjian-collector"
CTL="$ROOT/$BUILD_DIR/collector/xunjianctl"
DEMO="$ROOT/$BUILD_DIR/demo"
mkdir -p "$DEMO/agent-state"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${XJ_DEMO_PORT:-8443}
if ! port_free "$PORT"; then
  [[ -n "${XJ_DEMO_PORT:-}" ]] && { echo "demo: port $PORT is in use" >&2; exit 1; }
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fi
URL="http://127.0.0.1:$PORT"
HOST_ID=$(hostname)

# The collector: the shipped example, pointed at the demo's store and port.
sed -e "s|^  listen: .*|  listen: 127.0.0.1:$PORT|" \
    -e "s|^  store: .*|  store: $DEMO/collector.db|" \
    -e "s|^  heartbeat: .*|  heartbeat: 10s|" \
    packaging/examples/collector.yaml >"$DEMO/collector.yaml"
"$COLLECTOR" validate -c "$DEMO/collector.yaml" >/dev/null

# Tokens are shown once and only their hash is stored: keep them for the next demo run.
if [[ ! -s "$DEMO/agent.token" ]]; then
  "$COLLECTOR" token create --agent "$HOST_ID" -c "$DEMO/collector.yaml" 2>/dev/null >"$DEMO/agent.token"
fi
if [[ ! -s "$DEMO/operator.token" ]]; then
  "$COLLECTOR" token create --api demo-operator --role operator -c "$DEMO/collector.yaml" 2>/dev/null >"$DEMO/operator.token"
fi
if [[ ! -s "$DEMO/viewer.token" ]]; then
  "$COLLECTOR" token create --api demo --role viewer -c "$DEMO/collector.yaml" 2>/dev/null >"$DEMO/viewer.token"
fi
chmod 600 "$DEMO"/*.token

# The agent: the shipped example plus a collector section; its own /metrics on a free port.
{
  sed -e "s|^  metrics_listen: .*|  metrics_listen: 127.0.0.1:0|" packaging/examples/agent.yaml
  cat <<EOF

collector:
  url: $URL
  token_file: $DEMO/agent.token
  heartbeat: 10s
EOF
} >"$DEMO/agent.yaml"
"$AGENT" validate -c "$DEMO/agent.yaml" --state-dir "$DEMO/agent-state" >/dev/null

PIDS=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "demo: stopping agent and collector"
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

"$COLLECTOR" serve -c "$DEMO/collector.yaml" >>"$DEMO/collector.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
  curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$URL/healthz" >/dev/null || { echo "demo: collector did not start; see $DEMO/collector.log" >&2; tail -20 "$DEMO/collector.log" >&2; exit 1; }

"$AGENT" run -c "$DEMO/agent.yaml" --state-dir "$DEMO/agent-state" >>"$DEMO/agent.log" 2>&1 &
PIDS+=($!)

VIEWER=$(cat "$DEMO/viewer.token")
echo "demo: waiting for the agent's first results to be stored ..."
stored=""
for _ in $(seq 60); do
  body=$(curl -fsS -H "Authorization: Bearer $VIEWER" "$URL/api/v1/checks?host=$HOST_ID" 2>/dev/null || true)
  if [[ "$body" == *'"kind":"cpu"'* ]]; then stored=yes; break; fi
  sleep 1
done
[[ -n "$stored" ]] || { echo "demo: no results after 60 s; see $DEMO/agent.log" >&2; tail -20 "$DEMO/agent.log" >&2; exit 1; }

echo
if [[ -x "$CTL" ]]; then
  echo "== xunjianctl checks --host $HOST_ID   (what the collector has stored)"
  XJ_URL=$URL XJ_TOKEN=$VIEWER "$CTL" checks --host "$HOST_ID" || true
else
  echo "== GET $URL/api/v1/checks?host=$HOST_ID"
  echo "$body" | python3 -m json.tool | head -40
fi

# A report of this week so far (巡检报告), made by the collector and fetched by xunjianctl.
REPORT_LINE="(xunjianctl not built: no report)"
if [[ -x "$CTL" ]]; then
  echo
  echo "== xunjianctl report weekly --date $(date +%F) --format html,md,json -o $DEMO/reports"
  if XJ_URL=$URL XJ_TOKEN=$(cat "$DEMO/operator.token") "$CTL" report weekly --date "$(date +%F)" \
       --format html,md,json -o "$DEMO/reports"; then
    REPORT_LINE=$(ls "$DEMO"/reports/*.html | head -1)
  fi
fi

cat <<EOF

Xunjian is running on this machine.
  Collector API     $URL/api/v1/hosts   /api/v1/checks   /api/v1/series   (Bearer token below)
  Health, metrics   $URL/healthz   $URL/metrics   (Prometheus can scrape the whole fleet here)
  Viewer token      $DEMO/viewer.token
  Try               curl -H "Authorization: Bearer \$(cat $DEMO/viewer.token)" $URL/api/v1/hosts
EOF
if [[ -x "$CTL" ]]; then
  echo "                    XJ_URL=$URL XJ_TOKEN=\$(cat $DEMO/viewer.token) $CTL hosts"
fi
cat <<EOF
  Configs, logs     $DEMO/{collector,agent}.yaml   $DEMO/{collector,agent}.log
  One-shot table    $AGENT check -c $DEMO/agent.yaml --state-dir $DEMO/agent-state
  Audit log         $COLLECTOR audit verify -c $DEMO/collector.yaml
  Generated report  $REPORT_LINE   (open it in a browser; --format pdf needs chromium)
  (The web console is not built yet: issue 9.)

Press Ctrl-C to stop.
EOF
wait
