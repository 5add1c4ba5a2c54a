// Test tools shared by the agent, collector and integration tests: our real binaries as child processes (collector, agent, the
// collector's CLI), a TCP relay that can cut the network between them, and bounded waits.
// Every wait has a deadline and every child is killed when its owner goes out of scope, so a
// failing test never hangs CI or leaves a daemon behind.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "xj/common/http_client.hpp"

extern char** environ;

namespace xj::itest {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

inline const std::string kCollector = std::string(XJ_BINARY_DIR) + "/collector/xunjian-collector";
inline const std::string kAgent = std::string(XJ_BINARY_DIR) + "/agent/xunjian-agent";

// An empty dir for one test, unique per process so parallel ctest runs do not collide.
inline fs::path scratch_dir(const std::string& name) {
  auto dir = fs::path(XJ_BINARY_DIR) / "integration" / (name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

// Sets an environment variable for the children this test starts; unset again on scope exit.
class EnvVar {
 public:
  EnvVar(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~EnvVar() { ::unsetenv(name_); }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;

 private:
  const char* name_;
};

inline bool wait_until(std::chrono::milliseconds limit, const std::function<bool()>& cond) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return cond();
}

// A port free right now on 127.0.0.1 (the kernel picks it). Used where a daemon must come back
// on the same port after a restart, so the port cannot be 0 in its config.
inline std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A program as a child process, stdout and stderr to `log`; SIGKILLed on scope exit.
class Child {
 public:
  Child(const std::string& binary, const std::vector<std::string>& args, const fs::path& log) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<char*> argv{const_cast<char*>(binary.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, binary.c_str(), &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Child() { kill(SIGKILL); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  bool running() {
    if (pid_ <= 0) return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == 0) return true;
    status_ = st;
    pid_ = -1;
    return false;
  }
  // Sends `sig` and reaps the child; true if it was running.
  bool kill(int sig) {
    if (pid_ <= 0) return false;
    ::kill(pid_, sig);
    ::waitpid(pid_, &status_, 0);
    pid_ = -1;
    return true;
  }
  // The raw wait status once exited within `limit`; nullopt if still running.
  std::optional<int> wait_status(std::chrono::milliseconds limit) {
    if (!wait_until(limit, [&] { return !running(); })) return std::nullopt;
    return status_;
  }
  // Exit code (128 + signal when killed) once exited within `limit`; nullopt if still running.
  std::optional<int> wait_exit(std::chrono::milliseconds limit) {
    auto st = wait_status(limit);
    if (!st) return std::nullopt;
    return WIFEXITED(*st) ? WEXITSTATUS(*st) : 128 + WTERMSIG(*st);
  }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
};

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

// Runs a program to completion (at most 30 s), capturing its output.
inline RunResult run(const std::string& binary, const std::vector<std::string>& args,
                     const fs::path& scratch) {
  auto log = scratch / ("run-" + std::to_string(::getpid()) + ".out");
  fs::remove(log);
  RunResult r;
  {
    Child c(binary, args, log);
    auto code = c.wait_exit(30s);
    r.exit_code = code ? *code : -1;
  }
  r.out = slurp(log);
  return r;
}

// Lines of a run's output that are neither empty nor the CLI's explanation on stderr: the
// token that `token create` prints is its only line starting with "xj".
inline std::string token_line(const std::string& out) {
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("xj", 0) == 0) return line;
  }
  return "";
}

struct Http {
  long status = 0;
  std::string body;
  std::string error;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

inline Http http(const std::string& method, const std::string& url, const std::string& token = "",
                 const std::string& body = "", const std::string& content_type = "application/json",
                 const std::string& ca_file = "") {
  HttpClientRequest req;
  req.ca_file = ca_file;
  req.method = method;
  req.url = url;
  req.body = body;
  req.timeout = 5s;
  if (!token.empty()) req.headers.push_back({"Authorization", "Bearer " + token});
  if (!body.empty()) req.headers.push_back({"Content-Type", content_type});
  auto r = http_request(req);
  if (!r) return {0, "", r.error()};
  return {r->status, r->body, ""};
}

// Runs one SQL query that returns one integer, read-only, as any other process would.
inline std::optional<std::int64_t> sql_int(const fs::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::optional<std::int64_t> v;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
      v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return v;
}

// A TCP relay on 127.0.0.1 in front of `target_port`: the agent talks to the relay, and the
// test cuts the link (`set_up(false)`: open connections are dropped and new ones are closed at
// once) to make the collector unreachable while it keeps running.
class Relay {
 public:
  explicit Relay(std::uint16_t target_port) : target_(target_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_fd_, 64);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~Relay() {
    stop_ = true;
    thread_.join();
    for (auto& p : pairs_) close_pair(p);
    ::close(listen_fd_);
  }
  std::uint16_t port() const { return port_; }
  void set_up(bool up) { up_ = up; }

 private:
  struct Pair {
    int a = -1, b = -1;
  };
  static void close_pair(Pair& p) {
    if (p.a >= 0) ::close(p.a);
    if (p.b >= 0) ::close(p.b);
    p.a = p.b = -1;
  }
  int connect_target() const {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(target_);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  // Moves what is readable on `from` to `to`; false when the connection is over.
  static bool pump(int from, int to) {
    char buf[16384];
    long n = ::recv(from, buf, sizeof buf, 0);
    if (n <= 0) return false;
    for (long off = 0; off < n;) {
      long w = ::send(to, buf + off, static_cast<std::size_t>(n - off), MSG_NOSIGNAL);
      if (w <= 0) return false;
      off += w;
    }
    return true;
  }
  void loop() {
    while (!stop_) {
      if (!up_) {
        for (auto& p : pairs_) close_pair(p);
        pairs_.clear();
      }
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
      for (auto& p : pairs_) {
        fds.push_back({p.a, POLLIN, 0});
        fds.push_back({p.b, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      const std::size_t polled = pairs_.size();  // fds covers these; an accepted one waits
      if (fds[0].revents & POLLIN) {
        int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          int t = up_ ? connect_target() : -1;
          if (t < 0) {
            ::close(c);
          } else {
            pairs_.push_back({c, t});
          }
        }
      }
      std::vector<Pair> alive(pairs_.begin() + static_cast<long>(polled), pairs_.end());
      for (std::size_t i = 0; i < polled; ++i) {
        Pair p = pairs_[i];
        bool ok = true;
        if (fds[1 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR)) ok = ok && pump(p.a, p.b);
        if (ok && (fds[2 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR))) ok = pump(p.b, p.a);
        if (ok) {
          alive.push_back(p);
        } else {
          close_pair(p);
        }
      }
      pairs_ = std::move(alive);
    }
  }

  std::uint16_t target_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> up_{true};
  std::atomic<bool> stop_{false};
  std::vector<Pair> pairs_;  // only the relay thread touches these while it runs
  std::thread thread_;
};

}  // namespace xj::itest
