// The model as JSON (`--format json`): numbers as numbers, absent values as null, times as
// epoch ms plus the local text, so a script can check any figure of the rendered report.
#include <nlohmann/json.hpp>

#include "xj/reports/report_model.hpp"

namespace xj::reports {
namespace {

using nlohmann::json;

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json uptime(const Uptime& u) {
  return {{"window_ms", u.window_ms},     {"up_ms", u.up_ms},
          {"down_ms", u.down_ms},         {"no_data_ms", u.no_data_ms},
          {"down_minutes", static_cast<double>(u.down_ms) / 60'000.0},
          {"down_events", u.down_events}, {"availability_pct", opt(u.availability_pct())},
          {"coverage_pct", u.coverage_pct()}};
}

json stat(const ResourceStat& s) {
  return {{"avg", opt(s.avg)}, {"peak", opt(s.peak)}, {"last", opt(s.last)},
          {"standard", s.standard}, {"verdict", to_string(s.verdict)}};
}

json judged(const Judged& v) {
  return {{"value", opt(v.value)}, {"standard", v.standard}, {"verdict", to_string(v.verdict)}};
}

json item(const InspectionItem& i) {
  json j{{"subject", i.subject}, {"host", i.host},     {"target", i.target},
         {"value", opt(i.value)}, {"standard", opt(i.standard)}, {"verdict", to_string(i.verdict)}};
  if (!i.status.empty()) j["status"] = i.status;
  if (i.since_ms != 0) j["since_ms"] = i.since_ms;
  return j;
}

}  // namespace

json to_json(const Report& r) {
  json j;
  j["kind"] = to_string(r.kind);
  j["period"] = {{"key", r.period.key()},
                 {"from_ms", r.period.from_ms},
                 {"to_ms", r.period.to_ms},
                 {"first_day", r.period.first_day.str()},
                 {"last_day", r.period.last_day.str()}};
  j["locale"] = r.locale;
  j["generated_ms"] = r.generated_ms;
  j["data_end_ms"] = r.data_end_ms;
  const auto& c = r.contract;
  j["contract"] = {{"customer", c.customer},
                   {"service_company", c.service_company},
                   {"term", {{"from", c.term_from}, {"to", c.term_to}}},
                   {"availability_target_pct", c.availability_target}};
  j["overall"] = to_string(r.overall);
  j["hosts_total"] = r.hosts_total;
  j["checks_total"] = r.checks_total;
  j["abnormal_items"] = r.abnormal_count();
  for (const auto& s : r.systems) {
    json daily = json::array();
    for (const auto& d : s.daily_pct) daily.push_back(opt(d));
    j["systems"].push_back({{"name", s.name}, {"hosts", s.hosts}, {"uptime", uptime(s.uptime)},
                            {"target_pct", s.target_pct}, {"verdict", to_string(s.verdict)},
                            {"daily_availability_pct", daily}});
  }
  for (const auto& h : r.hosts) {
    j["hosts"].push_back({{"host", h.host}, {"hostname", h.hostname}, {"system", h.system},
                          {"first_seen_ms", h.first_seen_ms}, {"added_in_period", h.added_in_period},
                          {"uptime", uptime(h.uptime)}, {"verdict", to_string(h.verdict)}});
  }
  for (const auto& s : r.services) {
    j["services"].push_back({{"host", s.host}, {"check", s.check}, {"kind", s.kind}, {"uptime", uptime(s.uptime)}});
  }
  for (const auto& res : r.resources) {
    json disks = json::array();
    for (const auto& d : res.disks) {
      disks.push_back({{"check", d.check}, {"mount", d.mount}, {"used", stat(d.used)},
                       {"growth_pct_per_day", opt(d.growth_pct_per_day)},
                       {"days_to_full", opt(d.days_to_full)}, {"daily_last", d.daily_last}});
    }
    j["resources"].push_back({{"host", res.host}, {"cpu", stat(res.cpu)}, {"memory", stat(res.memory)}, {"disks", disks}});
  }
  for (const auto& d : r.databases) {
    json sizes = json::array(), spaces = json::array();
    for (const auto& z : d.sizes) {
      sizes.push_back({{"name", z.name}, {"last_bytes", z.last_bytes}, {"growth_bytes", opt(z.growth_bytes)}});
    }
    for (const auto& t : d.tablespaces) {
      spaces.push_back({{"name", t.name}, {"size_bytes", opt(t.size_bytes)}, {"used_pct", judged(t.used_pct)},
                        {"peak_pct", opt(t.peak_pct)}});
    }
    j["databases"].push_back({{"host", d.host}, {"check", d.check}, {"kind", d.kind},
                              {"connections_peak", opt(d.connections_peak)},
                              {"max_connections", opt(d.max_connections)},
                              {"connections_peak_pct", judged(d.connections_pct)}, {"sizes", sizes},
                              {"tablespaces", spaces}, {"replication_lag_peak_s", judged(d.replication_lag_s)},
                              {"long_queries_peak", opt(d.long_queries_peak)},
                              {"longest_query_s", judged(d.longest_query_s)}});
  }
  for (const auto& b : r.backups) {
    j["backups"].push_back({{"host", b.host}, {"check", b.check}, {"last_age_h", opt(b.last_h)},
                            {"age_peak_h", judged(b.age_peak_h)}});
  }
  for (const auto& c : r.chain_nodes) {
    json ledgers = json::array();
    for (const auto& l : c.ledgers) {
      ledgers.push_back({{"name", l.name}, {"first", l.first}, {"last", l.last}, {"growth", l.growth()}});
    }
    j["chain_nodes"].push_back({{"host", c.host}, {"check", c.check}, {"kind", c.kind}, {"chain", c.chain},
                                {"ledgers", ledgers}, {"longest_interval_s", judged(c.longest_interval_s)},
                                {"lag_blocks", judged(c.lag_blocks)}, {"peers_min", judged(c.peers_min)},
                                {"stalls", judged(c.stalls)}});
  }
  for (const auto& e : r.expiries) {
    j["expiries"].push_back({{"host", e.host}, {"check", e.check}, {"kind", e.kind}, {"target", e.target},
                             {"days_left", e.days_left}, {"within_days", e.within_days}});
  }
  json top = json::array();
  for (const auto& t : r.alerts.top) top.push_back({{"host", t.host}, {"check", t.check}, {"firings", t.firings}});
  j["alerts"] = {{"total", r.alerts.total}, {"by_severity", r.alerts.by_severity}, {"top", top},
                 {"daily", r.alerts.daily}, {"daily_by_severity", r.alerts.daily_by_severity}};
  const auto& d = r.deliveries;
  j["deliveries"] = {{"total", d.total}, {"delivered", d.delivered}, {"failed", d.failed}, {"pending", d.pending},
                     {"success_rate_pct", d.delivered + d.failed > 0
                                              ? json(100.0 * static_cast<double>(d.delivered) /
                                                     static_cast<double>(d.delivered + d.failed))
                                              : json(nullptr)}};
  if (r.incidents) {
    const auto& i = *r.incidents;
    j["incidents"] = {{"tracked", true},         {"total", i.total},
                      {"mtta_min", opt(i.mtta_min)}, {"mttr_min", opt(i.mttr_min)},
                      {"respond_on_time_rate", opt(i.respond_on_time_rate)},
                      {"repair_on_time_rate", opt(i.repair_on_time_rate)}};
  } else {
    j["incidents"] = {{"tracked", false}};
  }
  j["licence_registry"] = {{"tracked", r.licence_registry}, {"licences", json::array()}, {"events", json::array()}};
  for (const auto& l : r.licences) {
    j["licence_registry"]["licences"].push_back({{"id", l.id}, {"product", l.product}, {"holder", l.holder},
                                                 {"host", l.host}, {"state", l.state}, {"source", l.source},
                                                 {"expiry_ms", l.expiry_ms}, {"days_left", l.days_left},
                                                 {"within_days", l.within_days}});
  }
  for (const auto& e : r.licence_events) {
    j["licence_registry"]["events"].push_back({{"licence", e.licence}, {"ts_ms", e.ts_ms}, {"product", e.product},
                                               {"holder", e.holder}, {"event", e.event}, {"actor", e.actor}});
  }
  for (const auto& i : r.items) j["items"].push_back(item(i));
  j["carried_over"] = json::array();
  for (const auto& i : r.carried_over) j["carried_over"].push_back(item(i));
  j["not_inspected"] = json::array();
  for (const auto& n : r.not_inspected) {
    json x{{"host", n.host}, {"check", n.check}, {"reason", n.reason}, {"no_data_ms", n.no_data_ms}};
    if (n.reason == "gap") {
      x["from_ms"] = n.from_ms;
      x["to_ms"] = n.to_ms;
      x["dropped"] = n.dropped;
    }
    j["not_inspected"].push_back(x);
  }
  j["recommendations"] = json::array();
  for (const auto& rec : r.recommendations) {
    j["recommendations"].push_back({{"rule", rec.rule}, {"host", rec.host}, {"target", rec.target}, {"value", opt(rec.value)}});
  }
  j["audit"] = json::array();
  for (const auto& a : r.audit) j["audit"].push_back({{"action", a.action}, {"count", a.count}});
  j["plan_notes"] = r.plan_notes;
  j["weeks"] = json::array();
  for (const auto& w : r.weeks) {
    json carried = json::array();
    for (const auto& i : w.carried_over) carried.push_back(item(i));
    j["weeks"].push_back({{"key", w.period.key()}, {"first_day", w.period.first_day.str()},
                          {"last_day", w.period.last_day.str()}, {"overall", to_string(w.overall)},
                          {"abnormal_items", w.abnormal}, {"carried_over", carried}});
  }
  for (const char* k : {"systems", "hosts", "services", "resources", "databases", "backups", "chain_nodes",
                        "expiries", "items"}) {
    if (!j.contains(k)) j[k] = json::array();
  }
  return j;
}

}  // namespace xj::reports
