// Table-driven: every broken config is rejected, and the message names the file, the line and
// the key, so the engineer can go straight to it.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "xj/agent/config.hpp"
#include "xj/common/config_error.hpp"

using namespace xj;

namespace {

struct BrokenConfig {
  const char* what;
  const char* yaml;
  int line;              // expected line in the message
  const char* expected;  // text the message must contain (usually the key)
};

// Line numbers count from 1 at the first line of `yaml`.
const BrokenConfig kBroken[] = {
    {"unknown top-level section", "agent: {id: a}\ncolector: {url: x}\n", 2,
     "unknown key 'colector'; allowed: agent, collector, defaults, checks"},
    {"unknown key in agent", "agent:\n  id: a\n  stat_dir: /tmp\n", 3, "agent: unknown key 'stat_dir'"},
    {"bad log level", "agent:\n  log_level: loud\n", 2, "key 'log_level': 'loud'"},
    {"threads out of range", "agent:\n  threads: 0\n", 2, "key 'threads'"},
    {"max_rss not a size", "agent:\n  limits:\n    max_rss: lots\n", 3, "agent.limits: key 'max_rss'"},
    {"max_cpu over 100%", "agent:\n  limits:\n    max_cpu: 150%\n", 3, "key 'max_cpu'"},
    {"relative exec_allow entry", "agent:\n  exec_allow:\n    - check_disk\n", 3, "key 'exec_allow'"},
    {"empty agent id", "agent:\n  id: ''\n", 2, "key 'id': must not be empty"},
    {"labels not a map", "agent:\n  labels: [a, b]\n", 2, "key 'labels'"},
    {"metrics_listen without port", "agent:\n  metrics_listen: localhost\n", 2, "key 'metrics_listen'"},
    {"default interval not a duration", "defaults:\n  interval: often\n", 2, "defaults: key 'interval'"},
    {"default interval too short", "defaults:\n  interval: 100ms\n", 2, "key 'interval': must be at least 1s"},
    {"unknown key in defaults", "defaults:\n  intervall: 30s\n", 2, "unknown key 'intervall'"},
    {"checks not a list", "checks:\n  kind: load\n", 2, "checks: must be a list"},
    {"check without kind", "checks:\n  - id: x\n    warn: 2\n", 2, "checks[0]: missing required key 'kind'"},
    {"unknown check kind", "checks:\n  - kind: lod\n", 2, "checks[0]: key 'kind': unknown check kind 'lod'"},
    {"misspelt key in a check", "checks:\n  - kind: load\n  - kind: load\n    id: l2\n    treshold: 3\n", 5,
     "checks[1] (load): unknown key 'treshold'; allowed: warn, crit"},
    {"threshold that is not a number", "checks:\n  - kind: load\n    warn: high\n", 3,
     "checks[0] (load): key 'warn': 'high' is not a number"},
    {"reversed Nagios range", "checks:\n  - kind: load\n    crit: '5:1'\n", 3, "key 'crit'"},
    {"check interval too short", "checks:\n  - kind: load\n    interval: 500ms\n", 3,
     "key 'interval': must be at least 1s"},
    {"enabled not a boolean", "checks:\n  - kind: load\n    enabled: maybe\n", 3, "key 'enabled'"},
    {"duplicate check id", "checks:\n  - kind: load\n  - kind: load\n", 3, "duplicate check id 'load'"},
    {"check that is not a map", "checks:\n  - load\n", 2, "checks[0]: a check must be a map"},
    {"collector url that is not a URL", "collector:\n  url: collector:8443\n", 2, "collector: key 'url'"},
    {"plain http to a remote collector", "collector:\n  url: http://10.0.0.5:8443\n  token_file: /dev/null\n", 2,
     "plain http to another host"},
    {"collector without token file", "collector:\n  url: https://c:8443\n", 2, "key 'token_file': is required"},
    {"unreadable token file", "collector:\n  url: https://c:8443\n  token_file: /nonexistent/agent.token\n", 3,
     "cannot read '/nonexistent/agent.token'"},
    {"unknown key in collector", "collector:\n  url: https://c:8443\n  tokenfile: x\n", 3, "unknown key 'tokenfile'"},
    {"YAML syntax error", "agent:\n  id: [unclosed\nchecks: []\n", 3, "YAML syntax error"},
};

std::string error_of(const std::string& path) {
  try {
    load_agent_config(path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("every broken config is rejected naming file, line and key", "[config]") {
  auto dir = std::filesystem::path(XJ_BINARY_DIR) / "config_errors_test";
  std::filesystem::create_directories(dir);
  int index = 0;
  for (const auto& c : kBroken) {
    auto path = dir / ("agent-" + std::to_string(index++) + ".yaml");
    std::ofstream(path) << c.yaml;
    std::string msg = error_of(path.string());
    INFO(c.what << "\nmessage: " << msg);
    std::string prefix = path.string() + ":" + std::to_string(c.line) + ": ";
    CHECK(msg.rfind(prefix, 0) == 0);
    CHECK(msg.find(c.expected) != std::string::npos);
  }
  CHECK(std::size(kBroken) >= 15);
}

TEST_CASE("an error in a conf.d file names that file", "[config]") {
  auto dir = std::filesystem::path(XJ_BINARY_DIR) / "config_errors_test" / "confd";
  std::filesystem::create_directories(dir / "conf.d");
  std::ofstream(dir / "agent.yaml") << "checks:\n  - kind: load\n";
  std::ofstream(dir / "conf.d" / "db.yaml") << "checks:\n  - kind: load\n    id: x\n    warn: soon\n";
  std::string msg = error_of((dir / "agent.yaml").string());
  CHECK(msg.rfind((dir / "conf.d" / "db.yaml").string() + ":4: checks[0] (load): key 'warn'", 0) == 0);
}

TEST_CASE("a missing config file is named in the error", "[config]") {
  std::string msg = error_of("/nonexistent/agent.yaml");
  CHECK(msg == "/nonexistent/agent.yaml: file not found");
}
