#!/usr/bin/env bash
# The Debian packages, built and installed for real (issue 8): cpack makes both .debs from
# this build tree; dpkg -i installs them on this machine; the test checks files, conffiles,
# the system user, dependencies and the installed binaries (--version, validate on the
# shipped configs, a one-shot check run); dpkg --purge removes everything it added.
# Needs root (dpkg). The packages come from the build under test (in CI: the sanitizer build),
# so their Depends also name libasan/libubsan; scripts/package.sh makes the Release ones.
#
#   deb_install_test.sh <build dir> <source dir>
set -euo pipefail
BUILD=$1
SRC=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

[[ $(id -u) -eq 0 ]] || fail "must run as root to install packages with dpkg (CI runs as root)"
for p in xunjian-agent xunjian-collector; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok"; then
    fail "$p is already installed on this machine; this test would replace it — remove it first"
  fi
done

WORK=$(mktemp -d "$BUILD/deb-test.XXXXXX")
cleanup() {
  dpkg --purge xunjian-agent xunjian-collector >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# 1. Build. A private package dir so parallel runs and old packages do not interfere.
(cd "$BUILD" && cpack -G DEB -B "$WORK/pkg" >"$WORK/cpack.log" 2>&1) || { cat "$WORK/cpack.log"; fail "cpack failed"; }
VER=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt")
AGENT_DEB="$WORK/pkg/xunjian-agent_${VER}_amd64.deb"
COLLECTOR_DEB="$WORK/pkg/xunjian-collector_${VER}_amd64.deb"
[[ -f "$AGENT_DEB" ]] || fail "no $AGENT_DEB; made: $(ls "$WORK/pkg")"
[[ -f "$COLLECTOR_DEB" ]] || fail "no $COLLECTOR_DEB"
pass "cpack made $(basename "$AGENT_DEB") and $(basename "$COLLECTOR_DEB")"

# 2. What is inside, before installing.
for deb in "$AGENT_DEB" "$COLLECTOR_DEB"; do
  name=$(dpkg-deb -f "$deb" Package)
  depends=$(dpkg-deb -f "$deb" Depends)
  [[ "$depends" == *libc6* && "$depends" == *adduser* ]] ||
    fail "$name Depends lacks libc6/adduser (dpkg-shlibdeps not run?): $depends"
  # SQLite: a dependency exactly when the binary links libsqlite3.so (the agent may carry
  # SQLite inside, XJ_AGENT_STATIC_SQLITE).
  bin=$BUILD/agent/xunjian-agent
  [[ $name == xunjian-collector ]] && bin=$BUILD/collector/xunjian-collector
  if readelf -d "$bin" | grep -q 'NEEDED.*libsqlite3'; then
    [[ "$depends" == *libsqlite3-0* ]] || fail "$name links libsqlite3.so but does not depend on libsqlite3-0: $depends"
  else
    [[ "$depends" != *libsqlite3-0* ]] || fail "$name carries SQLite inside but depends on libsqlite3-0: $depends"
  fi
  [[ "$depends" == *libyaml-cpp0.7* && "$depends" == *libssl3* ]] || fail "$name Depends: $depends"
  [[ "$(dpkg-deb -f "$deb" Architecture)" == amd64 ]] || fail "$name is not amd64"
  # Listings go to variables first: grep -q closing a pipe early fails it under pipefail.
  contents=$(dpkg-deb -c "$deb")
  if grep -q -- "$BUILD\|$SRC" <<<"$contents"; then fail "$name holds build-tree paths"; fi
  control=$(dpkg-deb --ctrl-tarfile "$deb" | tar -t)
  grep -q '^./conffiles$' <<<"$control" || fail "$name has no conffiles"
  pass "$name: Depends from shlibdeps ($depends)"
done
grep -q './usr/bin/xunjianctl$' <<<"$(dpkg-deb -c "$COLLECTOR_DEB")" || fail "collector package lacks xunjianctl"
# The database client libraries are loaded on demand: recommended by the agent, required by
# neither package.
for deb in "$AGENT_DEB" "$COLLECTOR_DEB"; do
  depends=$(dpkg-deb -f "$deb" Depends)
  for lib in libpq5 libmariadb3 libodbc2; do
    [[ "$depends" != *"$lib"* ]] || fail "$(dpkg-deb -f "$deb" Package) Depends on $lib: $depends"
  done
done
recommends=$(dpkg-deb -f "$AGENT_DEB" Recommends)
for lib in libpq5 libmariadb3 libodbc2; do
  [[ "$recommends" == *"$lib"* ]] || fail "xunjian-agent does not recommend $lib: '$recommends'"
done
pass "database client libraries: recommended by the agent ($recommends), in no Depends"

# 3. Install both.
dpkg -i "$AGENT_DEB" "$COLLECTOR_DEB" >"$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log"; fail "dpkg -i failed"; }
pass "dpkg -i installed both"

for f in /usr/bin/xunjian-agent /usr/bin/xunjian-collector /usr/bin/xunjianctl; do
  [[ -x $f ]] || fail "$f missing or not executable"
  dyn=$(readelf -d "$f")
  if grep -q 'RPATH\|RUNPATH' <<<"$dyn"; then fail "$f carries an RPATH: $(grep PATH <<<"$dyn")"; fi
done
for f in /etc/xunjian/agent.yaml /etc/xunjian/collector.yaml \
         /lib/systemd/system/xunjian-agent.service /lib/systemd/system/xunjian-collector.service \
         /usr/share/doc/xunjian-agent/checks.md /usr/share/doc/xunjian-collector/install.md; do
  [[ -f $f ]] || fail "$f missing"
done
[[ "$(dpkg-query -W -f='${Conffiles}' xunjian-agent)" == *"/etc/xunjian/agent.yaml"* ]] || fail "agent.yaml is not a conffile"
[[ "$(dpkg-query -W -f='${Conffiles}' xunjian-collector)" == *"/etc/xunjian/collector.yaml"* ]] || fail "collector.yaml is not a conffile"
pass "binaries, configs (conffiles), units and docs in place"

getent passwd xunjian >/dev/null || fail "postinst made no xunjian user"
[[ "$(getent passwd xunjian | cut -d: -f7)" == */nologin || "$(getent passwd xunjian | cut -d: -f7)" == /bin/false ]] ||
  fail "xunjian user has a login shell: $(getent passwd xunjian)"
[[ "$(stat -c %U:%G:%a /var/lib/xunjian)" == xunjian:xunjian:750 ]] || fail "/var/lib/xunjian is $(stat -c %U:%G:%a /var/lib/xunjian)"
[[ "$(stat -c %G:%a /etc/xunjian/agent.yaml)" == xunjian:640 ]] || fail "agent.yaml is $(stat -c %G:%a /etc/xunjian/agent.yaml)"
[[ "$(stat -c %U:%G:%a /var/log/xunjian)" == xunjian:xunjian:750 ]] || fail "/var/log/xunjian is $(stat -c %U:%G:%a /var/log/xunjian 2>&1)"
pass "system user xunjian (no login), /var/lib/xunjian and /var/log/xunjian xunjian:xunjian 0750"
for u in xunjian-agent xunjian-collector; do
  grep -qx 'LogsDirectory=xunjian' /lib/systemd/system/$u.service || fail "$u.service does not make /var/log/xunjian writable"
done
grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' /lib/systemd/system/xunjian-collector.service || fail "collector unit has no reload (log reopen)"

if command -v systemd-analyze >/dev/null; then
  # The units must parse; missing binaries would be reported too, so this runs after install.
  out=$(systemd-analyze verify /lib/systemd/system/xunjian-agent.service /lib/systemd/system/xunjian-collector.service 2>&1 || true)
  if grep -qi "unknown\|invalid\|failed\|bad" <<<"$out"; then fail "systemd-analyze verify: $out"; fi
  pass "systemd-analyze verify found nothing wrong with the units"
fi

# 4. The installed binaries work, as the service user where it matters.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
for b in xunjian-agent xunjian-collector xunjianctl; do
  v=$(/usr/bin/$b --version 2>&1) || fail "$b --version failed: $v"
  grep -q "$VER" <<<"$v" || fail "$b --version says '$v', not $VER"
done
runuser -u xunjian -- /usr/bin/xunjian-agent validate -c /etc/xunjian/agent.yaml || fail "validate of the shipped agent.yaml as xunjian"
runuser -u xunjian -- /usr/bin/xunjian-collector validate -c /etc/xunjian/collector.yaml || fail "validate of the shipped collector.yaml as xunjian"
set +e
runuser -u xunjian -- /usr/bin/xunjian-agent check -c /etc/xunjian/agent.yaml --only memory >"$WORK/check.out" 2>&1
rc=$?
set -e
((rc <= 3)) || { cat "$WORK/check.out"; fail "xunjian-agent check exited $rc"; }
grep -q "memory" "$WORK/check.out" || { cat "$WORK/check.out"; fail "check printed no memory row"; }
pass "installed binaries: --version, validate of the shipped configs and a check run as user xunjian"

# log_file: as the service user the agent writes its log under /var/log/xunjian. The config
# is in /tmp: the build tree may not be readable by the xunjian user.
LOGCFG=$(mktemp /tmp/xj-agent-logfile.XXXXXX)
sed -e 's|^  # log_file: |  log_file: |' -e 's|^  metrics_listen: .*|  metrics_listen: off|' \
  /etc/xunjian/agent.yaml >"$LOGCFG"
chmod 0644 "$LOGCFG"
grep -q '^  log_file: {path: /var/log/xunjian/agent.log' "$LOGCFG" || fail "the shipped agent.yaml has no log_file example"
set +e
runuser -u xunjian -- timeout -s TERM 5 /usr/bin/xunjian-agent run -c "$LOGCFG" >"$WORK/run.out" 2>&1
set -e
rm -f "$LOGCFG"
grep -q 'event=agent_started' /var/log/xunjian/agent.log 2>/dev/null || { cat "$WORK/run.out"; fail "the agent wrote no start line to /var/log/xunjian/agent.log"; }
[[ "$(stat -c %U /var/log/xunjian/agent.log)" == xunjian ]] || fail "agent.log is owned by $(stat -c %U /var/log/xunjian/agent.log)"
pass "log_file: the agent as user xunjian logs to /var/log/xunjian/agent.log"

# A conffile edited by the operator survives a reinstall of the same package.
echo "# edited on site" >>/etc/xunjian/agent.yaml
dpkg -i --force-confold "$AGENT_DEB" >"$WORK/dpkg2.log" 2>&1 || { cat "$WORK/dpkg2.log"; fail "reinstall failed"; }
grep -q "edited on site" /etc/xunjian/agent.yaml || fail "reinstall overwrote the edited agent.yaml"
pass "an edited conffile survives reinstalling"

# 5. Purge: nothing of ours is left.
mkdir -p /var/lib/xunjian/log_scan && touch /var/lib/xunjian/spool.db /var/lib/xunjian/collector.db
touch /var/log/xunjian/agent.log.1 /var/log/xunjian/collector.log /var/log/xunjian/collector.log.2
dpkg --purge xunjian-agent xunjian-collector >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; fail "dpkg --purge failed"; }
for f in /usr/bin/xunjian-agent /usr/bin/xunjian-collector /usr/bin/xunjianctl /etc/xunjian \
         /lib/systemd/system/xunjian-agent.service /var/lib/xunjian /var/log/xunjian; do
  [[ ! -e $f ]] || fail "$f is left after purge"
done
getent passwd xunjian >/dev/null && fail "the xunjian user is left after purging both packages"
pass "purge removed binaries, configs, state, logs and the xunjian user"
echo "PASS"
