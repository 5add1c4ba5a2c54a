#!/usr/bin/env bash
# Agent footprint benchmark (issue 2): xunjian-agent with the 31-check profile (disk, cpu,
# memory, load, 10 process, 10 port, 5 http, file_age, log_scan) at a 10 s interval, side by
# side IN THE SAME RUN with prometheus-node-exporter (scraped every 10 s) and zabbix_agentd
# (equivalent passive items polled every 10 s). Prints peak RSS and CPU of each, the machine
# and the verdict against the target (peak RSS <= 10 MiB, CPU <= 0.5 % of one core, below both).
#
#   bench/agent_footprint.sh                  120 s measured, table on stdout
#   bench/agent_footprint.sh --write          ... and update docs/benchmarks.md
#   bench/agent_footprint.sh --duration 30    a short run while iterating
#   bench/agent_footprint.sh --rev HEAD       measure a commit (clean `git archive` export)
#                                             instead of the working tree
#   bench/agent_footprint.sh --help           every option (--no-agent-metrics, --keep, ...)
#
# Installs prometheus-node-exporter, zabbix-agent and the build dependencies when missing
# (apt-get, as root or through sudo), builds a Release agent in build-bench-rel, and stops
# everything it started when it ends. Linux only (reads /proc). Their system services are
# not used: each program is started here on 127.0.0.1 ports chosen at run time.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${XJ_BENCH_BUILD_DIR:-build-bench-rel}
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
      echo; echo "Options passed on to bench/footprint/run.py:"
      exec python3 bench/footprint/run.py --help ;;
    *) ARGS+=("$1") ;;
  esac
  shift
done

# --- packages -----------------------------------------------------------------------------
./scripts/deps.sh
want=(prometheus-node-exporter zabbix-agent python3 util-linux)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "bench: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  echo "bench: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Installing the packages may start their system services; those are not measured (we start
# our own instances) but they load the machine, so say so.
for comm in prometheus-node zabbix_agentd; do  # comm is cut to 15 characters
  if pgrep -x "$comm" >/dev/null; then
    echo "bench: note: a system $comm is running (not measured, but it adds load);" \
      "stop it for cleaner figures" >&2
  fi
done

# --- Release agent ------------------------------------------------------------------------
# XJ_WERROR=OFF: GCC 12 at -O3 reports a false -Wrestrict inside libstdc++'s string code.
# Release with XJ_TESTS=OFF is how scripts/package.sh builds the .deb, so XJ_AGENT_SMALL applies.
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
  dirty=$(git status --porcelain -- agent checks common cmake CMakeLists.txt 2>/dev/null | wc -l)
  if ((dirty)); then
    COMMIT="$COMMIT + uncommitted changes ($dirty files in agent/, checks/, common/, cmake)"
  elif [[ -n "$(git status --porcelain 2>/dev/null)" ]]; then
    COMMIT="$COMMIT + uncommitted changes (none in the agent's sources)"
  fi
fi
mkdir -p "$BUILD_DIR"
BUILD_LOG="$BUILD_DIR/bench-build.log"
if ! { cmake -S "$SRC_DIR" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXJ_TESTS=OFF \
         -DXJ_WERROR=OFF && cmake --build "$BUILD_DIR" --target xunjian-agent -j "$(nproc)"; } \
     >"$BUILD_LOG" 2>&1; then
  tail -n 40 "$BUILD_LOG" >&2
  echo "bench: building xunjian-agent failed (full log: $BUILD_LOG)" >&2
  exit 1
fi
AGENT="$BUILD_DIR/agent/xunjian-agent"

# --- run ----------------------------------------------------------------------------------
SMALL=$(sed -n 's/^XJ_AGENT_SMALL:BOOL=//p' "$BUILD_DIR/CMakeCache.txt")
if [[ $SMALL == ON ]]; then
  BUILD_DESC="CMake Release as scripts/package.sh builds the .deb: the agent's code at -Os with --gc-sections (XJ_AGENT_SMALL), system libraries as Debian ships them"
elif [[ $SMALL == OFF ]]; then
  BUILD_DESC="CMake Release (-O3), XJ_AGENT_SMALL=OFF"
else  # a commit from before the option
  BUILD_DESC="CMake Release (-O3)"
fi
RUN=(python3 bench/footprint/run.py --agent "$AGENT" --commit "$COMMIT" --build "$BUILD_DESC")
if ((WRITE)); then RUN+=(--write docs/benchmarks.md); fi
exec "${RUN[@]}" "${ARGS[@]}"
