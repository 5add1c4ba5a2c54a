#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "xj/agent/config.hpp"
#include "xj/common/config_error.hpp"

using namespace xj;

namespace {
std::string write_config(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::path(XJ_BINARY_DIR) / "config_test" / name;
  std::filesystem::create_directories(dir);
  auto path = dir / "agent.yaml";
  std::ofstream(path) << text;
  return path.string();
}
}  // namespace

TEST_CASE("a good config loads with defaults applied", "[config]") {
  auto path = write_config("good", R"(agent:
  id: web-01
  labels: {system: 区块链平台, role: db}
  state_dir: /tmp/xj-state
defaults: {interval: 30s, timeout: 5s}
checks:
  - kind: load
  - kind: load
    id: load-fast
    interval: 10s
    labels: {role: app}
)");
  AgentConfig cfg = load_agent_config(path);
  CHECK(cfg.id == "web-01");
  REQUIRE(cfg.checks.size() == 2);
  CHECK(cfg.checks[0].interval == std::chrono::seconds(30));
  CHECK(cfg.checks[0].timeout == std::chrono::seconds(5));
  CHECK(cfg.checks[0].labels.at("system") == "区块链平台");
  CHECK(cfg.checks[1].interval == std::chrono::seconds(10));
  CHECK(cfg.checks[1].labels.at("role") == "app");
}

TEST_CASE("the agent id defaults to the hostname", "[config]") {
  auto path = write_config("hostname", "checks:\n  - kind: load\n");
  CHECK(load_agent_config(path).id == local_hostname());
}

TEST_CASE("checks in conf.d beside the config are added in file order", "[config]") {
  auto path = write_config("confd", "checks:\n  - kind: load\n");
  auto dir = std::filesystem::path(path).parent_path() / "conf.d";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "10-extra.yaml") << "checks:\n  - kind: load\n    id: load-extra\n";
  AgentConfig cfg = load_agent_config(path);
  REQUIRE(cfg.checks.size() == 2);
  CHECK(cfg.checks[1].check->id() == "load-extra");
  CHECK(cfg.checks[1].source.find("10-extra.yaml:2") != std::string::npos);
}
