// The report keys of collector.yaml's contract section, read through the collector's loader.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "xj/collector/config.hpp"
#include "xj/common/config_error.hpp"

using namespace xj;

namespace {

std::string write(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::path(XJ_BINARY_DIR) / "contract_config_test";
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::ofstream(p) << text;
  return p.string();
}

std::string error_of(const std::string& text) {
  try {
    load_collector_config(write("bad.yaml", text));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("the contract section names customer, systems, term, target, standards and schedules",
          "[contract-config]") {
  auto cfg = load_collector_config(write("contract.yaml", R"(collector:
  store: /tmp/x.db
contract:
  customer: 某市市场监督管理局
  service_company: 某某信息技术有限公司
  systems:
    - {name: 区块链知识产权保护平台, match: {system: ipr}}
    - {name: 数据共享平台, match: {system: share, env: prod}}
  term: {from: 2026-03-01, to: 2026-10-31}
  targets: {availability: 99.95%}
  standards: {cpu: 70%, disk: 85%, disk_full_days: 14, db_connections: 75%, backup_age: 30h,
              long_query: 5m, block_interval: 90s, chain_lag: 20}
  reports:
    locale: en
    dir: /var/lib/xunjian/reports
    weekly: {weekday: tuesday, at: "09:30"}
    monthly: {day: 2}
)"));
  const auto& c = cfg.contract;
  CHECK(c.customer == "某市市场监督管理局");
  CHECK(c.service_company == "某某信息技术有限公司");
  REQUIRE(c.systems.size() == 2);
  CHECK(c.systems[1].match.at("env") == "prod");
  CHECK(c.term_from == "2026-03-01");
  CHECK(c.term_to == "2026-10-31");
  CHECK(c.availability_target == Approx(99.95));
  CHECK(c.standards.cpu_pct == 70);
  CHECK(c.standards.memory_pct == 90);  // default
  CHECK(c.standards.db_connections_pct == 75);
  CHECK(c.standards.backup_age_h == Approx(30));
  CHECK(c.standards.long_query_s == Approx(300));
  CHECK(c.standards.block_interval_s == Approx(90));
  CHECK(c.standards.chain_lag_blocks == 20);
  CHECK(c.standards.tablespace_pct == 85);      // default
  CHECK(c.standards.replication_lag_s == 30);  // default
  CHECK(c.standards.disk_full_days == 14);
  CHECK(c.locale == "en");
  CHECK(c.weekly.weekday == 2);
  CHECK(c.weekly.hour == 9);
  CHECK(c.weekly.minute == 30);
  CHECK(c.monthly.day == 2);
  CHECK(c.monthly.hour == 8);
}

TEST_CASE("without a contract section the reports use the defaults", "[contract-config]") {
  auto cfg = load_collector_config(write("empty.yaml", "collector:\n  store: /tmp/x.db\n"));
  CHECK(cfg.contract.availability_target == Approx(99.9));
  CHECK(cfg.contract.locale == "zh-CN");
  CHECK(cfg.contract.weekly.weekday == 1);
  CHECK(cfg.contract.monthly.day == 1);
  CHECK(cfg.contract.availability_kinds.size() == 4);
}

TEST_CASE("broken contract sections name file, line and key", "[contract-config]") {
  struct Case {
    const char* yaml;
    const char* expected;
  };
  const Case cases[] = {
      {"contract:\n  term: {from: 2026-02-30}\n", "bad.yaml:2: contract.term: key 'from': '2026-02-30' must be a date"},
      {"contract:\n  term: {from: 2026-05-01, to: 2026-04-01}\n", "key 'to': the term ends (2026-04-01) before it begins"},
      {"contract:\n  targets:\n    availability: 101%\n", "bad.yaml:3: contract.targets: key 'availability'"},
      {"contract:\n  systems:\n    - {name: a}\n", "bad.yaml:3: contract.systems[0]: key 'match'"},
      {"contract:\n  systems:\n    - {name: a, match: {s: 1}}\n    - {name: a, match: {s: 2}}\n",
       "bad.yaml:4: contract.systems[1]: key 'name': system 'a' is named twice"},
      {"contract:\n  systems: {name: a}\n", "key 'systems': must be a list"},
      {"contract:\n  standards: {cpu: 85%, dsk: 80%}\n", "unknown key 'dsk'; allowed: cpu, memory, disk, disk_full_days, db_connections"},
      {"contract:\n  standards:\n    backup_age: soon\n", "bad.yaml:3: contract.standards: key 'backup_age'"},
      {"contract:\n  standards:\n    chain_lag: 0\n", "bad.yaml:3: contract.standards: key 'chain_lag'"},
      {"contract:\n  standards:\n    db_connections: 180%\n", "bad.yaml:3: contract.standards: key 'db_connections'"},
      {"contract:\n  reports:\n    locale: fr\n", "bad.yaml:3: contract.reports: key 'locale': 'fr' is not a report locale"},
      {"contract:\n  reports:\n    weekly: {weekday: funday}\n", "key 'weekday': 'funday' is not a day name"},
      {"contract:\n  reports:\n    monthly: {at: '8am'}\n", "key 'at': '8am' must be a local time like 08:00"},
      {"contract:\n  availability_kinds: []\n", "key 'availability_kinds': must name at least one"},
  };
  for (const auto& c : cases) {
    INFO(c.yaml);
    CHECK_THAT(error_of(c.yaml), Catch::Matchers::Contains(c.expected));
  }
}
