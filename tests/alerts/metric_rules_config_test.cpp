// alerts.rules of collector.yaml: defaults, host matchers in both forms, and errors that name
// file, line, key and, for an expression, the column in it.
#include <catch2/catch.hpp>
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
  return "(accepted)";
}

}  // namespace

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
