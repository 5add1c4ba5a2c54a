// The alerts: section of collector.yaml: defaults, secrets only from files or the environment,
// and errors that name file, line and key.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <yaml-cpp/yaml.h>

#include "xj/alerts/alerts_config.hpp"
#include "xj/common/config_error.hpp"
#include "xj/common/config_section.hpp"

using namespace xj;
using namespace xj::alerts;

namespace {

AlertsConfig parse(const std::string& yaml) {
  YAML::Node root = YAML::Load(yaml);
  return parse_alerts_config(ConfigSection(root, "collector.yaml", "").section("alerts"));
}

std::string error_of(const std::string& yaml) {
  try {
    parse(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("no alerts section means alerting is off") {
  CHECK_FALSE(parse("collector: {}\n").enabled);
}

TEST_CASE("rule timings default to 0 for critical and host down and 2m for warning") {
  ::setenv("XJ_CFG_TEST_KEY", "k-123", 1);
  auto c = parse("alerts:\n  channels:\n    - {name: ops, type: wecom, key_env: XJ_CFG_TEST_KEY}\n");
  CHECK(c.enabled);
  CHECK(c.rules.for_critical.count() == 0);
  CHECK(c.rules.for_host_down.count() == 0);
  CHECK(c.rules.for_warning == std::chrono::minutes(2));
  CHECK(c.rules.no_data_intervals == 3);
  REQUIRE(c.channels.size() == 1);
  CHECK(c.channels[0].key == "k-123");
  CHECK(c.channels[0].rate_per_minute == 20);
}

TEST_CASE("channel secrets are read from a file") {
  ::setenv("XJ_CFG_TEST_KEY", "k-123", 1);  // ctest runs each case alone: set what it reads
  auto file = std::filesystem::temp_directory_path() / ("xj-secret-" + std::to_string(::getpid()));
  std::ofstream(file) << "SECabc  \n";
  auto c = parse("alerts:\n  channels:\n    - name: ding\n      type: dingtalk\n      key_env: XJ_CFG_TEST_KEY\n"
                 "      secret_file: " + file.string() + "\n");
  CHECK(c.channels.at(0).secret == "SECabc");
  std::filesystem::remove(file);
}

TEST_CASE("a secret written inline is refused, naming file, line and key") {
  auto e = error_of("alerts:\n  channels:\n    - name: ops\n      type: wecom\n      key: abc\n");
  CHECK_THAT(e, Catch::StartsWith("collector.yaml:5: alerts.channels[0]: key 'key'"));
  CHECK_THAT(e, Catch::Contains("key_file"));
}

TEST_CASE("an unknown channel type and an unknown key are errors with their line") {
  CHECK_THAT(error_of("alerts:\n  channels:\n    - {name: x, type: dingding}\n"),
             Catch::Contains("collector.yaml:3: alerts.channels[0]: key 'type': 'dingding' is not one of"));
  CHECK_THAT(error_of("alerts:\n  for_warnin: 2m\n"),
             Catch::Contains("collector.yaml:2: alerts: unknown key 'for_warnin'"));
}

TEST_CASE("a route must name configured channels and real severities") {
  ::setenv("XJ_CFG_TEST_KEY", "k", 1);
  const std::string chans = "alerts:\n  channels:\n    - {name: ops, type: wecom, key_env: XJ_CFG_TEST_KEY}\n";
  CHECK_THAT(error_of(chans + "  routes:\n    - {severity: [critical], channels: [sms]}\n"),
             Catch::Contains("no channel named 'sms'"));
  CHECK_THAT(error_of(chans + "  routes:\n    - {severity: [ok], channels: [ops]}\n"),
             Catch::Contains("'ok' is not one of critical, warning, unknown"));
  auto c = parse(chans + "  routes:\n    - {severity: [critical, warning], channels: [ops]}\n");
  REQUIRE(c.routes.size() == 1);
  CHECK(c.routes[0].severities.count(Status::kCritical) == 1);
  CHECK(c.routes[0].severities.count(Status::kUnknown) == 0);
}

namespace {

ContractDeadlines deadlines(const std::string& yaml) {
  YAML::Node root = YAML::Load(yaml);
  return parse_contract_deadlines(ConfigSection(root, "collector.yaml", "").section("contract").section("deadlines"));
}

std::string deadline_error(const std::string& yaml) {
  try {
    deadlines(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("contract deadlines default to respond 30m, repair 2h for P1, 3h for P2, 12h for P3 and P4") {
  auto d = deadlines("contract: {customer: x}\n");
  for (const auto& l : d) CHECK(l.respond == std::chrono::minutes(30));
  CHECK(d[0].repair == std::chrono::hours(2));
  CHECK(d[1].repair == std::chrono::hours(3));
  CHECK(d[2].repair == std::chrono::hours(12));
  CHECK(d[3].repair == std::chrono::hours(12));
}

TEST_CASE("contract deadlines given per level replace only what they name") {
  auto d = deadlines("contract:\n  deadlines:\n    P1: {respond: 15m, repair: 1h}\n    P3: {repair: 24h}\n");
  CHECK(d[0].respond == std::chrono::minutes(15));
  CHECK(d[0].repair == std::chrono::hours(1));
  CHECK(d[1].repair == std::chrono::hours(3));
  CHECK(d[2].respond == std::chrono::minutes(30));
  CHECK(d[2].repair == std::chrono::hours(24));
}

TEST_CASE("a bad contract deadline names file, line and key") {
  CHECK_THAT(deadline_error("contract:\n  deadlines:\n    P5: {respond: 1m}\n"),
             Catch::Contains("collector.yaml:3: contract.deadlines: unknown key 'P5'"));
  CHECK_THAT(deadline_error("contract:\n  deadlines:\n    P2:\n      respond: soon\n"),
             Catch::Contains("collector.yaml:4: contract.deadlines.P2: key 'respond'"));
  CHECK_THAT(deadline_error("contract:\n  deadlines:\n    P2: {respond: 2h, repair: 1h}\n"),
             Catch::Contains("shorter than the response deadline"));
}

TEST_CASE("incident levels, open_levels and notice channels are read from alerts.incidents") {
  ::setenv("XJ_CFG_TEST_KEY", "k", 1);
  const std::string chans = "alerts:\n  channels:\n    - {name: ops, type: wecom, key_env: XJ_CFG_TEST_KEY}\n";
  auto c = parse(chans +
                 "  incidents:\n"
                 "    open_levels: [P1, P2, P3]\n"
                 "    auto_resolve: false\n"
                 "    channels: [ops]\n"
                 "    levels:\n"
                 "      - {severity: [warning], labels: {role: db}, level: P2}\n"
                 "      - {check: 'host:alive', level: P1}\n");
  CHECK(c.incidents.open_levels.size() == 3);
  CHECK_FALSE(c.incidents.auto_resolve);
  CHECK(c.incidents.channels == std::vector<std::string>{"ops"});
  REQUIRE(c.incidents.levels.size() == 2);
  Alert a;
  a.severity = Status::kWarning;
  a.labels = {{"role", "db"}};
  CHECK(level_for(c.incidents, a) == IncidentLevel::kP2);
  a.labels = {{"role", "app"}};
  CHECK(level_for(c.incidents, a) == IncidentLevel::kP4);
  a.check = "host:alive";
  CHECK(level_for(c.incidents, a) == IncidentLevel::kP1);
  CHECK_THAT(error_of(chans + "  incidents:\n    levels:\n      - {severity: [critical], level: P9}\n"),
             Catch::Contains("collector.yaml:6: alerts.incidents.levels[0]: key 'level': 'P9' is not one of P1, P2, P3, P4"));
  CHECK_THAT(error_of(chans + "  incidents:\n    channels: [sms]\n"), Catch::Contains("no channel named 'sms'"));
}

TEST_CASE("repeat_interval defaults to 30 minutes, 0 turns reminders off, and under a minute is refused") {
  CHECK(parse("alerts: {}\n").repeat_interval == std::chrono::minutes(30));
  CHECK(parse("alerts:\n  repeat_interval: 0s\n").repeat_interval.count() == 0);
  CHECK_THAT(error_of("alerts:\n  repeat_interval: 10s\n"),
             Catch::Contains("collector.yaml:2: alerts: key 'repeat_interval'"));
  CHECK_THAT(error_of("alerts:\n  holidays: [2026-13-01]\n"), Catch::Contains("'2026-13-01' is not a date"));
  CHECK(parse("alerts:\n  holidays: [2026-10-01]\n").holidays.count("2026-10-01") == 1);
}

TEST_CASE("alerts.grouping and alerts.storm: defaults, values, errors naming file, line and key") {
  const auto d = parse("alerts:\n  locale: en\n");
  CHECK(d.sender.grouping.by == std::vector<std::string>{"host"});
  CHECK(d.sender.grouping.window == std::chrono::seconds(10));
  CHECK(d.sender.storm.threshold == 20);
  CHECK(d.sender.message.locale == "en");
  const auto c = parse("alerts:\n  grouping: {by: [system, check], window: 0s}\n  storm: {threshold: 0, interval: 30s}\n");
  CHECK(c.sender.grouping.by == std::vector<std::string>{"system", "check"});
  CHECK(c.sender.grouping.window.count() == 0);
  CHECK(c.sender.storm.threshold == 0);
  CHECK(c.sender.storm.interval == std::chrono::seconds(30));
  CHECK_THAT(error_of("alerts:\n  grouping:\n    by: [hots]\n"),
             Catch::Contains("collector.yaml:3: alerts.grouping: key 'by': 'hots' is not one of host, system, check"));
  CHECK_THAT(error_of("alerts:\n  grouping:\n    window: 1h\n"),
             Catch::Contains("collector.yaml:3: alerts.grouping: key 'window'"));
  CHECK_THAT(error_of("alerts:\n  storm:\n    threshold: -1\n"), Catch::Contains("collector.yaml:3: alerts.storm: key 'threshold'"));
  CHECK_THAT(error_of("alerts:\n  storm: {thresold: 3}\n"), Catch::Contains("unknown key 'thresold'"));
}

// alerts.rules: metric rules, with the column of an expression error.
TEST_CASE("metric rules are read with their for, severity, recover_for, match and summary") {
  auto c = parse(
      "alerts:\n"
      "  recover_for: 1m\n"
      "  rules:\n"
      "    - name: disk-almost-full\n"
      "      expr: 'disk.used_pct{mount=\"/data\"} > 90'\n"
      "      for: 5m\n"
      "      severity: critical\n"
      "      recover_for: 2m\n"
      "      match: {system: 存证平台}\n"
      "      summary: \"数据盘使用率 {{value}}，超过 {{threshold}}\"\n"
      "    - name: 慢接口\n"
      "      expr: http.latency_ms > 500ms\n"
      "      match: [\"host=~web-.*\", \"check!=http:health\"]\n");
  REQUIRE(c.rules.metric_rules.size() == 2);
  const MetricRule& a = c.rules.metric_rules[0];
  CHECK(a.name == "disk-almost-full");
  CHECK(a.expr.text == "disk.used_pct{mount=\"/data\"} > 90");
  CHECK(a.expr.terms.at(0).matchers.at(0).value == "/data");
  CHECK(a.hold_for == std::chrono::minutes(5));
  CHECK(a.severity == Status::kCritical);
  CHECK(a.recover_for == std::chrono::minutes(2));
  REQUIRE(a.match.size() == 1);
  CHECK(a.match[0].str() == "system=存证平台");
  CHECK(a.summary == "数据盘使用率 {{value}}，超过 {{threshold}}");
  const MetricRule& b = c.rules.metric_rules[1];
  CHECK(b.name == "慢接口");
  CHECK(b.hold_for.count() == 0);                   // default: at once
  CHECK(b.severity == Status::kWarning);            // default
  CHECK(b.recover_for == std::chrono::minutes(1));  // default: alerts.recover_for
  REQUIRE(b.match.size() == 2);
  CHECK(b.match[0].op == "=~");
  CHECK(b.match[1].str() == "check!=http:health");
  CHECK(b.summary.empty());
}

TEST_CASE("a map matcher takes its value as written, operators and all") {
  auto c = parse("alerts:\n  rules:\n    - {name: x, expr: disk.used_pct > 90, match: {role: '~db'}}\n");
  const Matcher& m = c.rules.metric_rules.at(0).match.at(0);
  CHECK(m.op == "=");
  CHECK(m.value == "~db");
}

TEST_CASE("a bad expression names file, line, key and the column in the expression") {
  CHECK(error_of("alerts:\n"
                 "  rules:\n"
                 "    - name: a\n"
                 "      expr: disk.used_pct > 90\n"
                 "    - name: b\n"
                 "      expr: disk.used_pct > 80\n"
                 "    - name: c\n"
                 "      expr: disk.used_pct=90\n") ==
        "collector.yaml:8: alerts.rules[2]: key 'expr': expected a comparison operator after 'disk.used_pct' at "
        "column 14");
  CHECK(error_of("alerts:\n  rules:\n    - name: a\n      expr: disk.used_pct > 2GiB\n") ==
        "collector.yaml:4: alerts.rules[0]: key 'expr': '2GiB' is a size, but disk.used_pct is in % at column 17");
}

TEST_CASE("rule errors name the key: missing, duplicate, reserved names, severities, matchers") {
  const std::pair<const char*, const char*> cases[] = {
      {"alerts:\n  rules: {name: a}\n",
       "collector.yaml:2: alerts: key 'rules': must be a list of rules {name, expr, for, severity, ...}"},
      {"alerts:\n  rules:\n    - expr: disk.used_pct > 90\n",
       "collector.yaml:3: alerts.rules[0]: key 'name': every rule needs a name"},
      {"alerts:\n  rules:\n    - name: a\n",
       "collector.yaml:3: alerts.rules[0]: key 'expr': a rule needs its expression, e.g. "},
      {"alerts:\n  rules:\n    - {name: a, expr: disk.used_pct > 90}\n    - {name: a, expr: disk.used_pct > 95}\n",
       "collector.yaml:4: alerts.rules[1]: key 'name': rule 'a' is defined twice"},
      {"alerts:\n  rules:\n    - {name: status, expr: disk.used_pct > 90}\n",
       "collector.yaml:3: alerts.rules[0]: key 'name': 'status' is the name of a built-in rule; choose another"},
      {"alerts:\n  rules:\n    - {name: disk full, expr: disk.used_pct > 90}\n",
       "collector.yaml:3: alerts.rules[0]: key 'name': 'disk full' is not a rule name; use letters, digits, '-', '_' or '.'"},
      {"alerts:\n  rules:\n    - name: a\n      expr: disk.used_pct > 90\n      severity: unknown\n",
       "collector.yaml:5: alerts.rules[0]: key 'severity': 'unknown' is not warning or critical"},
      {"alerts:\n  rules:\n    - name: a\n      expr: disk.used_pct > 90\n      for: soon\n",
       "collector.yaml:5: alerts.rules[0]: key 'for': "},
      {"alerts:\n  rules:\n    - name: a\n      expr: disk.used_pct > 90\n      match: [system]\n",
       "collector.yaml:5: alerts.rules[0]: key 'match': matcher 'system' has no name and operator"},
      {"alerts:\n  rules:\n    - name: a\n      expr: disk.used_pct > 90\n      treshold: 90\n",
       "collector.yaml:5: alerts.rules[0]: unknown key 'treshold'"},
  };
  for (const auto& [yaml, want] : cases) {
    INFO(yaml);
    CHECK_THAT(error_of(yaml), Catch::StartsWith(want));
  }
}
