#include "detail/metric_rules_config.hpp"

#include <cctype>
#include <set>

#include "xj/common/config_section.hpp"

namespace xj::alerts::detail {
namespace {

// The names the built-in rules give their alerts: a metric rule must not take one, or its
// alerts would be matched (silences, routes: rule=status) and fingerprinted as theirs.
constexpr const char* kReserved[] = {"status", "no_data", "flapping", "external", "alertmanager"};

void check_name(const ConfigSection& s, const std::string& name) {
  if (name.empty())
    s.fail("name",
           "every rule needs a name (its alerts carry it; routes and silences match rule=NAME)");
  for (unsigned char c : name) {
    // Chinese names are fine; blanks, quotes and matcher operators are not.
    const bool ok = c >= 0x80 || std::isalnum(c) || c == '-' || c == '_' || c == '.';
    if (!ok)
      s.fail("name", "'" + name + "' is not a rule name; use letters, digits, '-', '_' or '.'");
  }
  for (const char* r : kReserved) {
    if (name == r) s.fail("name", "'" + name + "' is the name of a built-in rule; choose another");
  }
}

MetricRule parse_rule(const ConfigSection& s, std::chrono::milliseconds default_recover) {
  s.allow_only({"name", "expr", "for", "recover_for", "severity", "match", "summary"});
  MetricRule rule;
  rule.name = s.str("name");
  check_name(s, rule.name);
  if (!s.has("expr"))
    s.fail("expr", "a rule needs its expression, e.g. 'disk.used_pct{mount=\"/data\"} > 90'");
  auto expr = parse_metric_expr(s.str("expr"));
  if (!expr) s.fail("expr", expr.error());
  rule.expr = std::move(expr).value();
  const std::chrono::milliseconds zero{0};
  rule.hold_for = s.duration("for", zero, zero);
  rule.recover_for = s.duration("recover_for", default_recover, zero);
  const std::string sev = s.str("severity", "warning");
  if (sev != "warning" && sev != "critical")
    s.fail("severity", "'" + sev + "' is not warning or critical");
  rule.severity = sev == "critical" ? Status::kCritical : Status::kWarning;
  if (s.has("match")) {
    if (s.node()["match"].IsMap()) {
      // {system: 存证平台}: each an equality, the value taken as written (no operators in it).
      for (const auto& [name, value] : s.map("match"))
        rule.match.push_back(Matcher{name, "=", value, nullptr});
    } else {
      for (const auto& text : s.list("match")) {
        auto m = parse_matcher(text);
        if (!m) s.fail("match", m.error());
        rule.match.push_back(std::move(m).value());
      }
    }
  }
  rule.summary = s.str("summary");
  return rule;
}

}  // namespace

void parse_metric_rules(const ConfigSection& a, AlertsConfig& cfg) {
  if (!a.has("rules")) return;
  const YAML::Node list = a.node()["rules"];
  if (!list.IsSequence())
    a.fail("rules", "must be a list of rules {name, expr, for, severity, ...}");
  std::set<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    ConfigSection s(list[i], a.file(), a.where() + ".rules[" + std::to_string(i) + "]");
    MetricRule rule = parse_rule(s, cfg.rules.recover_for);
    if (!names.insert(rule.name).second)
      s.fail("name", "rule '" + rule.name + "' is defined twice");
    cfg.rules.metric_rules.push_back(std::move(rule));
  }
}

}  // namespace xj::alerts::detail
