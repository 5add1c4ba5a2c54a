// The console's views of what people act on: alerts and silences, incidents, reports, the
// licence registry, the audit log and the users page (whose list comes from the users API).
#include <algorithm>

#include "detail/console_views.hpp"
#include "xj/alerts/alert_pipeline.hpp"
#include "xj/alerts/alert_store.hpp"
#include "xj/collector/report_service.hpp"

namespace xj::detail {

using json = nlohmann::json;

namespace {

constexpr std::int64_t kDayMs = 86'400'000;

PageView needs_alerting(const PageContext& c) {
  return message_page(c, 200, label_of(c.t, "alerting_off_title"), label_of(c.t, "alerting_off"));
}

json alert_view(const PageContext& c, const alerts::Alert& a, bool silenced) {
  json j = status_view(c.t, a.severity);
  const std::string state(alerts::to_string(a.state));
  j["state"] = silenced ? "silenced" : state;
  j["state_label"] = label_of(c.t, silenced ? "state_silenced" : "alert_" + state);
  j["host"] = a.host;
  j["check"] = a.check;
  j["rule"] = a.rule;
  j["summary"] = a.summary;
  j["since"] = local_time(a.since_ms);
  j["since_ago"] = ago(c.t, a.since_ms, c.now_ms);
  j["url"] = "/console/check?host=" + url_encode(a.host) + "&check=" + url_encode(a.check);
  j["silence_matchers"] = "host=" + a.host + "\ncheck=" + a.check;
  // One check may carry several rules' alerts beside its status alert: name the rule.
  if (a.kind == alerts::AlertKind::kMetric) j["metric_rule"] = a.rule;
  return j;
}

}  // namespace

PageView message_page(const PageContext& c, int status, const std::string& title, const std::string& text) {
  PageView p{"message"};
  p.status = status;
  p.view["message_title"] = title;
  p.view["message"] = text;
  (void)c;
  return p;
}

PageView alerts_page(const PageContext& c) {
  if (c.src.pipeline == nullptr) return needs_alerting(c);
  PageView p{"alerts"};
  const auto silences = c.src.pipeline->silences();
  auto muted = [&](const alerts::Alert& a) {
    return std::any_of(silences.begin(), silences.end(), [&](const alerts::Silence& s) {
      return s.active_at(c.now_ms, c.src.holidays) && s.matches(a);
    });
  };
  json firing = json::array(), pending = json::array(), silenced = json::array();
  auto active = c.src.pipeline->active();
  std::sort(active.begin(), active.end(), [](const alerts::Alert& a, const alerts::Alert& b) {
    return a.since_ms > b.since_ms;
  });
  for (const auto& a : active) {
    if (a.state == alerts::AlertState::kResolved) continue;
    const bool m = muted(a);
    (m ? silenced : a.state == alerts::AlertState::kFiring ? firing : pending).push_back(alert_view(c, a, m));
  }
  p.view["firing"] = std::move(firing);
  p.view["pending"] = std::move(pending);
  p.view["silenced"] = std::move(silenced);
  json list = json::array();
  for (auto it = silences.rbegin(); it != silences.rend(); ++it) {
    const auto& s = *it;
    const bool active_now = s.active_at(c.now_ms, c.src.holidays);
    const bool over = s.ended_ms > 0 || (s.ends_ms > 0 && s.ends_ms <= c.now_ms);
    if (over && list.size() >= 20) continue;  // the finished ones only as far as 20 lines go
    std::string matchers;
    for (const auto& m : s.matchers) matchers += (matchers.empty() ? "" : " ") + m.str();
    std::string when;
    if (s.recurrence) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%02d:%02d-%02d:%02d", s.recurrence->from_min / 60, s.recurrence->from_min % 60,
                    s.recurrence->to_min / 60, s.recurrence->to_min % 60);
      when = label_of(c.t, "recurring") + " " + buf;
    } else {
      when = local_time(s.starts_ms) + " → " + local_time(s.ends_ms);
    }
    list.push_back({{"id", s.id},
                    {"label", s.label()},
                    {"maintenance", s.maintenance},
                    {"kind_label", label_of(c.t, s.maintenance ? "maintenance_window" : "silence")},
                    {"matchers", matchers},
                    {"when", when},
                    {"comment", s.comment},
                    {"author", s.author},
                    {"active", active_now},
                    {"over", over},
                    {"expire_url", "/api/v1/silences/" + std::to_string(s.id) + "/expire"}});
  }
  p.view["silences"] = std::move(list);
  p.view["prefill"] = c.query("matchers");
  return p;
}

PageView incidents_page(const PageContext& c) {
  if (c.src.alerts == nullptr) return needs_alerting(c);
  PageView p{"incidents"};
  alerts::IncidentFilter f;
  const std::string state = c.query("state"), level = c.query("level");
  if (state == "active" || state.empty()) {
    f.active_only = true;
  } else if (state != "all") {
    f.state = alerts::parse_incident_state(state);
  }
  f.limit = 300;
  json list = json::array();
  for (const auto& i : c.src.alerts->incidents(f)) {
    if (!level.empty() && std::string(alerts::to_string(i.level)) != level) continue;
    list.push_back(incident_view(c, i));
  }
  p.view["incidents"] = std::move(list);
  json states = json::array();
  for (const char* s : {"active", "open", "acknowledged", "resolved", "closed", "all"}) {
    states.push_back({{"value", s}, {"label", label_of(c.t, std::string("state_") + s)},
                      {"selected", s == (state.empty() ? std::string("active") : state)}});
  }
  p.view["states"] = std::move(states);
  json levels = json::array();
  for (const char* l : {"P1", "P2", "P3", "P4"}) levels.push_back({{"value", l}, {"selected", level == l}});
  p.view["levels"] = std::move(levels);
  return p;
}

PageView incident_page(const PageContext& c, const std::string& id_text) {
  if (c.src.alerts == nullptr) return needs_alerting(c);
  std::string digits = id_text.rfind("INC-", 0) == 0 ? id_text.substr(4) : id_text;
  std::int64_t id = 0;
  try {
    id = std::stoll(digits);
  } catch (...) {
    id = 0;
  }
  auto i = id > 0 ? c.src.alerts->incident(id) : std::nullopt;
  if (!i) return message_page(c, 404, label_of(c.t, "not_found"), label_of(c.t, "incident_not_found") + " " + id_text);
  PageView p{"incident"};
  json v = incident_view(c, *i);
  v["description"] = i->description;
  v["impact"] = i->impact;
  v["cause"] = i->cause;
  v["handling"] = i->handling;
  v["opened_by"] = i->opened_by;
  v["acknowledged"] = local_time(i->acknowledged_ms);
  v["acknowledged_by"] = i->acknowledged_by;
  v["resolved"] = local_time(i->resolved_ms);
  v["resolved_by"] = i->resolved_by;
  v["closed"] = local_time(i->closed_ms);
  v["closed_by"] = i->closed_by;
  v["may_ack"] = i->state == alerts::IncidentState::kOpen;
  v["may_resolve"] = i->active();
  v["may_close"] = i->state == alerts::IncidentState::kResolved;
  v["may_note"] = i->state != alerts::IncidentState::kClosed;
  v["api"] = "/api/v1/incidents/" + std::to_string(i->id);
  v["report_url"] = "/api/v1/incidents/" + std::to_string(i->id) + "/report";
  json links = json::array();
  for (const auto& a : i->alerts) {
    links.push_back({{"host", a.host}, {"check", a.check}, {"linked", local_time(a.linked_ms)},
                     {"resolved", local_time(a.resolved_ms)},
                     {"url", "/console/check?host=" + url_encode(a.host) + "&check=" + url_encode(a.check)}});
  }
  v["links"] = std::move(links);
  json tl = json::array();
  for (const auto& e : c.src.alerts->timeline(i->id)) {
    tl.push_back({{"ts", local_time(e.ts_ms)}, {"kind", e.kind}, {"kind_label", label_of(c.t, "tl_" + e.kind)},
                  {"actor", e.actor}, {"text", e.text},
                  {"breach", e.kind == "respond_breached" || e.kind == "repair_breached"}});
  }
  v["timeline"] = std::move(tl);
  p.view["incident"] = std::move(v);
  return p;
}

PageView reports_page(const PageContext& c) {
  if (c.src.reports == nullptr) return message_page(c, 200, label_of(c.t, "reports"), label_of(c.t, "reports_off"));
  PageView p{"reports"};
  json list = json::array();
  for (const auto& a : c.src.reports->source().archived("", 200)) {
    // A report's deliveries are shown once, on its first file (the one that names the report).
    json delivery = json::array();
    if (a.id == a.report) {
      for (const auto& m : c.src.reports->source().report_deliveries(a.report)) {
        const std::string status(alerts::to_string(m.status));
        delivery.push_back({{"channel", m.channel}, {"recipient", m.recipient}, {"status", status},
                            {"status_label", label_of(c.t, "delivery_" + status)}, {"error", m.last_error},
                            {"failed", m.status == alerts::DeliveryStatus::kFailed}});
      }
    }
    list.push_back({{"id", a.id}, {"period", a.period_key}, {"kind", a.kind},
                    {"kind_label", label_of(c.t, "report_" + a.kind)}, {"format", a.format},
                    {"created", local_time(a.created_ms)}, {"sha256", a.sha256},
                    {"size", std::to_string((a.bytes + 1023) / 1024) + " KiB"}, {"actor", a.actor},
                    {"url", "/api/v1/reports/" + std::to_string(a.id) + "/file"}, {"delivery", std::move(delivery)}});
  }
  p.view["reports"] = std::move(list);
  p.view["may_deliver"] = c.src.reports->delivers();
  // The next monthly report's notes: the current month's key ("month-2026-12").
  const std::string today = local_time(c.now_ms);
  const std::string month_key = "month-" + today.substr(0, 7);
  const std::string period = c.query("period").empty() ? month_key : c.query("period");
  json notes = json::array();
  for (const auto& n : c.src.reports->source().notes(period)) {
    notes.push_back({{"text", n.text}, {"author", n.author}, {"created", local_time(n.created_ms)}});
  }
  p.view["notes"] = std::move(notes);
  p.view["notes_period"] = period;
  // "month-2026-12" is the key the API takes; the page shows the month.
  p.view["notes_period_label"] = period.rfind("month-", 0) == 0 ? period.substr(6) : period;
  p.view["today"] = today.substr(0, 10);
  p.view["this_month"] = today.substr(0, 7);
  return p;
}

PageView licences_page(const PageContext& c) {
  PageView p{"licences"};
  json list = json::array();
  for (const auto& l : c.src.store->licences()) {
    const std::string state(to_string(l.state));
    const std::int64_t left = l.expiry_ms > c.now_ms ? (l.expiry_ms - c.now_ms) / kDayMs : -((c.now_ms - l.expiry_ms) / kDayMs);
    list.push_back({{"id", l.id}, {"product", l.product}, {"holder", l.holder}, {"host", l.host},
                    {"contract", l.contract}, {"source", l.source}, {"expiry", local_time(l.expiry_ms).substr(0, 10)},
                    {"days", left}, {"urgent", left <= 30 && l.state != LicenceState::kRevoked},
                    {"state", state}, {"state_label", label_of(c.t, "licence_" + state)},
                    {"may_activate", l.state == LicenceState::kApplied},
                    {"may_change", l.state != LicenceState::kRevoked},
                    {"api", "/api/v1/licences/" + std::to_string(l.id)}});
  }
  p.view["licences"] = std::move(list);
  return p;
}

PageView audit_page(const PageContext& c) {
  PageView p{"audit"};
  const std::string actor = c.query("actor"), action = c.query("action");
  const std::string from = c.query("from"), to = c.query("to");  // local dates YYYY-MM-DD
  json list = json::array();
  // Newest first: read the whole chain in pages, keep the last 500 that match.
  std::vector<AuditEntry> kept;
  for (std::int64_t after = 0;;) {
    auto page = c.src.store->audit_entries(after, 1000);
    if (page.empty()) break;
    for (auto& e : page) {
      after = e.id;
      const std::string day = local_time(e.ts_ms).substr(0, 10);
      if (!actor.empty() && e.actor.find(actor) == std::string::npos) continue;
      if (!action.empty() && e.action.find(action) == std::string::npos) continue;
      if (!from.empty() && day < from) continue;
      if (!to.empty() && day > to) continue;
      kept.push_back(std::move(e));
      if (kept.size() > 1000) kept.erase(kept.begin(), kept.begin() + 500);
    }
  }
  for (auto it = kept.rbegin(); it != kept.rend() && list.size() < 500; ++it) {
    list.push_back({{"id", it->id}, {"ts", local_time(it->ts_ms)}, {"actor", it->actor}, {"action", it->action},
                    {"object", it->object}, {"detail", it->detail == "{}" ? "" : it->detail}});
  }
  p.view["entries"] = std::move(list);
  p.view["actor"] = actor;
  p.view["action"] = action;
  p.view["from"] = from;
  p.view["to"] = to;
  return p;
}

PageView users_page(const PageContext& c) {
  (void)c;
  return PageView{"users"};
}

}  // namespace xj::detail
