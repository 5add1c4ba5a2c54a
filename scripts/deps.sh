#!/usr/bin/env bash
# Installs what is missing to build Xunjian (and, with --test, to run its tests).
# Idempotent: packages already installed are left alone; `apt-get update` runs only when
# something has to be installed. Debian bookworm packages only.
#
#   scripts/deps.sh          build dependencies
#   scripts/deps.sh --test   build + test dependencies (test servers, monitoring-plugins, ...)
#   scripts/deps.sh --package  build + what scripts/package.sh needs
set -euo pipefail

BUILD_PKGS=(
  cmake ninja-build g++ ccache pkg-config
  curl python3            # scripts/demo.sh talks to the collector with them
  libboost-dev            # Boost.Asio (agent scheduler), Boost.Beast (collector, HTTP client)
  prometheus-cpp-dev      # /metrics
  libsqlite3-dev          # spool and embedded store
  nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libcli11-dev
  libssl-dev              # TLS (HTTP client, collector), SM3
  zlib1g-dev              # gzip bodies between agent and collector
  libssh2-1-dev           # agentless inspection over SSH
  libcurl4-openssl-dev    # e-mail alerts over SMTP (collector only; the agent does not link it)
  libpq-dev               # postgres check
  libmariadb-dev          # mysql check (MariaDB Connector/C, also talks to MySQL)
  unixodbc-dev            # odbc check (DM, KingbaseES, Oracle, any ODBC driver)
  tzdata                  # contract time zone (daily rollups, reports)
  libkainjow-mustache-dev # report templates (header-only Mustache)
)
TEST_PKGS=(
  catch2
  monitoring-plugins-basic monitoring-plugins-standard   # exec check + check_disk agreement
  python3 openssl         # the http check's test server and its certificate
  procps                  # ps/pgrep used by tests for diagnostics
  prometheus              # real Prometheus server scraping the collector's /metrics
  postgresql mariadb-server   # real database servers for the database check tests
  odbc-postgresql odbc-mariadb  # ODBC drivers for the odbc check tests
  openssh-server openssh-client # real sshd for the agentless (SSH) tests; ssh-keygen makes their keys
  chromium poppler-utils fonts-wqy-zenhei  # PDF reports: real Chromium, pdftotext, a CJK font
)

PACKAGE_PKGS=(
  dpkg-dev adduser        # cpack's DEB generator runs dpkg-shlibdeps; postinst uses adduser
)

want=("${BUILD_PKGS[@]}")
case "${1:-}" in
  --test)
    want+=("${TEST_PKGS[@]}" "${PACKAGE_PKGS[@]}")  # the package test builds .debs
    # npm installs anvil (a real Ethereum node) into the build tree. Debian's nodejs and npm
    # only when no node/npm is there: a machine may carry NodeSource's nodejs, which bundles
    # npm and conflicts with Debian's npm package.
    if ! command -v npm >/dev/null || ! command -v node >/dev/null; then want+=(nodejs npm); fi
    ;;
  --package) want+=("${PACKAGE_PKGS[@]}") ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "deps: all ${#want[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "deps: missing packages: ${missing[*]}" >&2
    echo "deps: not root and no sudo; install them as root and re-run" >&2
    exit 1
  fi
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
