// The metric rules of the rule engine (alerts.rules). Each series a rule selects — one host,
// one check, one set of metric labels — is its own alert with its own fingerprint; it goes
// pending -> firing after the rule's `for` and resolves after `recover_for` of false results.
// Only a result that carries the series and says its condition is false counts towards
// recovery: a result without the metric, an unknown result and a silent check change nothing
// (the check's own no-data alert speaks for silence).
#include <spdlog/spdlog.h>

#include "xj/alerts/message_template.hpp"
#include "xj/alerts/rule_engine.hpp"

namespace xj::alerts {
namespace {

std::string labels_text(const Labels& l) {
  std::string out;
  for (const auto& [k, v] : l) out += (out.empty() ? "" : ", ") + k + "=" + v;
  return out;
}

// The series' values as the alert keeps them: named as the rule names them, without the
// check's own thresholds (the rule's comparison is the threshold here).
void set_values(Alert& a, const MetricRule& rule, const std::vector<const Metric*>& values) {
  a.expr = rule.expr.text;
  a.metrics.clear();
  a.conditions.clear();
  for (std::size_t i = 0; i < values.size(); ++i) {
    const MetricTerm& term = rule.expr.terms[i];
    Metric m = *values[i];
    m.name = term.kind + "." + term.name;
    m.warn.reset();
    m.crit.reset();
    a.conditions.push_back(term.condition(m.unit));
    a.metrics.push_back(std::move(m));
  }
}

// The rule's summary template, or "disk.used_pct{mount=/data} 93.2% > 90%" per comparison.
std::string summary_of(const MetricRule& rule, const Alert& a) {
  if (rule.summary.empty()) {
    std::string out;
    for (std::size_t i = 0; i < a.metrics.size(); ++i) {
      const Metric& m = a.metrics[i];
      const std::string labels = labels_text(m.labels);
      out += (out.empty() ? "" : " and ") + m.name + (labels.empty() ? "" : "{" + labels + "}") +
             " " + format_metric_value(m.value, m.unit) + " " + a.conditions[i];
    }
    return out;
  }
  const Metric& m = a.metrics.at(0);
  const MetricTerm& term = rule.expr.terms.at(0);
  TemplateVars v;
  for (const auto& [k, val] : m.labels) v[k] = val;  // {{mount}}; the names below win
  v["value"] = format_metric_value(m.value, m.unit);
  v["threshold"] = term.threshold_text + (term.dimension == UnitDimension::kNone ? m.unit : "");
  v["op"] = std::string(to_string(term.op));
  v["metric"] = m.name;
  v["labels"] = labels_text(m.labels);
  v["rule"] = rule.name;
  v["host"] = a.host;
  v["check"] = a.check;
  return render_template(rule.summary, v);
}

bool rule_applies(const MetricRule& rule, const Subject& subject, const std::string& check) {
  Alert probe;  // what the rule's alert would be, for the host-level matchers
  probe.kind = AlertKind::kMetric;
  probe.rule = rule.name;
  probe.host = subject.host;
  probe.check = check;
  probe.labels = subject.labels;
  probe.severity = rule.severity;
  for (const auto& m : rule.match) {
    if (!m.matches(probe)) return false;
  }
  return true;
}

}  // namespace

const MetricRule* RuleEngine::metric_rule(const std::string& name) const {
  for (const auto& r : opt_.metric_rules) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

void RuleEngine::restore_metric_alert(Alert a) {
  const MetricRule* rule = metric_rule(a.rule);
  if (rule == nullptr) {
    spdlog::info("event=metric_rule_gone rule={} host={} check={} fingerprint={}", a.rule, a.host,
                 a.check, a.fingerprint);
    retired_.push_back(std::move(a));
    return;
  }
  // Expression and comparisons are not stored: take them from the rule as configured now.
  a.expr = rule->expr.text;
  a.conditions.clear();
  for (std::size_t i = 0; i < a.metrics.size() && i < rule->expr.terms.size(); ++i) {
    a.conditions.push_back(rule->expr.terms[i].condition(a.metrics[i].unit));
  }
  const std::string fp = a.fingerprint;
  active_[fp] = std::move(a);
}

void RuleEngine::evaluate_metrics(const CheckTrack& t, const Result& r,
                                  std::vector<AlertEvent>& out) {
  // A check that could not measure says nothing about its metrics: every series keeps its state.
  if (r.status == Status::kUnknown) return;
  for (const auto& rule : opt_.metric_rules) {
    const auto& terms = rule.expr.terms;
    if (terms.empty() || terms[0].kind != r.kind || !rule_applies(rule, t.subject, r.check))
      continue;
    std::set<Labels> seen;
    for (const auto& m : r.metrics) {
      if (!terms[0].selects(m) || !seen.insert(m.labels).second) continue;
      // The other comparisons of an `and` take the metric with the same labels (PromQL's
      // one-to-one matching); a series one of them lacks is not evaluated at all.
      std::vector<const Metric*> values{&m};
      for (std::size_t i = 1; i < terms.size(); ++i) {
        const Metric* other = nullptr;
        for (const auto& o : r.metrics) {
          if (other == nullptr && terms[i].selects(o) && o.labels == m.labels) other = &o;
        }
        if (other == nullptr) break;
        values.push_back(other);
      }
      if (values.size() != terms.size()) continue;
      bool holds = true, comparable = true;
      for (std::size_t i = 0; i < terms.size(); ++i) {
        const auto h = terms[i].holds(values[i]->value, values[i]->unit);
        if (!h) {
          comparable = false;
          const std::string key =
              rule.name + "\n" + t.subject.host + "\n" + r.check + "\n" + values[i]->name;
          if (unit_warned_.insert(key).second) {
            spdlog::warn(
                "event=metric_rule_unit_mismatch rule={} host={} check={} metric={} unit=\"{}\" "
                "threshold={} reason=\"the threshold is {}, the metric's unit is not\"",
                rule.name, t.subject.host, r.check, values[i]->name, values[i]->unit,
                terms[i].threshold_text, to_string(terms[i].dimension));
          }
          break;
        }
        holds = holds && *h;
      }
      if (comparable) evaluate_series(rule, t, r, values, holds, out);
    }
  }
}

void RuleEngine::evaluate_series(const MetricRule& rule, const CheckTrack& t, const Result& r,
                                 const std::vector<const Metric*>& values, bool holds,
                                 std::vector<AlertEvent>& out) {
  const std::string fp = fingerprint(rule.name, t.subject.host, r.check, values[0]->labels);
  auto it = active_.find(fp);
  Alert* a = it == active_.end() ? nullptr : &it->second;
  if (!holds) {
    if (a == nullptr) return;
    if (a->state == AlertState::kPending) {  // never announced: dropped silently
      set_values(*a, rule, values);
      resolve(*a, r.ts_ms, out);
      return;
    }
    auto [ok, fresh] = metric_ok_since_.try_emplace(fp, r.ts_ms);
    (void)fresh;
    if (r.ts_ms - ok->second < rule.recover_for.count()) return;
    // The summary stays the firing one; the values are the ones it recovered with. The problem
    // lasted until the first false result, not until the hysteresis agreed.
    const std::int64_t back = ok->second;
    metric_ok_since_.erase(ok);
    set_values(*a, rule, values);
    resolve(*a, back, out);
    return;
  }
  metric_ok_since_.erase(fp);
  bool created = false;
  if (a == nullptr) {
    Alert n;
    n.kind = AlertKind::kMetric;
    n.rule = rule.name;
    n.fingerprint = fp;
    n.host = t.subject.host;
    n.check = r.check;
    n.severity = rule.severity;
    n.since_ms = r.ts_ms;
    a = &(active_[fp] = std::move(n));
    created = true;
  }
  a->labels = t.subject.labels;
  if (a->state != AlertState::kPending) return;
  // While pending the values follow the results; the ones that fired it are kept.
  set_values(*a, rule, values);
  a->summary = summary_of(rule, *a);
  if (r.ts_ms - a->since_ms >= rule.hold_for.count()) {
    a->state = AlertState::kFiring;
    a->fired_ms = r.ts_ms;
    out.push_back({*a, Transition::kFiring});
    return;
  }
  if (created) out.push_back({*a, std::nullopt});
}

}  // namespace xj::alerts
