#!/usr/bin/env bash
# SSH round benchmark (issue 8): how long one agentless round takes for a target with 10
# checks (disk, cpu, memory, load, process, port, file_age, log_scan, 2 exec), and how long N
# targets due at once take through the poller's bounded workers. A real sshd (Debian
# openssh-server) on 127.0.0.1 with a generated host key; the collector's real SshPoller and
# SQLite store (bench/ssh/ssh_round_main.cpp). Every target is this machine, so the sshd and
# the commands share its CPUs with the poller: the parallel figures are a lower bound of what
# N separate hosts allow and a fair picture of the collector's own cost.
#
#   bench/ssh_round_bench.sh                          20 serial rounds; 1,4,16 targets x 4 workers
#   bench/ssh_round_bench.sh --targets 1,8,32 --workers 1,4,8 --reps 3
#
# Builds a Release ssh_round_bench in build-bench-rel (XJ_BENCH_BUILD_DIR to change it), or
# runs the one XJ_BENCH_BIN names.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${XJ_BENCH_BUILD_DIR:-build-bench-rel}
JOBS=${XJ_BENCH_JOBS:-2}
ROUNDS=20 TARGETS=1,4,16 WORKERS=4 REPS=3
while (($#)); do
  case "$1" in
    --rounds) ROUNDS=$2; shift ;;
    --targets) TARGETS=$2; shift ;;
    --workers) WORKERS=$2; shift ;;
    --reps) REPS=$2; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "ssh_round_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

[[ -x /usr/sbin/sshd ]] || { echo "ssh_round_bench.sh: /usr/sbin/sshd missing (scripts/deps.sh --test)" >&2; exit 1; }
if [[ -n ${XJ_BENCH_BIN:-} ]]; then
  BIN=$XJ_BENCH_BIN  # an ssh_round_bench built elsewhere (say which build in the figures)
else
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXJ_BENCH=ON -DXJ_TESTS=OFF \
    -DXJ_WERROR=OFF >/dev/null
  ninja -C "$BUILD_DIR" -j"$JOBS" ssh_round_bench >/dev/null
  BIN="$BUILD_DIR/bench/ssh_round_bench"
fi

WORK=$(mktemp -d /tmp/xunjian-ssh-bench-XXXXXX)
SSHD_PID=
cleanup() { [[ -n $SSHD_PID ]] && kill "$SSHD_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ssh-keygen -q -t ed25519 -N '' -C xj-bench -f "$WORK/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -C xj-bench -f "$WORK/user_key"
cp "$WORK/user_key.pub" "$WORK/authorized_keys" && chmod 600 "$WORK/authorized_keys"
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1-2 "$WORK/host_ed25519.pub")" >"$WORK/known_hosts"
cat >"$WORK/sshd_config" <<CFG
Port $PORT
ListenAddress 127.0.0.1
HostKey $WORK/host_ed25519
PidFile $WORK/sshd.pid
AuthorizedKeysFile $WORK/authorized_keys
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
PermitRootLogin prohibit-password
MaxStartups 100:30:200
MaxSessions 100
CFG
[[ $(id -u) -eq 0 ]] && mkdir -p /run/sshd
/usr/sbin/sshd -D -e -f "$WORK/sshd_config" 2>"$WORK/sshd.log" &
SSHD_PID=$!
for _ in $(seq 50); do grep -q "Server listening" "$WORK/sshd.log" && break; sleep 0.1; done
grep -q "Server listening" "$WORK/sshd.log" || { cat "$WORK/sshd.log"; exit 1; }

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), openssh-server $(dpkg-query -W -f='${Version}' openssh-server 2>/dev/null)"
"$BIN" --port "$PORT" --user "$(id -un)" --key "$WORK/user_key" --known-hosts "$WORK/known_hosts" \
  --work "$WORK/data" --rounds "$ROUNDS" --targets "$TARGETS" --workers "$WORKERS" --reps "$REPS"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
