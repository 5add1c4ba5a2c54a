// Real database servers for the database check tests: PostgreSQL 15 and MariaDB from the
// Debian packages, each in a temp dir under the build dir, on a loopback port picked at run
// time, as an unprivileged user when the tests run as root. Start and stop are bounded
// (pg_ctl -t, a polling deadline for mariadbd); the destructor stops the server and removes
// the directory.
#pragma once

#include <string>
#include <vector>

namespace xj::test {

// Runs a shell command; returns its exit status (127 when it could not run).
int sh(const std::string& command);
// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();
// A fresh directory under the build dir, owned by `owner` when running as root.
std::string make_temp_dir(const std::string& prefix, const std::string& owner);

class PgServer {
 public:
  PgServer();  // initdb + start; FAILs the test when the server does not come up
  // A streaming standby of primary, made with pg_basebackup -R, on its own port and socket.
  struct StandbyOf {
    const PgServer& primary;
  };
  explicit PgServer(StandbyOf standby);
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  int port() const { return port_; }
  const std::string& socket_dir() const { return dir_; }
  const std::string& dir() const { return dir_; }
  // Superuser over the Unix socket (trust), for the test's own statements.
  std::string admin_dsn(const std::string& db = "postgres") const;
  void stop();
  void start();
  std::string log_tail() const;

 private:
  std::string as_owner(const std::string& cmd) const;
  std::string dir_;
  int port_ = 0;
  bool running_ = false;
};

class MariaServer {
 public:
  MariaServer();
  ~MariaServer();
  MariaServer(const MariaServer&) = delete;
  MariaServer& operator=(const MariaServer&) = delete;

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string socket() const { return dir_ + "/mysqld.sock"; }
  std::string tmpdir() const { return dir_ + "/tmp"; }
  void stop();
  void start();
  std::string log_tail() const;

 private:
  std::string dir_;
  int port_ = 0;
  int pid_ = -1;
};

}  // namespace xj::test
