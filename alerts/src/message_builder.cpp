#include "xj/alerts/message_builder.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "xj/alerts/message_template.hpp"
#include "xj/alerts/metric_rule.hpp"
#include "xj/common/duration.hpp"

namespace xj::alerts {
namespace {

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
    TemplateVars v{{"name", m->name}, {"value", format_number(m->value)}, {"unit", m->unit}};
    std::string labels;
    for (const auto& [k, val] : m->labels) labels += (labels.empty() ? "" : ", ") + k + "=" + val;
    v["labels"] = labels;
    if (m->warn) v["warn"] = m->warn->str();
    if (m->crit) v["crit"] = m->crit->str();
    out += trim_newline(render_template(tpl, v)) + "\n";
  }
  return trim_newline(out);
}

// A metric rule's alert: one line per comparison, the series' value against the rule's.
std::string rule_value_lines(const Alert& a, std::string_view tpl) {
  std::string out;
  for (std::size_t i = 0; i < a.metrics.size(); ++i) {
    const Metric& m = a.metrics[i];
    std::string labels;
    for (const auto& [k, val] : m.labels) labels += (labels.empty() ? "" : ", ") + k + "=" + val;
    TemplateVars v{{"name", m.name}, {"labels", labels}, {"value", format_metric_value(m.value, m.unit)}};
    if (i < a.conditions.size()) v["condition"] = a.conditions[i];
    out += trim_newline(render_template(tpl, v)) + "\n";
  }
  return trim_newline(out);
}

std::string_view template_name(AlertKind kind, Transition t) {
  const bool fire = t == Transition::kFiring;
  switch (kind) {
    case AlertKind::kMetric: return fire ? "metric_rule" : "metric_rule_resolved";
    case AlertKind::kNoData: return fire ? "no_data" : "no_data_resolved";
    case AlertKind::kFlapping: return fire ? "flapping" : "flapping_resolved";
    default: return fire ? "firing" : "resolved";
  }
}

std::string_view tpl_of(const MessageContext& ctx, std::string_view name) { return message_template(ctx.locale, name); }

// A template whose sections are keyed by one word: {{#P1}}一级故障{{/P1}}...
std::string word(const MessageContext& ctx, std::string_view tpl, std::string_view key) {
  return trim_newline(render_template(tpl_of(ctx, tpl), {{std::string(key), "1"}}));
}

// The console's page for `path` ("/hosts/db-01"): <console_url>/console/hosts/db-01. A
// console_url written with the /console part already ("https://x/console") is taken as it is.
std::string link_to(const MessageContext& ctx, const std::string& path) {
  if (ctx.console_url.empty()) return "";
  std::string base = ctx.console_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (!base.ends_with("/console")) base += "/console";
  return base + path;
}

std::string or_dash(std::int64_t ms) { return ms == 0 ? std::string(1, '-') : format_local(ms); }

// Table cells: a line break or a '|' would break the Markdown table.
std::string cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n' || c == '\r') {
      out += ' ';
    } else if (c == '|') {
      out += "\\|";
    } else {
      out += c;
    }
  }
  return out;
}

TemplateVars incident_vars(const Incident& i, const MessageContext& ctx) {
  return {{"incident", incident_number(i.id)},
          {"title", i.title},
          {"level", level_words(i.level, ctx)},
          {"state", state_words(i.state, ctx)},
          {"host", i.host},
          {"system", i.system},
          {"description", i.description},
          {"opened_by", i.opened_by},
          {"opened", format_local(i.opened_ms)},
          {"respond_due", format_local(i.respond_due_ms)},
          {"repair_due", format_local(i.repair_due_ms)},
          {"link", link_to(ctx, "/incidents/" + std::to_string(i.id))}};
}

// Styles other than Markdown: SMS take their sms_ template when there is one; the rest is the
// Markdown made plain.
std::string styled(const MessageContext& ctx, std::string_view name, const TemplateVars& v) {
  if (ctx.style == TextStyle::kSms) {
    const std::string sms = "sms_" + std::string(name);
    std::string_view t = message_template(ctx.locale, sms);
    if (!t.empty()) return trim_newline(render_template(t, v));
  }
  std::string md = trim_newline(render_template(tpl_of(ctx, name), v));
  return ctx.style == TextStyle::kMarkdown ? md : plain_text(md);
}

}  // namespace

std::string plain_text(std::string_view md) {
  std::string out;
  std::size_t pos = 0;
  while (pos <= md.size()) {
    std::size_t end = md.find('\n', pos);
    if (end == std::string_view::npos) end = md.size();
    std::string line(md.substr(pos, end - pos));
    std::size_t start = 0;
    while (start < line.size() && line[start] == '#') ++start;
    if (start > 0 && start < line.size() && line[start] == ' ') ++start;
    if (line.compare(start, 2, "> ") == 0) start += 2;
    line.erase(0, start);
    // [label](url) -> label: url
    for (std::size_t b = line.find('['); b != std::string::npos; b = line.find('[', b + 1)) {
      const std::size_t mid = line.find("](", b);
      const std::size_t close = mid == std::string::npos ? mid : line.find(')', mid);
      if (close == std::string::npos) break;
      const std::string label = line.substr(b + 1, mid - b - 1), url = line.substr(mid + 2, close - mid - 2);
      line.replace(b, close - b + 1, label + ": " + url);
    }
    for (std::size_t f = line.find("<font"); f != std::string::npos; f = line.find("<font", f)) {
      const std::size_t gt = line.find('>', f);
      if (gt == std::string::npos) break;
      line.erase(f, gt - f + 1);
    }
    for (std::size_t f = line.find("</font>"); f != std::string::npos; f = line.find("</font>", f)) line.erase(f, 7);
    for (std::size_t f = line.find("**"); f != std::string::npos; f = line.find("**", f)) line.erase(f, 2);  // bold
    out += line;
    if (end == md.size()) break;
    out += '\n';
    pos = end + 1;
  }
  return out;
}

std::string level_words(IncidentLevel l, const MessageContext& ctx) { return word(ctx, "level_name", to_string(l)); }
std::string state_words(IncidentState s, const MessageContext& ctx) { return word(ctx, "incident_state", to_string(s)); }
std::string timeline_words(const std::string& kind, const MessageContext& ctx) {
  std::string w = word(ctx, "timeline_kind", kind);
  return w.empty() ? kind : w;
}

std::string render_incident_notice(const IncidentNotice& n, const MessageContext& ctx) {
  TemplateVars v = incident_vars(n.incident, ctx);
  if (n.kind == "opened") return styled(ctx, "incident_opened", v);
  const bool respond = n.kind.rfind("respond", 0) == 0;
  const std::int64_t due = respond ? n.incident.respond_due_ms : n.incident.repair_due_ms;
  v[respond ? "respond" : "repair"] = "1";
  v["due"] = format_local(due);
  if (n.kind.find("breached") != std::string::npos) {
    v["breached"] = "1";
  } else {
    v["left"] = format_span(due - n.at_ms);
  }
  return styled(ctx, "incident_deadline", v);
}

std::string render_fault_report(const Incident& i, const std::vector<TimelineEntry>& timeline,
                                const MessageContext& ctx, std::int64_t now_ms) {
  TemplateVars v = incident_vars(i, ctx);
  for (auto& [k, val] : v) val = cell(val);
  v["source"] = i.source;
  v["acknowledged"] = or_dash(i.acknowledged_ms);
  v["acknowledged_by"] = cell(i.acknowledged_by);
  v["resolved"] = or_dash(i.resolved_ms);
  v["resolved_by"] = cell(i.resolved_by);
  v["closed"] = or_dash(i.closed_ms);
  v["closed_by"] = cell(i.closed_by);
  v["impact"] = i.impact;
  v["cause"] = i.cause;
  v["handling"] = i.handling;
  auto clock = [&](std::int64_t due, std::int64_t stopped, bool breached, const std::string& key) {
    v[key + "_limit"] = format_span(due - i.opened_ms);
    const std::int64_t end = stopped != 0 ? stopped : now_ms;
    v[key + "_took"] = format_span(end - i.opened_ms);
    const bool late = breached || end > due;
    v[key + "_verdict"] = word(ctx, "verdict", late ? "breached" : stopped != 0 ? "met" : "running");
  };
  clock(i.respond_due_ms, i.responded_ms(), i.respond_breached, "respond");
  clock(i.repair_due_ms, i.resolved_ms, i.repair_breached, "repair");
  std::string alerts;
  for (const auto& a : i.alerts) {
    TemplateVars av{{"host", cell(a.host)},
                    {"check", cell(a.check)},
                    {"since", format_local(a.since_ms)},
                    {"resolved", or_dash(a.resolved_ms)},
                    {"duration", a.resolved_ms != 0 ? format_span(a.resolved_ms - a.since_ms) : std::string(1, '-')}};
    alerts += trim_newline(render_template(tpl_of(ctx, "fault_report_alert"), av)) + "\n";
  }
  v["alerts"] = trim_newline(alerts);
  std::string lines;
  for (const auto& e : timeline) {
    TemplateVars lv{{"ts", format_local(e.ts_ms)},
                    {"kind", timeline_words(e.kind, ctx)},
                    {"actor", cell(e.actor)},
                    {"text", cell(e.text)}};
    lines += trim_newline(render_template(tpl_of(ctx, "fault_report_line"), lv)) + "\n";
  }
  v["timeline"] = trim_newline(lines);
  return trim_newline(render_template(tpl_of(ctx, "fault_report"), v)) + "\n";
}

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

std::string render_message(const Alert& a, Transition t, const MessageContext& ctx, const Incident* incident,
                           int repeat, const EscalationInfo* escalation) {
  auto tpl = [&](std::string_view name) { return message_template(ctx.locale, name); };
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
  // The first value vs its threshold on one line, for the compact SMS templates.
  const std::string short_values = metric_lines(a, tpl("sms_metric_line"));
  v["value"] = short_values.substr(0, short_values.find('\n'));
  if (a.kind == AlertKind::kMetric) {
    v["rule"] = a.rule;
    v["expr"] = a.expr;
    v["values"] = rule_value_lines(a, tpl("rule_value_line"));
    const std::string sms_values = rule_value_lines(a, tpl("sms_rule_value_line"));
    v["value"] = sms_values.substr(0, sms_values.find('\n'));
  }
  v["since_short"] = format_local(a.since_ms).substr(5, 11);  // "12-01 22:03": SMS are short
  // Built as a std::string and moved in: assigning the literal trips GCC 12's false -Wrestrict
  // at -O2.
  auto sys = a.labels.find("system");
  std::string system = sys != a.labels.end() ? sys->second : std::string(1, '-');
  v["system"] = std::move(system);
  if (a.resolved_ms != 0) {
    v["resolved"] = format_local(a.resolved_ms);
    v["duration"] = format_span(a.resolved_ms - a.since_ms);
  }
  if (!ctx.console_url.empty()) v["link"] = link_to(ctx, "/hosts/" + a.host);
  if (repeat > 0) v["repeat"] = std::to_string(repeat);
  if (escalation != nullptr) {
    v["escalation"] = std::to_string(escalation->level);
    v["unacked_for"] = format_span(escalation->unacked_ms);
    v["recipients"] = escalation->recipients;
  }
  if (incident != nullptr) {
    v["incident"] = incident_number(incident->id);
    v["incident_level"] = level_words(incident->level, ctx);
  }
  return styled(ctx, template_name(a.kind, t), v);
}

}  // namespace xj::alerts
