// The Python fixture servers as child processes: local stand-ins for the WeCom, DingTalk and
// Feishu robots, SMS gateways and an SMTP server, enforcing their documented protocols.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace xj::alerts::test {

namespace fs = std::filesystem;

// A fresh directory for one test under the build tree.
inline fs::path scratch(const std::string& name) {
  auto d = fs::path(XJ_BINARY_DIR) / "alerts-tests" / (name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Epoch ms now, for channels that sign with the time.
inline std::int64_t wall() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A Python fixture server from tests/fixtures (robot_receiver.py, sms_receiver.py,
// smtp_receiver.py): started with --port-file and --log, waited for until it listens, killed
// on scope exit. Each logs one JSON line per request.
class FixtureProcess {
 public:
  FixtureProcess(const fs::path& dir, const std::string& script, std::vector<std::string> extra)
      : dir_(dir),
        log_(dir / (fs::path(script).stem().string() + ".jsonl")),
        port_file_(dir / (fs::path(script).stem().string() + ".port")) {
    fs::create_directories(dir_);
    fs::remove(port_file_);
    std::vector<std::string> args{"python3", std::string(XJ_SOURCE_DIR) + "/tests/fixtures/" + script,
                                  "--port-file", port_file_.string(), "--log", log_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    REQUIRE(posix_spawnp(&pid_, "python3", nullptr, nullptr, argv.data(), environ) == 0);
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (!fs::exists(port_file_) && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(fs::exists(port_file_));
    std::ifstream(port_file_) >> port_;
  }
  ~FixtureProcess() { stop(); }
  FixtureProcess(const FixtureProcess&) = delete;
  FixtureProcess& operator=(const FixtureProcess&) = delete;

  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  std::uint16_t port() const { return port_; }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Every line the fixture logged so far.
  std::vector<nlohmann::json> entries() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(log_);
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded()) out.push_back(j);
    }
    return out;
  }
  // The lines with "accepted": true / false (sms_receiver.py, smtp_receiver.py).
  std::vector<nlohmann::json> with_accepted(bool accepted) const {
    std::vector<nlohmann::json> out;
    for (auto& e : entries()) {
      if (e.value("accepted", !accepted) == accepted) out.push_back(e);
    }
    return out;
  }

 private:
  fs::path dir_, log_, port_file_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

// tests/fixtures/robot_receiver.py: the WeCom, DingTalk and Feishu stand-in.
class RobotReceiver : public FixtureProcess {
 public:
  // extra: more receiver options, e.g. {"--fail", "3", "--fail-mode", "500"}.
  RobotReceiver(const fs::path& dir, std::vector<std::string> extra = {}, std::uint16_t port = 0)
      : FixtureProcess(dir, "robot_receiver.py", with_port(std::move(extra), port)) {}

  std::vector<nlohmann::json> accepted(const std::string& service) const {
    std::vector<nlohmann::json> out;
    for (auto& e : entries()) {
      if (e.value("service", "") == service) out.push_back(e);
    }
    return out;
  }
  std::vector<nlohmann::json> rejected() const {
    std::vector<nlohmann::json> out;
    for (auto& e : entries()) {
      if (e.contains("rejected")) out.push_back(e);
    }
    return out;
  }

 private:
  static std::vector<std::string> with_port(std::vector<std::string> extra, std::uint16_t port) {
    extra.insert(extra.begin(), {"--port", std::to_string(port)});
    return extra;
  }
};

}  // namespace xj::alerts::test
