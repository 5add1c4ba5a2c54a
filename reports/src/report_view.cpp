#include "detail/report_view.hpp"

#include <algorithm>
#include <cstdio>

#include "detail/templates.hpp"
#include "xj/reports/svg_chart.hpp"

namespace xj::reports::detail {
namespace {

using nlohmann::json;

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

std::string minutes(std::int64_t ms) { return fmt(static_cast<double>(ms) / 60'000.0, ms % 60'000 == 0 ? 0 : 1); }

std::string verdict_class(Verdict v) { return std::string(to_string(v)); }

std::string when(std::int64_t ms, const UtcOffset& off) { return local_time_text(ms, off); }

// The contract zone's offset at an instant, recovered from the report's days (the model keeps
// local midnights as UTC ms).
UtcOffset offset_of(const Report& r) {
  return [days = r.day_ms, dates = r.days](std::int64_t t) -> std::int64_t {
    if (days.empty()) return 8 * 3'600'000;  // no days: never formatted (empty period)
    std::size_t i = 0;
    while (i + 1 < days.size() && days[i + 1] <= t) ++i;
    return days_from_civil(dates[i]) * 86'400'000 - days[i];
  };
}

std::string opt_num(const std::optional<double>& v, int decimals) { return v ? fmt(*v, decimals) : "—"; }

// Ledger subjects shown as "<standard string> {standard}" / "<result string> {value}"; an
// empty std_key: the standard is "no stall".
struct NumberedSubject {
  const char *subject, *std_key, *res_key;
  int res_decimals;
};
const NumberedSubject* numbered_subject(const std::string& subject) {
  static const NumberedSubject table[] = {
      {"replication_lag", "std_max_s", "res_peak_s", 0}, {"long_query", "std_max_s", "res_peak_s", 0},
      {"block_interval", "std_max_s", "res_peak_s", 0},  {"backup", "std_max_h", "res_peak_h", 1},
      {"chain_lag", "std_max_blocks", "res_peak_blocks", 0}, {"chain_peers", "std_min", "res_min", 0},
      {"chain_stalls", "", "res_stalls", 0}};
  for (const auto& n : table) {
    if (subject == n.subject) return &n;
  }
  return nullptr;
}

json item_row(const InspectionItem& i, const Strings& s) {
  std::string content = i.host + " " + s.get("subject_" + i.subject);
  if (!i.target.empty()) content += " " + i.target;
  std::string standard, result;
  if (i.subject == "availability") {
    standard = s.get("std_min", fmt_pct(i.standard, 1));
    result = fmt_pct(i.value, 3);
  } else if (i.subject == "service") {
    standard = s.get("std_no_downtime");
    result = s.get("res_down", i.value ? fmt(*i.value, 0) : "—");
  } else if (i.subject == "cpu" || i.subject == "memory") {
    standard = s.get("std_max", fmt_pct(i.standard, 0));
    result = s.get("res_avg", fmt_pct(i.value, 1));
  } else if (i.subject == "disk") {
    standard = s.get("std_max", fmt_pct(i.standard, 0));
    result = s.get("res_last", fmt_pct(i.value, 1));
  } else if (i.subject == "db_connections" || i.subject == "tablespace") {
    standard = s.get("std_max", fmt_pct(i.standard, 0));
    result = s.get(i.subject == "tablespace" ? "res_last" : "res_peak", fmt_pct(i.value, 1));
  } else if (const NumberedSubject* n = numbered_subject(i.subject)) {
    standard = n->std_key[0] == 0 ? s.get("std_no_stall") : s.get(n->std_key, opt_num(i.standard, 0));
    result = s.get(n->res_key, opt_num(i.value, n->res_decimals));
  } else if (i.subject == "expiry" || i.subject == "licence") {
    standard = s.get("std_expiry");
    result = s.get("res_days", i.value ? fmt(*i.value, 1) : "—");
  } else {
    standard = s.get("std_status");
    result = s.get("res_status", s.get("status_" + i.status));
  }
  return {{"content", content}, {"standard", standard}, {"result", result},
          {"verdict", s.get(std::string(to_string(i.verdict)))}, {"cls", verdict_class(i.verdict)}};
}

// 1.50 GiB, 744.0 MiB, 12 B
std::string bytes_text(double b) {
  const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  double v = b < 0 ? -b : b;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  return (b < 0 ? "-" : "") + fmt(v, u == 0 ? 0 : u == 2 ? 1 : 2) + " " + units[u];
}

// The worst verdict of the judged figures (no data only when none was judged).
Verdict worst_of(std::initializer_list<const Judged*> figures) {
  Verdict out = Verdict::kNoData;
  for (const Judged* j : figures) {
    if (j->verdict == Verdict::kAbnormal) return Verdict::kAbnormal;
    if (j->verdict == Verdict::kNormal) out = Verdict::kNormal;
  }
  return out;
}

json database_views(const Report& r, const Strings& s) {
  json dbs = json::array();
  for (const auto& d : r.databases) {
    std::string sizes, spaces;
    for (const auto& z : d.sizes) {
      sizes += (sizes.empty() ? "" : "; ") + z.name + " " + bytes_text(z.last_bytes);
      if (z.growth_bytes) sizes += " (" + std::string(*z.growth_bytes >= 0 ? "+" : "") + bytes_text(*z.growth_bytes) + ")";
    }
    Verdict v = worst_of({&d.connections_pct, &d.replication_lag_s, &d.longest_query_s});
    for (const auto& t : d.tablespaces) {
      spaces += (spaces.empty() ? "" : "; ") + t.name + " " +
                (t.used_pct.value ? fmt_pct(t.used_pct.value, 1) : bytes_text(t.size_bytes.value_or(0)));
      if (t.used_pct.verdict == Verdict::kAbnormal) v = Verdict::kAbnormal;
      if (t.used_pct.verdict == Verdict::kNormal && v == Verdict::kNoData) v = Verdict::kNormal;
    }
    std::string conn = opt_num(d.connections_peak, 0) + " / " + opt_num(d.max_connections, 0);
    if (d.connections_pct.value) conn += " (" + fmt_pct(d.connections_pct.value, 1) + ")";
    dbs.push_back({{"host", d.host}, {"check", d.check}, {"kind", d.kind}, {"connections", conn},
                   {"conn_cls", verdict_class(d.connections_pct.verdict)},
                   {"sizes", sizes.empty() ? "—" : sizes}, {"tablespaces", spaces.empty() ? "—" : spaces},
                   {"lag", d.replication_lag_s.value ? fmt(*d.replication_lag_s.value, 0) : "—"},
                   {"lag_cls", verdict_class(d.replication_lag_s.verdict)},
                   {"queries", opt_num(d.long_queries_peak, 0) + " / " + opt_num(d.longest_query_s.value, 0)},
                   {"query_cls", verdict_class(d.longest_query_s.verdict)},
                   {"verdict", s.get(std::string(to_string(v)))}, {"cls", verdict_class(v)}});
  }
  return dbs;
}

json chain_views(const Report& r, const Strings& s) {
  json out = json::array();
  for (const auto& c : r.chain_nodes) {
    std::string heights;
    for (const auto& l : c.ledgers) {
      heights += (heights.empty() ? "" : "; ") + (l.name.empty() ? "" : l.name + " ") + fmt(l.first, 0) + " → " +
                 fmt(l.last, 0) + " (+" + fmt(l.growth(), 0) + ")";
    }
    const Verdict v = worst_of({&c.longest_interval_s, &c.lag_blocks, &c.peers_min, &c.stalls});
    out.push_back({{"host", c.host}, {"check", c.check}, {"chain", c.chain}, {"heights", heights.empty() ? "—" : heights},
                   {"interval", opt_num(c.longest_interval_s.value, 0)},
                   {"interval_cls", verdict_class(c.longest_interval_s.verdict)},
                   {"lag", opt_num(c.lag_blocks.value, 0)}, {"lag_cls", verdict_class(c.lag_blocks.verdict)},
                   {"peers", opt_num(c.peers_min.value, 0)}, {"peers_cls", verdict_class(c.peers_min.verdict)},
                   {"stalls", opt_num(c.stalls.value, 0)}, {"stalls_cls", verdict_class(c.stalls.verdict)},
                   {"verdict", s.get(std::string(to_string(v)))}, {"cls", verdict_class(v)}});
  }
  return out;
}

json uptime_cells(const Uptime& u) {
  return {{"availability", fmt_pct(u.availability_pct(), 3)}, {"down_min", minutes(u.down_ms)},
          {"no_data_min", minutes(u.no_data_ms)}, {"coverage", fmt_pct(u.coverage_pct(), 2)},
          {"events", u.down_events}};
}

}  // namespace

Expected<Strings> Strings::load(const std::string& locale) {
  const std::string_view text = builtin_report_file(locale + ".json");
  if (text.empty()) return make_error("reports: no strings for locale '" + locale + "' (zh-CN, en)");
  Strings s;
  s.j_ = json::parse(text, nullptr, false);
  if (!s.j_.is_object()) return make_error("reports: templates/reports/" + locale + ".json is not a JSON object");
  return s;
}

std::string Strings::get(const std::string& key, const std::string& v, const std::string& host,
                         const std::string& target) const {
  auto it = j_.find(key);
  if (it == j_.end() || !it->is_string()) return key;
  std::string out = it->get<std::string>();
  out = replace_all(out, "{v}", v);
  out = replace_all(out, "{host}", host);
  return replace_all(out, "{target}", target);
}

std::string fmt(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string fmt_pct(std::optional<double> v, int decimals) { return v ? fmt(*v, decimals) + "%" : "—"; }

json make_view(const Report& r, const Strings& s, bool charts) {
  const UtcOffset off = offset_of(r);
  json v;
  v["t"] = s.all();
  const std::string kind(to_string(r.kind));
  v["title"] = s.get("title_" + kind);
  v["is_monthly"] = r.kind == ReportKind::kMonthly;
  v["customer"] = r.contract.customer;
  v["service_company"] = r.contract.service_company;
  v["period_text"] = r.period.first_day.str() + " — " + r.period.last_day.str();
  v["term_text"] = r.contract.term_from.empty() ? "" : r.contract.term_from + " — " + r.contract.term_to;
  v["generated_text"] = r.days.empty() ? "" : when(r.generated_ms, off);
  v["data_end_text"] = r.days.empty() ? "" : when(r.data_end_ms, off);
  v["partial_period"] = r.data_end_ms < r.period.to_ms;
  v["overall"] = s.get(std::string(to_string(r.overall)));
  v["overall_cls"] = verdict_class(r.overall);
  v["hosts_total"] = r.hosts_total;
  v["checks_total"] = r.checks_total;
  v["abnormal_items"] = r.abnormal_count();
  v["alerts_total"] = r.alerts.total;
  const auto& d = r.deliveries;
  v["delivery_rate"] = d.delivered + d.failed > 0
                           ? fmt_pct(100.0 * static_cast<double>(d.delivered) / static_cast<double>(d.delivered + d.failed), 1) +
                                 " (" + std::to_string(d.delivered) + "/" + std::to_string(d.delivered + d.failed) + ")"
                           : "—";

  json systems = json::array();
  Chart avail;
  avail.title = s.get("chart_availability");
  avail.y_unit = "%";
  avail.reference = r.contract.availability_target;
  for (const auto& day : r.days) avail.x_labels.push_back(day.str().substr(5));
  for (const auto& sys : r.systems) {
    json row = uptime_cells(sys.uptime);
    row["name"] = sys.name.empty() ? s.get("all_hosts") : sys.name;
    row["hosts"] = sys.hosts.size();
    row["target"] = fmt_pct(sys.target_pct, 1);
    row["verdict"] = s.get(std::string(to_string(sys.verdict)));
    row["cls"] = verdict_class(sys.verdict);
    systems.push_back(row);
    avail.series.push_back({row["name"].get<std::string>(), sys.daily_pct});
  }
  v["systems"] = systems;
  if (charts && !r.days.empty()) {
    double lo = r.contract.availability_target;
    for (const auto& se : avail.series) {
      for (const auto& x : se.values) {
        if (x) lo = std::min(lo, *x);
      }
    }
    avail.y_min = std::max(0.0, std::floor(lo) - 1);
    avail.y_max = 100;
    v["chart_availability"] = line_chart(avail);
  }

  json hosts = json::array();
  for (const auto& h : r.hosts) {
    json row = uptime_cells(h.uptime);
    row["host"] = h.host;
    row["system"] = h.system;
    row["first_seen"] = h.added_in_period ? when(h.first_seen_ms, off) + s.get("added") : "";
    row["verdict"] = s.get(std::string(to_string(h.verdict)));
    row["cls"] = verdict_class(h.verdict);
    hosts.push_back(row);
  }
  v["hosts"] = hosts;
  // Only the checks that were down or without data; the rest are counted (and each is an item
  // of the appendix).
  json services = json::array();
  std::size_t clean = 0;
  for (const auto& sv : r.services) {
    if (sv.uptime.down_ms == 0 && sv.uptime.no_data_ms == 0) {
      ++clean;
      continue;
    }
    json row = uptime_cells(sv.uptime);
    row["host"] = sv.host;
    row["check"] = sv.check;
    row["cls"] = sv.uptime.down_ms > 0 ? "abnormal" : "";
    services.push_back(row);
  }
  v["services"] = services;
  v["services_clean"] = clean > 0 ? s.get("services_clean", std::to_string(clean)) : "";

  json res = json::array(), disks = json::array();
  std::vector<std::pair<double, ChartSeries>> disk_series;
  for (const auto& h : r.resources) {
    res.push_back({{"host", h.host},
                   {"cpu", fmt_pct(h.cpu.avg, 1) + " / " + fmt_pct(h.cpu.peak, 1)},
                   {"cpu_cls", verdict_class(h.cpu.verdict)},
                   {"memory", fmt_pct(h.memory.avg, 1) + " / " + fmt_pct(h.memory.peak, 1)},
                   {"memory_cls", verdict_class(h.memory.verdict)}});
    for (const auto& dk : h.disks) {
      disks.push_back({{"host", h.host}, {"mount", dk.mount}, {"last", fmt_pct(dk.used.last, 1)},
                       {"peak", fmt_pct(dk.used.peak, 1)},
                       {"growth", dk.growth_pct_per_day ? fmt(*dk.growth_pct_per_day, 2) + "%" : "—"},
                       {"days_to_full", dk.days_to_full ? fmt(*dk.days_to_full, 1) : "—"},
                       {"verdict", s.get(std::string(to_string(dk.used.verdict)))},
                       {"cls", verdict_class(dk.used.verdict)}});
      ChartSeries cs{h.host + " " + dk.mount, {}};
      for (double x : dk.daily_last) cs.values.emplace_back(x);
      disk_series.emplace_back(dk.used.last.value_or(0), std::move(cs));
    }
  }
  v["resources"] = res;
  v["disks"] = disks;
  if (charts && !disk_series.empty()) {
    std::stable_sort(disk_series.begin(), disk_series.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    Chart dc;
    dc.title = s.get("chart_disks");
    dc.y_unit = "%";
    dc.y_min = 0;
    dc.y_max = 100;
    dc.reference = r.contract.standards.disk_pct;
    std::size_t n = 0;
    for (std::size_t i = 0; i < disk_series.size() && i < 5; ++i) {
      n = std::max(n, disk_series[i].second.values.size());
      dc.series.push_back(disk_series[i].second);
    }
    for (std::size_t i = 0; i < n; ++i) dc.x_labels.push_back(i < r.days.size() ? r.days[i].str().substr(5) : "");
    v["chart_disks"] = line_chart(dc);
  }

  v["databases"] = database_views(r, s);
  json backups = json::array();
  for (const auto& b : r.backups) {
    backups.push_back({{"host", b.host}, {"check", b.check}, {"last", opt_num(b.last_h, 1)},
                       {"peak", opt_num(b.age_peak_h.value, 1)}, {"standard", fmt(b.age_peak_h.standard, 0)},
                       {"verdict", s.get(std::string(to_string(b.age_peak_h.verdict)))},
                       {"cls", verdict_class(b.age_peak_h.verdict)}});
  }
  v["backups"] = backups;
  v["chain_nodes"] = chain_views(r, s);

  json exp = json::array();
  for (const auto& e : r.expiries) {
    exp.push_back({{"host", e.host}, {"target", e.target.empty() ? e.check : e.target}, {"kind", e.kind},
                   {"days_left", fmt(e.days_left, 1)}, {"within", "≤ " + std::to_string(e.within_days)},
                   {"cls", e.days_left <= 30 ? "abnormal" : "normal"}});
  }
  v["expiries"] = exp;
  v["licence_note"] = r.licence_registry ? "" : s.get("licence_registry_not_tracked");
  v["registry_tracked"] = r.licence_registry;
  json lic = json::array();
  for (const auto& l : r.licences) {
    lic.push_back({{"product", l.product}, {"holder", l.holder}, {"host", l.host},
                   {"state", s.get("licence_state_" + l.state)},
                   {"expiry", local_date_of(l.expiry_ms - 1, off).str()},
                   {"days_left", l.days_left < 0 ? s.get("expired") : fmt(l.days_left, 1)},
                   {"within", "≤ " + std::to_string(l.within_days)}, {"cls", l.days_left <= 30 ? "abnormal" : "normal"}});
  }
  v["licences"] = lic;
  json events = json::array();
  for (const auto& e : r.licence_events) {
    events.push_back({{"when", when(e.ts_ms, off)}, {"event", s.get("licence_event_" + e.event)},
                      {"product", e.product}, {"holder", e.holder}, {"actor", e.actor}});
  }
  v["licence_events"] = events;

  json sev = json::array();
  for (const char* k : {"critical", "warning", "unknown"}) {
    auto it = r.alerts.by_severity.find(k);
    sev.push_back({{"name", s.get(std::string("sev_") + k)}, {"count", it == r.alerts.by_severity.end() ? 0 : it->second}});
  }
  v["severities"] = sev;
  json top = json::array();
  for (const auto& t : r.alerts.top) top.push_back({{"host", t.host}, {"check", t.check}, {"count", t.firings}});
  v["top_checks"] = top;
  if (charts && !r.days.empty()) {
    Chart ac;
    ac.title = s.get("chart_alerts");
    ac.y_min = 0;
    for (const auto& day : r.days) ac.x_labels.push_back(day.str().substr(5));
    // Stacked by severity, the most severe at the bottom.
    for (const char* k : {"critical", "warning", "unknown"}) {
      auto it = r.alerts.daily_by_severity.find(k);
      if (it == r.alerts.daily_by_severity.end()) continue;
      ChartSeries cs{s.get(std::string("sev_") + k), {}};
      for (auto n : it->second) cs.values.emplace_back(static_cast<double>(n));
      ac.series.push_back(std::move(cs));
    }
    v["chart_alerts"] = stacked_bar_chart(ac);
  }

  v["incidents_tracked"] = r.incidents.has_value();
  if (r.incidents) {
    const auto& i = *r.incidents;
    v["incidents"] = {{"total", i.total},
                      {"mtta", i.mtta_min ? fmt(*i.mtta_min, 1) : "—"},
                      {"mttr", i.mttr_min ? fmt(*i.mttr_min, 1) : "—"},
                      {"respond_rate", fmt_pct(i.respond_on_time_rate, 1)},
                      {"repair_rate", fmt_pct(i.repair_on_time_rate, 1)}};
  }

  json ledger = json::array(), all = json::array();
  for (const auto& i : r.items) {
    json row = item_row(i, s);
    if (i.verdict == Verdict::kAbnormal) ledger.push_back(row);
    all.push_back(row);
  }
  v["ledger"] = ledger;
  v["items"] = all;
  json carried = json::array();
  for (const auto& i : r.carried_over) {
    json row = item_row(i, s);
    row["since"] = i.since_ms != 0 ? when(i.since_ms, off) : "—";
    carried.push_back(row);
  }
  v["carried"] = carried;
  json weeks = json::array();
  for (const auto& w : r.weeks) {
    std::string left;
    for (const auto& i : w.carried_over) {
      const json row = item_row(i, s);
      left += (left.empty() ? "" : s.get("list_sep")) + row["content"].get<std::string>() + s.get("colon") +
              row["result"].get<std::string>();
    }
    weeks.push_back({{"week", w.period.first_day.str() + " — " + w.period.last_day.str()},
                     {"verdict", s.get(std::string(to_string(w.overall)))}, {"cls", verdict_class(w.overall)},
                     {"abnormal", w.abnormal}, {"carried", left.empty() ? s.get("none") : left}});
  }
  v["weeks"] = weeks;
  json ni = json::array();
  for (const auto& n : r.not_inspected) {
    std::string reason = s.get("reason_" + n.reason);
    if (n.reason == "gap") reason += " " + when(n.from_ms, off) + " — " + when(n.to_ms, off);
    ni.push_back({{"host", n.host}, {"check", n.check.empty() ? s.get("whole_host") : n.check},
                  {"reason", reason}, {"no_data_min", minutes(n.no_data_ms)}});
  }
  v["not_inspected"] = ni;
  json recs = json::array();
  for (const auto& rec : r.recommendations) {
    std::string value = !rec.value ? "" : rec.rule == "below_target" ? fmt_pct(rec.value, 3) : fmt(*rec.value, 1);
    std::string target = rec.rule == "below_target" && rec.target.empty() ? s.get("all_hosts") : rec.target;
    recs.push_back({{"text", s.get("rec_" + rec.rule, value, rec.host, target)}});
  }
  v["recommendations"] = recs;
  json audit = json::array();
  for (const auto& a : r.audit) audit.push_back({{"action", a.action}, {"count", a.count}});
  v["audit"] = audit;
  v["plan_notes"] = r.plan_notes;
  v["no_plan"] = s.get("no_plan");
  return v;
}

}  // namespace xj::reports::detail
