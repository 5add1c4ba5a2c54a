// Real processes for the end-to-end tests of xunjianctl and of the Prometheus scrape: a
// temporary directory, child processes with a bounded life, and a running
// `xunjian-collector serve` (the built binary) on a port it picked itself.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "xj/common/http_client.hpp"

extern char** environ;

namespace xj::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "xj-ctl-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The environment of this process without the variables a test sets itself, plus `extra`.
inline std::vector<std::string> child_env(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view v = *e;
    if (v.rfind("XJ_", 0) == 0) continue;
    env.emplace_back(v);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// A child with stdout and stderr in files; killed (TERM, then KILL) when destroyed.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
               fs::path out, fs::path err)
      : out_(std::move(out)), err_(std::move(err)) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const auto env = child_env(extra_env);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    INFO("spawn " << argv[0]);
    REQUIRE(rc == 0);
  }
  ~ChildProcess() { stop(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The exit code, or -signal; waits at most `limit`, then kills and reports -SIGKILL.
  int wait(std::chrono::milliseconds limit) {
    if (pid_ <= 0) return status_;
    const auto end = std::chrono::steady_clock::now() + limit;
    while (true) {
      int st = 0;
      const pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        pid_ = 0;
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
        return status_;
      }
      if (std::chrono::steady_clock::now() >= end) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &st, 0);
        pid_ = 0;
        status_ = -SIGKILL;
        return status_;
      }
      std::this_thread::sleep_for(10ms);
    }
  }
  bool running() {
    if (pid_ <= 0) return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) != pid_) return true;
    pid_ = 0;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    return false;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    wait(10s);
  }
  std::string out() const { return read_text(out_); }
  std::string err() const { return read_text(err_); }

 private:
  fs::path out_, err_;
  pid_t pid_ = 0;
  int status_ = 0;
};

struct Run {
  int code = 0;
  std::string out, err;
};

// Runs a command to its end (at most 60 s, for slow sanitizer builds) and collects it.
inline Run run(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
               const fs::path& scratch) {
  static int n = 0;
  const std::string tag = std::to_string(++n);
  ChildProcess p(argv, extra_env, scratch / ("run" + tag + ".out"), scratch / ("run" + tag + ".err"));
  Run r;
  r.code = p.wait(60s);
  r.out = p.out();
  r.err = p.err();
  return r;
}

// A loopback TCP port that was free a moment ago (bind to 0, read it, close). For servers
// that cannot report the port they bound; callers retry if it got taken in between.
inline std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A self-signed certificate for 127.0.0.1 made by the openssl CLI; it is its own CA file.
struct TestCert {
  std::string cert, key;
};
inline TestCert make_test_cert(const fs::path& dir) {
  TestCert c{(dir / "tls.crt").string(), (dir / "tls.key").string()};
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout '" +
      c.key + "' -out '" + c.cert + "' 2>'" + (dir / "openssl.log").string() + "'";
  INFO(cmd << "\n" << read_text(dir / "openssl.log"));
  REQUIRE(std::system(cmd.c_str()) == 0);
  return c;
}

// `xunjian-collector serve` on 127.0.0.1:0 with a fresh store, an agent token for web-01 and
// db-02 and a viewer API token; HTTPS when given a certificate. The port is the one the
// collector logs at start, so no other process can take it in between. `extra_yaml` is appended
// to collector.yaml (top-level sections such as console: or alerts:).
class RunningCollector {
 public:
  explicit RunningCollector(const fs::path& dir, const TestCert* tls = nullptr, const std::string& extra_yaml = "")
      : dir_(dir) {
    std::string tls_yaml;
    if (tls != nullptr) {
      tls_yaml = "  tls: {cert_file: " + tls->cert + ", key_file: " + tls->key + "}\n";
      ca_file_ = tls->cert;
    }
    write_text(dir_ / "collector.yaml",
               "collector:\n  listen: 127.0.0.1:0\n" + tls_yaml + "  store: " + (dir_ / "collector.db").string() +
                   "\ncontract:\n  customer: 某市市场监督管理局\n  timezone: Asia/Shanghai\n" + extra_yaml);
    agent_token_ = token({"--agent", "web-01"});
    db_token_ = token({"--agent", "db-02"});
    viewer_token_ = token({"--api", "ops", "--role", "viewer"});
    server_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{XJ_COLLECTOR_BIN, "serve", "-c", (dir_ / "collector.yaml").string()},
        std::vector<std::string>{}, dir_ / "serve.out", dir_ / "serve.err");
    const std::regex started(R"(event=collector_started .* port=(\d+))");
    const auto end = std::chrono::steady_clock::now() + 30s;
    std::smatch m;
    std::string log;
    while (std::chrono::steady_clock::now() < end && server_->running()) {
      log = server_->err();
      if (std::regex_search(log, m, started)) break;
      std::this_thread::sleep_for(20ms);
    }
    INFO("collector log:\n" << server_->err());
    REQUIRE(std::regex_search(log, m, started));
    port_ = static_cast<std::uint16_t>(std::stoi(m[1].str()));
  }

  std::string url() const {
    return (ca_file_.empty() ? "http://127.0.0.1:" : "https://127.0.0.1:") + std::to_string(port_);
  }
  std::uint16_t port() const { return port_; }
  const std::string& agent_token() const { return agent_token_; }
  const std::string& db_token() const { return db_token_; }
  const std::string& viewer_token() const { return viewer_token_; }

  // POST /api/v1/results; returns the HTTP status (0 when the request failed).
  int ingest(const nlohmann::json& batch, const std::string& token) const {
    HttpClientRequest req;
    req.method = "POST";
    req.url = url() + "/api/v1/results";
    req.headers = {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
    req.body = batch.dump();
    req.ca_file = ca_file_;
    auto r = http_request(req);
    INFO((r ? r->body : r.error()));
    return r ? r->status : 0;
  }

  // A new API token (`xunjian-collector token create --api NAME --role ROLE`).
  std::string api_token(const std::string& name, const std::string& role) {
    return token({"--api", name, "--role", role});
  }
  // `xunjian-collector ARGS -c collector.yaml` (audit list, audit verify, ...).
  Run cli(std::vector<std::string> args) const {
    args.insert(args.begin(), XJ_COLLECTOR_BIN);
    args.insert(args.end(), {"-c", (dir_ / "collector.yaml").string()});
    return run(args, {}, dir_);
  }

  // GET with the viewer token, for comparing against what xunjianctl printed.
  std::string get(const std::string& target) const {
    HttpClientRequest req;
    req.url = url() + target;
    req.headers = {{"Authorization", "Bearer " + viewer_token_}};
    req.ca_file = ca_file_;
    auto r = http_request(req);
    REQUIRE(r.ok());
    REQUIRE(r->status == 200);
    return r->body;
  }

 private:
  std::string token(const std::vector<std::string>& who) {
    std::vector<std::string> argv{XJ_COLLECTOR_BIN, "token", "create", "-c", (dir_ / "collector.yaml").string()};
    argv.insert(argv.end(), who.begin(), who.end());
    Run r = run(argv, {}, dir_);
    INFO(r.err);
    REQUIRE(r.code == 0);
    std::string t = r.out;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
    REQUIRE(!t.empty());
    return t;
  }

  fs::path dir_;
  std::string agent_token_, db_token_, viewer_token_, ca_file_;
  std::unique_ptr<ChildProcess> server_;
  std::uint16_t port_ = 0;
};

}  // namespace xj::test
