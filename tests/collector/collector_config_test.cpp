#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "xj/collector/config.hpp"
#include "xj/common/config_error.hpp"

using namespace xj;

namespace {
std::string write(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::path(XJ_BINARY_DIR) / "collector_config_test";
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::ofstream(p) << text;
  return p.string();
}
std::string error_of(const std::string& path) {
  try {
    load_collector_config(path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}
}  // namespace

TEST_CASE("a collector config loads with its defaults", "[collector-config]") {
  auto cfg = load_collector_config(write("good.yaml", R"(collector:
  listen: 127.0.0.1:0
  store: /tmp/x.db
  heartbeat: 10s
contract:
  customer: 某市市场监督管理局
)"));
  CHECK(cfg.http.listen == "127.0.0.1:0");
  CHECK(cfg.heartbeat == std::chrono::seconds(10));
  CHECK(cfg.missed_heartbeats == 3);
  CHECK(cfg.raw_retention_days == 14);
  CHECK(cfg.timezone == "Asia/Shanghai");
  CHECK(cfg.customer == "某市市场监督管理局");
  // The chain view's defaults: lag as FISCO's tools judge it, silent after 3 intervals.
  CHECK(cfg.chains.host == "collector");
  CHECK(cfg.chains.lag_warn == 10);
  CHECK(cfg.chains.lag_crit == 30);
  CHECK(cfg.chains.stale_intervals == 3);
}

TEST_CASE("the chains section sets the chain view's thresholds and host", "[collector-config]") {
  auto cfg = load_collector_config(write("chains.yaml", R"(collector:
  listen: 127.0.0.1:0
chains:
  host: xunjian-collector
  lag_warn: 3
  lag_crit: 8
  stale_intervals: 5
  interval: 30s
)"));
  CHECK(cfg.chains.host == "xunjian-collector");
  CHECK(cfg.chains.lag_warn == 3);
  CHECK(cfg.chains.lag_crit == 8);
  CHECK(cfg.chains.stale_intervals == 5);
  CHECK(cfg.chains.interval == std::chrono::seconds(30));
}

TEST_CASE("broken collector configs name file, line and key", "[collector-config]") {
  struct Case {
    const char* yaml;
    int line;
    const char* expected;
  };
  const Case cases[] = {
      {"collector:\n  lisen: 0.0.0.0:8443\n", 2, "unknown key 'lisen'"},
      {"collector:\n  listen: 8443\n", 2, "key 'listen'"},
      {"collector:\n  tls:\n    cert_file: /x.crt\n", 3, "tls needs both cert_file and key_file"},
      {"collector:\n  heartbeat: soon\n", 2, "key 'heartbeat'"},
      {"collector:\n  raw_retention_days: 0\n", 2, "key 'raw_retention_days'"},
      {"collector:\n  max_body: 1KB\n", 2, "key 'max_body'"},
      {"contract:\n  timezone: Mars/Olympus\n", 2, "key 'timezone'"},
      {"contract:\n  deadline: {}\n", 2, "unknown key 'deadline'"},
      {"contract:\n  deadlines: {P9: {respond: 1m}}\n", 2, "unknown key 'P9'"},
      {"colector: {}\n", 1, "unknown key 'colector'"},
      {"chains:\n  lag_warn: 20\n  lag_crit: 5\n", 3, "key 'lag_crit': lag_crit (5) must not be below lag_warn (20)"},
      {"chains:\n  lag: 3\n", 2, "unknown key 'lag'"},
      {"chains:\n  stale_intervals: 0\n", 2, "key 'stale_intervals'"},
  };
  int i = 0;
  for (const auto& c : cases) {
    auto path = write("bad-" + std::to_string(i++) + ".yaml", c.yaml);
    std::string e = error_of(path);
    INFO(c.yaml << "\n-> " << e);
    CHECK(e.rfind(path + ":" + std::to_string(c.line) + ": ", 0) == 0);
    CHECK(e.find(c.expected) != std::string::npos);
  }
}

TEST_CASE("the contract's deadlines in collector.yaml reach the incidents", "[collector-config]") {
  auto cfg = load_collector_config(write("deadlines.yaml", R"(collector:
  store: /tmp/x.db
contract:
  customer: 某市市场监督管理局
  deadlines:
    P1: {respond: 15m, repair: 1h}
alerts:
  incidents: {open_levels: [P1]}
)"));
  CHECK(cfg.alerts.incidents.deadlines[0].respond == std::chrono::minutes(15));
  CHECK(cfg.alerts.incidents.deadlines[0].repair == std::chrono::hours(1));
  CHECK(cfg.alerts.incidents.deadlines[1].repair == std::chrono::hours(3));  // P2 keeps the default
  CHECK(cfg.alerts.incidents.open_levels.size() == 1);
}
