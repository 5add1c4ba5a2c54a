// The console's views of hosts and checks: the overview, the host list and page, the check list
// and page (read straight from the Store).
#include <algorithm>
#include <ctime>
#include <limits>
#include <map>

#include "detail/console_views.hpp"
#include "xj/alerts/alert_pipeline.hpp"
#include "xj/alerts/alert_store.hpp"
#include "xj/common/duration.hpp"
#include "xj/reports/svg_chart.hpp"

namespace xj::detail {

using json = nlohmann::json;

namespace {

constexpr std::int64_t kDayMs = 86'400'000;
// An agent whose last contact is older than this is listed as "not seen" (before liveness
// declares the host down after its missed heartbeats).
constexpr std::int64_t kNotSeenMs = 5 * 60'000;

std::string label_value(const Labels& l, const std::string& key) {
  auto it = l.find(key);
  return it == l.end() ? "" : it->second;
}

xj::DurationWords duration_words(const json& t) {
  auto word = [&](const char* key) {
    std::string w = label_of(t, key);
    while (!w.empty() && w.front() == ' ') w.erase(w.begin());
    return w;
  };
  return {word("unit_d"), word("unit_h"), word("unit_min"), word("unit_s")};
}

// When a threshold alerts, in the metric's own unit: "~:85" on a percentage reads "> 85 %",
// "1:" on a count "< 1". Nagios ranges are for configs, not for the person on the page.
std::string condition_text(const json& t, const Range& r, const std::string& unit) {
  const auto w = duration_words(t);
  auto q = [&](double v) { return xj::format_quantity(v, unit, w); };
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (r.inverted()) return q(r.start()) + " – " + q(r.end());
  if (r.start() == -kInf) return "> " + q(r.end());
  if (r.end() == kInf) return "< " + q(r.start());
  // "10" is 0:10; below 0 is not what such a threshold is written for.
  if (r.start() == 0) return "> " + q(r.end());
  return "< " + q(r.start()) + " " + label_of(t, "or") + " > " + q(r.end());
}

json metric_view(const json& t, const Metric& m) {
  std::string labels;
  for (const auto& [k, v] : m.labels) labels += (labels.empty() ? "" : ", ") + k + "=" + v;
  const Status s = m.evaluate();
  return json{{"name", m.name},
              {"value", xj::format_quantity(m.value, m.unit, duration_words(t))},
              {"labels", labels},
              {"warn", m.warn ? condition_text(t, *m.warn, m.unit) : ""},
              {"crit", m.crit ? condition_text(t, *m.crit, m.unit) : ""},
              {"bad", s != Status::kOk}};
}

json check_view(const PageContext& c, const CheckRow& r, bool with_metrics) {
  json j = status_view(c.t, r.status);
  j["host"] = r.host;
  j["check"] = r.check;
  j["kind"] = r.kind;
  j["summary"] = r.summary;
  j["since"] = local_time(r.since_ms);
  j["since_ago"] = ago(c.t, r.since_ms, c.now_ms);
  j["last"] = local_time(r.last_ts_ms);
  j["url"] = "/console/check?host=" + url_encode(r.host) + "&check=" + url_encode(r.check);
  j["host_url"] = "/console/hosts/" + url_encode(r.host);
  if (with_metrics) {
    json ms = json::array();
    for (const auto& m : r.metrics) ms.push_back(metric_view(c.t, m));
    j["metrics"] = std::move(ms);
  }
  return j;
}

json host_view(const PageContext& c, const HostRow& h) {
  json j = status_view(c.t, h.worst);
  j["id"] = h.agent.id;
  j["hostname"] = h.agent.hostname;
  j["version"] = h.agent.version;
  j["system"] = label_value(h.agent.labels, "system");
  j["role"] = label_value(h.agent.labels, "role");
  std::string labels;
  for (const auto& [k, v] : h.agent.labels) labels += (labels.empty() ? "" : " ") + k + "=" + v;
  j["labels"] = labels;
  j["last_contact"] = local_time(h.last_contact_ms);
  j["last_contact_ago"] = ago(c.t, h.last_contact_ms, c.now_ms);
  j["url"] = "/console/hosts/" + url_encode(h.agent.id);
  j["ok"] = h.checks_ok;
  j["warning"] = h.checks_warning;
  j["critical"] = h.checks_critical;
  j["unknown"] = h.checks_unknown;
  return j;
}

json incident_brief(const PageContext& c, const alerts::Incident& i);

}  // namespace

std::string PageContext::query(const std::string& key) const {
  auto it = request.query.find(key);
  return it == request.query.end() ? "" : it->second;
}

std::string local_time(std::int64_t epoch_ms) {
  if (epoch_ms <= 0) return "";
  const std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

std::string label_of(const json& t, const std::string& key) {
  auto it = t.find(key);
  return it != t.end() && it->is_string() ? it->get<std::string>() : key;
}

std::string ago(const json& t, std::int64_t ms, std::int64_t now_ms) {
  if (ms <= 0) return label_of(t, "never");
  const std::int64_t s = std::max<std::int64_t>(0, (now_ms - ms) / 1000);
  std::string n, unit;
  if (s < 60) {
    n = std::to_string(s), unit = "unit_s";
  } else if (s < 3600) {
    n = std::to_string(s / 60), unit = "unit_min";
  } else if (s < 86400) {
    n = std::to_string(s / 3600), unit = "unit_h";
  } else {
    n = std::to_string(s / 86400), unit = "unit_d";
  }
  return n + label_of(t, unit) + label_of(t, "ago");
}

json status_view(const json& t, Status s) {
  const std::string name(to_string(s));
  return json{{"status", name}, {"status_label", label_of(t, "status_" + name)}};
}

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

PageView overview_page(const PageContext& c) {
  PageView p{"overview"};
  json& v = p.view;
  Store& store = *c.src.store;
  // Counts from the host rows (one aggregate per host): no need to read 30,000 checks.
  std::map<std::string, std::size_t> checks{{"ok", 0}, {"warning", 0}, {"critical", 0}, {"unknown", 0}};
  std::map<std::string, std::size_t> hosts{{"ok", 0}, {"warning", 0}, {"critical", 0}, {"unknown", 0}};
  json not_seen = json::array();
  const auto host_rows = store.hosts();
  for (const auto& h : host_rows) {
    checks["ok"] += h.checks_ok;
    checks["warning"] += h.checks_warning;
    checks["critical"] += h.checks_critical;
    checks["unknown"] += h.checks_unknown;
    ++hosts[std::string(to_string(h.worst))];
    if (c.now_ms - h.last_contact_ms > kNotSeenMs) not_seen.push_back(host_view(c, h));
  }
  json counts = json::array();
  for (Status s : {Status::kCritical, Status::kWarning, Status::kUnknown, Status::kOk}) {
    json j = status_view(c.t, s);
    j["checks"] = checks[std::string(to_string(s))];
    j["hosts"] = hosts[std::string(to_string(s))];
    j["all_ok"] = s == Status::kOk;  // "N hosts all ok"; the others count hosts at worst this
    j["url"] = "/console/checks?status=" + std::string(to_string(s));
    counts.push_back(std::move(j));
  }
  v["counts"] = std::move(counts);
  v["host_total"] = host_rows.size();
  v["no_hosts"] = host_rows.empty();
  CheckFilter down;
  down.kind = "alive";
  down.status = Status::kCritical;
  json down_list = json::array();
  for (const auto& r : store.checks(down)) down_list.push_back(check_view(c, r, false));
  v["hosts_down"] = std::move(down_list);
  v["not_seen"] = std::move(not_seen);
  // Critical checks, worst news first (at most 50: the list links to the full one).
  CheckFilter crit;
  crit.status = Status::kCritical;
  json crit_list = json::array();
  std::size_t crit_total = 0;
  for (const auto& r : store.checks(crit)) {
    if (r.kind == "alive") continue;
    if (++crit_total <= 50) crit_list.push_back(check_view(c, r, false));
  }
  v["critical_checks"] = std::move(crit_list);
  v["critical_more"] = crit_total > 50 ? std::to_string(crit_total - 50) : "";
  // Expiring within 30 days: the licence registry, and HTTPS certificates (http checks'
  // cert_days_left).
  json expiring = json::array();
  for (const auto& l : store.licences()) {
    if (l.state == LicenceState::kRevoked) continue;
    const std::int64_t left = (l.expiry_ms - c.now_ms) / kDayMs;
    if (l.expiry_ms - c.now_ms > 30 * kDayMs) continue;
    expiring.push_back({{"what", label_of(c.t, "licence")}, {"name", l.product}, {"host", l.host},
                        {"days", left}, {"expired", l.expiry_ms <= c.now_ms},
                        {"url", "/console/licences"}, {"date", local_time(l.expiry_ms)}});
  }
  CheckFilter http;
  http.kind = "http";
  for (const auto& r : store.checks(http)) {
    for (const auto& m : r.metrics) {
      if (m.name != "cert_days_left" || m.value > 30) continue;
      expiring.push_back({{"what", label_of(c.t, "certificate")}, {"name", r.check}, {"host", r.host},
                          {"days", static_cast<std::int64_t>(m.value)}, {"expired", m.value <= 0},
                          {"url", check_view(c, r, false)["url"]}, {"date", ""}});
    }
  }
  std::sort(expiring.begin(), expiring.end(),
            [](const json& a, const json& b) { return a["days"].get<std::int64_t>() < b["days"].get<std::int64_t>(); });
  v["expiring"] = std::move(expiring);
  v["alerting"] = c.src.pipeline != nullptr;
  if (c.src.pipeline != nullptr) {
    std::map<Status, std::size_t> firing;
    std::size_t pending = 0;
    for (const auto& a : c.src.pipeline->active()) {
      if (a.state == alerts::AlertState::kFiring) ++firing[a.severity];
      if (a.state == alerts::AlertState::kPending) ++pending;
    }
    json by = json::array();
    for (Status s : {Status::kCritical, Status::kWarning, Status::kUnknown}) {
      json j = status_view(c.t, s);
      j["count"] = firing[s];
      by.push_back(std::move(j));
    }
    v["firing"] = std::move(by);
    v["pending"] = pending;
    alerts::IncidentFilter f;
    f.active_only = true;
    f.limit = 100;
    json open = json::array();
    for (const auto& i : c.src.alerts->incidents(f)) open.push_back(incident_brief(c, i));
    v["incidents"] = std::move(open);
  }
  return p;
}

namespace {

json incident_brief(const PageContext& c, const alerts::Incident& i) {
  const std::string state(alerts::to_string(i.state));
  json j{{"id", i.id},
         {"number", alerts::incident_number(i.id)},
         {"url", "/console/incidents/" + std::to_string(i.id)},
         {"title", i.title},
         {"level", std::string(alerts::to_string(i.level))},
         {"state", state},
         {"state_label", label_of(c.t, "state_" + state)},
         {"host", i.host},
         {"system", i.system},
         {"opened", local_time(i.opened_ms)},
         {"respond_breached", i.respond_breached},
         {"repair_breached", i.repair_breached}};
  // A running clock counts down in the page (data-deadline); a stopped one shows when it stopped.
  const std::int64_t responded = i.responded_ms();
  j["respond_due"] = local_time(i.respond_due_ms);
  j["respond_running"] = responded == 0 && i.respond_due_ms > 0;
  j["respond_due_ms"] = i.respond_due_ms;
  j["repair_due"] = local_time(i.repair_due_ms);
  j["repair_running"] = i.resolved_ms == 0 && i.repair_due_ms > 0;
  j["repair_due_ms"] = i.repair_due_ms;
  // A stopped clock says how long it took and whether the contract's deadline was met.
  const auto took = [&](std::int64_t end) {
    return xj::format_quantity(static_cast<double>((end - i.opened_ms + 500) / 1000), "s", duration_words(c.t));
  };
  if (responded > 0 && i.respond_due_ms > 0) {
    j["respond_took"] = took(responded);
    j["respond_met"] = !i.respond_breached;
  }
  if (i.resolved_ms > 0 && i.repair_due_ms > 0) {
    j["repair_took"] = took(i.resolved_ms);
    j["repair_met"] = !i.repair_breached;
  }
  return j;
}

}  // namespace

json incident_view(const PageContext& c, const alerts::Incident& i) { return incident_brief(c, i); }

PageView hosts_page(const PageContext& c) {
  PageView p{"hosts"};
  auto rows = c.src.store->hosts();
  const std::string system = c.query("system");
  std::stable_sort(rows.begin(), rows.end(), [](const HostRow& a, const HostRow& b) {
    return severity_rank(a.worst) > severity_rank(b.worst);  // the worst first
  });
  json list = json::array();
  std::map<std::string, bool> systems;
  for (const auto& h : rows) {
    const std::string s = label_value(h.agent.labels, "system");
    if (!s.empty()) systems[s] = s == system;
    if (!system.empty() && s != system) continue;
    list.push_back(host_view(c, h));
  }
  json sys = json::array();
  for (const auto& [name, selected] : systems) sys.push_back({{"name", name}, {"selected", selected}});
  p.view["hosts"] = std::move(list);
  p.view["systems"] = std::move(sys);
  p.view["no_hosts"] = rows.empty();
  return p;
}

namespace {

// The main metrics of a host over the last 24 hours as small inline SVG charts: the first
// metric of each cpu, memory, load and disk check (disks: one line per mount); with `any`, the
// first metric of every check given.
json host_charts(const PageContext& c, const std::string& host, const std::vector<CheckRow>& checks,
                 bool any = false) {
  static const std::map<std::string, std::string> main_metric{
      {"cpu", "usage_pct"}, {"memory", "available_pct"}, {"load", "load1"}, {"disk", "used_pct"}};
  json charts = json::array();
  for (const auto& r : checks) {
    auto it = main_metric.find(r.kind);
    std::string metric = it != main_metric.end() ? it->second : "";
    if (any && !r.metrics.empty() && metric.empty()) metric = r.metrics[0].name;
    if (metric.empty()) continue;
    SeriesQuery q;
    q.host = host;
    q.check = r.check;
    q.metric = metric;
    q.from_ms = c.now_ms - kDayMs;
    q.to_ms = c.now_ms;
    auto series = c.src.store->series(q);
    if (series.empty()) continue;
    // One x position per point of the longest series, at most 96 (every 15 minutes of a day).
    reports::Chart chart;
    chart.title = r.check + " · " + metric + (series[0].unit.empty() ? "" : " (" + series[0].unit + ")");
    chart.width = 460;
    chart.height = 180;
    const auto& longest = *std::max_element(series.begin(), series.end(), [](const Series& a, const Series& b) {
      return a.points.size() < b.points.size();
    });
    const std::size_t n = longest.points.size();
    if (n == 0) continue;
    const std::size_t step = std::max<std::size_t>(1, (n + 95) / 96);
    for (std::size_t k = 0; k < n; k += step) {
      const std::string t = local_time(longest.points[k].ts_ms);
      chart.x_labels.push_back(t.size() > 11 ? t.substr(11) : t);
    }
    for (const auto& s : series) {
      reports::ChartSeries cs;
      std::string name;
      for (const auto& [k, val] : s.labels) name += (name.empty() ? "" : ",") + val;
      cs.name = name.empty() ? s.metric : name;
      for (std::size_t k = 0; k < n; k += step) {
        cs.values.push_back(k < s.points.size() ? std::optional<double>(s.points[k].last) : std::nullopt);
      }
      chart.series.push_back(std::move(cs));
    }
    if (series[0].unit == "%") chart.y_min = 0, chart.y_max = 100;
    charts.push_back({{"svg", reports::line_chart(chart)}, {"title", chart.title}});
    if (charts.size() >= 6) break;
  }
  return charts;
}

}  // namespace

PageView host_page(const PageContext& c, const std::string& id) {
  auto h = c.src.store->host(id);
  if (!h) return message_page(c, 404, label_of(c.t, "not_found"), label_of(c.t, "host_not_found") + " " + id);
  PageView p{"host"};
  p.view["host"] = host_view(c, *h);
  CheckFilter f;
  f.host = id;
  auto rows = c.src.store->checks(f);
  std::stable_sort(rows.begin(), rows.end(), [](const CheckRow& a, const CheckRow& b) {
    return severity_rank(a.status) > severity_rank(b.status);  // the worst first
  });
  json checks = json::array();
  for (const auto& r : rows) checks.push_back(check_view(c, r, true));
  p.view["checks"] = std::move(checks);
  json changes = json::array();
  auto sc = c.src.store->status_changes(id, c.now_ms - 7 * kDayMs, c.now_ms);
  std::reverse(sc.begin(), sc.end());
  for (const auto& s : sc) {
    if (changes.size() >= 30) break;
    json j = status_view(c.t, s.to);
    j["check"] = s.check;
    j["from_label"] = s.first ? "" : label_of(c.t, "status_" + std::string(to_string(s.from)));
    j["ts"] = local_time(s.ts_ms);
    j["summary"] = s.summary;
    changes.push_back(std::move(j));
  }
  p.view["changes"] = std::move(changes);
  p.view["charts"] = host_charts(c, id, rows);
  json gaps = json::array();
  for (const auto& g : c.src.store->gaps(id)) {
    gaps.push_back({{"count", g.count}, {"from", local_time(g.from_ts)}, {"to", local_time(g.to_ts)}});
  }
  p.view["gaps"] = std::move(gaps);
  return p;
}

PageView checks_page(const PageContext& c) {
  PageView p{"checks"};
  CheckFilter f;
  const std::string status = c.query("status"), system = c.query("system");
  f.status = parse_status(status);
  f.host = c.query("host");
  f.kind = c.query("kind");
  std::map<std::string, std::string> system_of;
  for (const auto& h : c.src.store->hosts()) system_of[h.agent.id] = label_value(h.agent.labels, "system");
  json list = json::array();
  std::size_t total = 0;
  auto rows = c.src.store->checks(f);
  std::stable_sort(rows.begin(), rows.end(), [](const CheckRow& a, const CheckRow& b) {
    return severity_rank(a.status) > severity_rank(b.status);  // the worst first
  });
  for (const auto& r : rows) {
    if (!system.empty() && system_of[r.host] != system) continue;
    // A page of 500 rows stays usable on a phone; the filters narrow it down.
    if (++total <= 500) list.push_back(check_view(c, r, false));
  }
  p.view["checks"] = std::move(list);
  p.view["more"] = total > 500 ? std::to_string(total - 500) : "";
  json statuses = json::array();
  for (Status s : {Status::kCritical, Status::kWarning, Status::kUnknown, Status::kOk}) {
    json j = status_view(c.t, s);
    j["selected"] = f.status == s;
    statuses.push_back(std::move(j));
  }
  p.view["statuses"] = std::move(statuses);
  json systems = json::array();
  std::map<std::string, bool> seen;
  for (const auto& [h, s] : system_of) {
    if (!s.empty()) seen[s] = s == system;
  }
  for (const auto& [s, selected] : seen) systems.push_back({{"name", s}, {"selected", selected}});
  p.view["systems"] = std::move(systems);
  p.view["host"] = f.host;
  p.view["kind"] = f.kind;
  return p;
}

PageView check_page(const PageContext& c) {
  const std::string host = c.query("host"), check = c.query("check");
  CheckFilter f;
  f.host = host;
  std::optional<CheckRow> row;
  for (auto& r : c.src.store->checks(f)) {
    if (r.check == check) row = std::move(r);
  }
  if (!row) {
    return message_page(c, 404, label_of(c.t, "not_found"), label_of(c.t, "check_not_found") + " " + host + " / " + check);
  }
  PageView p{"check"};
  p.view["check"] = check_view(c, *row, true);
  json changes = json::array();
  auto sc = c.src.store->status_changes(host, c.now_ms - 30 * kDayMs, c.now_ms);
  std::reverse(sc.begin(), sc.end());
  for (const auto& s : sc) {
    if (s.check != check) continue;
    if (changes.size() >= 50) break;
    json j = status_view(c.t, s.to);
    j["from_label"] = s.first ? "" : label_of(c.t, "status_" + std::string(to_string(s.from)));
    j["ts"] = local_time(s.ts_ms);
    j["summary"] = s.summary;
    changes.push_back(std::move(j));
  }
  p.view["changes"] = std::move(changes);
  std::vector<CheckRow> one{*row};
  p.view["charts"] = host_charts(c, host, one, true);
  return p;
}

}  // namespace xj::detail
