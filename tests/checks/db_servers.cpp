#include "db_servers.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace xj::test {
namespace {

constexpr const char* kPgBin = "/usr/lib/postgresql/15/bin";

bool is_root() { return ::geteuid() == 0; }

std::string tail_of(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

}  // namespace

int sh(const std::string& command) {
  int rc = std::system(command.c_str());
  if (rc == -1) return 127;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string make_temp_dir(const std::string& prefix, const std::string& owner) {
  const auto base = std::filesystem::path(XJ_BINARY_DIR) / "db-tests";
  std::filesystem::create_directories(base);
  std::string tmpl = (base / (prefix + "-XXXXXX")).string();
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  if (is_root()) {
    const passwd* pw = ::getpwnam(owner.c_str());
    REQUIRE(pw != nullptr);
    REQUIRE(::chown(tmpl.c_str(), pw->pw_uid, pw->pw_gid) == 0);
  }
  return tmpl;
}

// ---- PostgreSQL ----

std::string PgServer::as_owner(const std::string& cmd) const {
  return is_root() ? "runuser -u postgres -- " + cmd : cmd;
}

PgServer::PgServer() : dir_(make_temp_dir("pg", "postgres")), port_(free_port()) {
  const std::string data = dir_ + "/data";
  int rc = sh(as_owner(std::string(kPgBin) + "/initdb -D " + data +
                       " -U postgres -A trust --auth-host=scram-sha-256 --no-sync -E UTF8 > " +
                       dir_ + "/initdb.log 2>&1"));
  INFO(tail_of(dir_ + "/initdb.log"));
  REQUIRE(rc == 0);
  std::ofstream conf(data + "/postgresql.conf", std::ios::app);
  // Small and quiet: no autovacuum (it would change sizes under the test), fast deadlock
  // detection, a standby-capable WAL level.
  conf << "port = " << port_ << "\nlisten_addresses = '127.0.0.1'\n"
       << "unix_socket_directories = '" << dir_ << "'\n"
       << "autovacuum = off\ndeadlock_timeout = 100ms\nfsync = off\nmax_connections = 20\n"
       << "shared_buffers = 16MB\nwal_level = replica\nmax_wal_senders = 4\n"
       << "track_activity_query_size = 1024\n";
  conf.close();
  std::ofstream hba(data + "/pg_hba.conf", std::ios::app);
  hba << "local replication all trust\n";
  hba.close();
  start();
}

PgServer::PgServer(StandbyOf standby)
    : dir_(make_temp_dir("pgstandby", "postgres")), port_(free_port()) {
  const PgServer& primary = standby.primary;
  const std::string data = dir_ + "/data";
  int rc = sh(as_owner(std::string(kPgBin) + "/pg_basebackup -D " + data + " -h " +
                       primary.socket_dir() + " -p " + std::to_string(primary.port()) +
                       " -U postgres -R -X stream -c fast > " + dir_ + "/basebackup.log 2>&1"));
  INFO(tail_of(dir_ + "/basebackup.log"));
  REQUIRE(rc == 0);
  // The copied postgresql.conf names the primary's port and socket; later lines win.
  std::ofstream conf(data + "/postgresql.conf", std::ios::app);
  conf << "port = " << port_ << "\nunix_socket_directories = '" << dir_ << "'\n"
       << "hot_standby = on\n";
  conf.close();
  start();
}

PgServer::~PgServer() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PgServer::admin_dsn(const std::string& db) const {
  return "host=" + dir_ + " port=" + std::to_string(port_) + " user=postgres dbname=" + db;
}

void PgServer::start() {
  int rc = sh(as_owner(std::string(kPgBin) + "/pg_ctl -D " + dir_ + "/data -l " + dir_ +
                       "/server.log -w -t 30 start > /dev/null 2>&1"));
  INFO(log_tail());
  REQUIRE(rc == 0);
  running_ = true;
}

void PgServer::stop() {
  if (!running_) return;
  sh(as_owner(std::string(kPgBin) + "/pg_ctl -D " + dir_ + "/data -m fast -w -t 30 stop > " +
              "/dev/null 2>&1"));
  running_ = false;
}

std::string PgServer::log_tail() const { return tail_of(dir_ + "/server.log"); }

// ---- MariaDB ----

MariaServer::MariaServer() : dir_(make_temp_dir("maria", "mysql")), port_(free_port()) {
  // Each server has its own tmpdir: two servers bootstrapping at once with the shared /tmp
  // failed ("Could not remove temporary table '/tmp/#sql-temptable-...'", ERROR 1051 Unknown
  // table 'mysql.tmp_user_sys'), the cause of this fixture's rare failures in CI runs.
  std::filesystem::create_directory(tmpdir());
  if (is_root()) {
    const passwd* pw = ::getpwnam("mysql");
    REQUIRE(pw != nullptr);
    REQUIRE(::chown(tmpdir().c_str(), pw->pw_uid, pw->pw_gid) == 0);
  }
  const std::string user = is_root() ? " --user=mysql" : "";
  int rc = sh("mariadb-install-db --no-defaults --tmpdir=" + tmpdir() + " --datadir=" + dir_ + "/data" + user +
              " --auth-root-authentication-method=normal --skip-test-db > " + dir_ +
              "/install.log 2>&1");
  INFO(tail_of(dir_ + "/install.log"));
  REQUIRE(rc == 0);
  start();
}

MariaServer::~MariaServer() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void MariaServer::start() {
  const std::string data = "--datadir=" + dir_ + "/data", sock = "--socket=" + socket(),
                    port = "--port=" + std::to_string(port_),
                    err = "--log-error=" + dir_ + "/error.log",
                    pid = "--pid-file=" + dir_ + "/mysqld.pid", tmp = "--tmpdir=" + tmpdir();
  std::vector<std::string> args = {"/usr/sbin/mariadbd", "--no-defaults", data, sock, port,
                                   "--bind-address=127.0.0.1", err, pid, tmp,
                                   "--innodb-buffer-pool-size=16M", "--skip-log-bin",
                                   "--skip-name-resolve", "--long-query-time=0.5",
                                   "--max-connections=30", "--innodb-flush-log-at-trx-commit=0"};
  if (is_root()) args.push_back("--user=mysql");
  pid_ = ::fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    ::setsid();
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (sh("mariadb-admin --no-defaults --socket=" + socket() +
           " -uroot --connect-timeout=1 ping > /dev/null 2>&1") == 0) {
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FAIL("mariadbd exited at start: " << log_tail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL("mariadbd did not answer within 30s: " << log_tail());
}

void MariaServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  pid_ = -1;
}

std::string MariaServer::log_tail() const { return tail_of(dir_ + "/error.log"); }

}  // namespace xj::test
