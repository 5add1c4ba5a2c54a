#include "xj/alerts/message_builder.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "xj/alerts/message_template.hpp"
#include "xj/common/duration.hpp"

namespace xj::alerts {
namespace {

std::string trim_newline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

std::string format_value(double v) {
  char buf[512];  // %.2f of a huge double is long; GCC checks the bound at -O2
  if (std::isfinite(v) && std::fabs(v - std::round(v)) < 1e-9 && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f", v);
    std::string out = buf;  // 93.20 -> 93.2, 5.00 stays 5 (handled above)
    while (!out.empty() && out.back() == '0') out.pop_back();
    if (!out.empty() && out.back() == '.') out.pop_back();
    return out;
  }
  return buf;
}

// One line per metric that is out of its thresholds; if none is (the check decided on its
// own, e.g. a process that is gone), every metric that has thresholds.
std::string metric_lines(const Alert& a, std::string_view tpl) {
  std::vector<const Metric*> chosen;
  for (const auto& m : a.metrics) {
    if (m.evaluate() != Status::kOk) chosen.push_back(&m);
  }
  if (chosen.empty()) {
    for (const auto& m : a.metrics) {
      if (m.warn || m.crit) chosen.push_back(&m);
    }
  }
  std::string out;
  std::size_t n = 0;
  for (const Metric* m : chosen) {
    if (++n > 10) break;  // a message is for people; the console has the rest
    TemplateVars v{{"name", m->name}, {"value", format_value(m->value)}, {"unit", m->unit}};
    std::string labels;
    for (const auto& [k, val] : m->labels) labels += (labels.empty() ? "" : ", ") + k + "=" + val;
    v["labels"] = labels;
    if (m->warn) v["warn"] = m->warn->str();
    if (m->crit) v["crit"] = m->crit->str();
    out += trim_newline(render_template(tpl, v)) + "\n";
  }
  return trim_newline(out);
}

std::string_view template_name(AlertKind kind, Transition t) {
  const bool fire = t == Transition::kFiring;
  switch (kind) {
    case AlertKind::kNoData: return fire ? "no_data" : "no_data_resolved";
    case AlertKind::kFlapping: return fire ? "flapping" : "flapping_resolved";
    default: return fire ? "firing" : "resolved";
  }
}

}  // namespace

std::string format_local(std::int64_t epoch_ms) {
  std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string format_span(std::int64_t ms) {
  return format_duration(std::chrono::milliseconds(std::max<std::int64_t>(ms, 0) / 1000 * 1000));
}

std::string render_message(const Alert& a, Transition t, const MessageContext& ctx) {
  auto tpl = [&](std::string_view name) {
    std::string_view s = builtin_message_template(ctx.locale, name);
    return s.empty() ? builtin_message_template("zh-CN", name) : s;
  };
  const char* sev = a.severity == Status::kCritical  ? "severity_critical"
                    : a.severity == Status::kWarning ? "severity_warning"
                                                     : "severity_unknown";
  TemplateVars v{{"severity", trim_newline(tpl(sev))},
                 {"host", a.host},
                 {"check", a.check},
                 {"summary", a.summary},
                 {"since", format_local(a.since_ms)},
                 {"changes", std::to_string(a.changes)},
                 {"intervals", std::to_string(ctx.no_data_intervals)},
                 {"values", metric_lines(a, tpl("metric_line"))}};
  // Built as a std::string and moved in: assigning the literal trips GCC 12's false -Wrestrict
  // at -O2.
  auto sys = a.labels.find("system");
  std::string system = sys != a.labels.end() ? sys->second : std::string(1, '-');
  v["system"] = std::move(system);
  if (a.resolved_ms != 0) {
    v["resolved"] = format_local(a.resolved_ms);
    v["duration"] = format_span(a.resolved_ms - a.since_ms);
  }
  if (!ctx.console_url.empty()) {
    std::string base = ctx.console_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    v["link"] = base + "/hosts/" + a.host;
  }
  return trim_newline(render_template(tpl(template_name(a.kind, t)), v));
}

}  // namespace xj::alerts
