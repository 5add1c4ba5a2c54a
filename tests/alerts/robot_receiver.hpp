// tests/fixtures/robot_receiver.py as a child process: a local stand-in for the WeCom,
// DingTalk and Feishu robots that enforces their documented protocol. Killed on scope exit.
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
#include <vector>

extern char** environ;

namespace xj::alerts::test {

namespace fs = std::filesystem;

class RobotReceiver {
 public:
  // extra: more receiver options, e.g. {"--fail", "3", "--fail-mode", "500"}.
  RobotReceiver(const fs::path& dir, std::vector<std::string> extra = {}, std::uint16_t port = 0)
      : dir_(dir), log_(dir / "receiver.jsonl"), port_file_(dir / "receiver.port") {
    fs::create_directories(dir_);
    fs::remove(port_file_);
    std::vector<std::string> args{"python3", std::string(XJ_SOURCE_DIR) + "/tests/fixtures/robot_receiver.py",
                                  "--port-file", port_file_.string(), "--log", log_.string(),
                                  "--port", std::to_string(port)};
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
  ~RobotReceiver() { stop(); }
  RobotReceiver(const RobotReceiver&) = delete;
  RobotReceiver& operator=(const RobotReceiver&) = delete;

  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  std::uint16_t port() const { return port_; }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Every line the receiver logged so far.
  std::vector<nlohmann::json> entries() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(log_);
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded()) out.push_back(j);
    }
    return out;
  }
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
  fs::path dir_, log_, port_file_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace xj::alerts::test
