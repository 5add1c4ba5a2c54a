// build_report(): one pass over what the source returns for the period, in this order —
// availability (timelines), resources (daily rollups), expiries (days_left rollups), alerts,
// deliveries, audit — then the inspection items, what was not inspected, what is carried over
// from the period before, and the recommendations derived from all of it.
#include <algorithm>
#include <map>
#include <set>

#include "detail/availability.hpp"
#include "detail/databases.hpp"
#include "detail/resources.hpp"
#include "xj/reports/report_model.hpp"

namespace xj::reports {
namespace {

using detail::CheckSpans;

std::string severity_name(Status s) {
  switch (s) {
    case Status::kCritical: return "critical";
    case Status::kWarning: return "warning";
    case Status::kOk: return "ok";
    case Status::kUnknown: break;
  }
  return "unknown";
}

std::string label(const Labels& l, const std::string& key) {
  auto it = l.find(key);
  return it == l.end() ? "" : it->second;
}

void add_expiries(Report& r, const std::vector<MetricDay>& rows) {
  // The last day's last value of each series.
  std::map<std::string, const MetricDay*> last;
  for (const auto& d : rows) {
    if (d.metric != "days_left") continue;
    const std::string key = d.host + "\x1f" + d.check + "\x1f" + label(d.labels, "target");
    auto& slot = last[key];
    if (slot == nullptr || d.day_ms >= slot->day_ms) slot = &d;
  }
  for (const auto& [key, d] : last) {
    const int within = d->last <= 30 ? 30 : d->last <= 60 ? 60 : d->last <= 90 ? 90 : 0;
    if (within == 0) continue;
    std::string target = label(d->labels, "target");
    r.expiries.push_back({d->host, d->check, d->kind, target, d->last, within});
  }
  std::sort(r.expiries.begin(), r.expiries.end(),
            [](const Expiry& a, const Expiry& b) { return a.days_left < b.days_left; });
}

// The registry's licences expiring within 90 days of the data end (revoked ones are done
// with), and its lifecycle events of the period; a licence check whose licence is in the
// registry is then listed from the registry only.
void add_registry(Report& r, const LicenceRegistry& reg) {
  r.licence_registry = true;
  std::set<std::pair<std::string, std::string>> registered;
  for (const auto& l : reg.licences) {
    if (l.source == "check") registered.insert({l.host, l.check_id});
    if (l.state == "revoked") continue;
    const double days = static_cast<double>(l.expiry_ms - r.data_end_ms) / 86'400'000.0;
    const int within = days <= 30 ? 30 : days <= 60 ? 60 : days <= 90 ? 90 : 0;
    if (within == 0) continue;
    r.licences.push_back({l.id, l.product, l.holder, l.host, l.state, l.source, l.expiry_ms, days, within});
  }
  std::erase_if(r.expiries, [&](const Expiry& e) { return e.kind == "licence" && registered.count({e.host, e.check}); });
  for (const auto& e : reg.events) {
    if (e.event == "seen") continue;  // a check's sighting, not a lifecycle step
    r.licence_events.push_back({e.licence, e.ts_ms, e.product, e.holder, e.event, e.actor});
  }
}

void add_alerts(Report& r, const std::vector<AlertFiring>& firings) {
  r.alerts.daily.assign(r.day_ms.size(), 0);
  std::map<std::pair<std::string, std::string>, std::int64_t> per_check;
  for (const auto& f : firings) {
    ++r.alerts.total;
    ++r.alerts.by_severity[severity_name(f.severity)];
    ++per_check[{f.host, f.check}];
    auto it = std::upper_bound(r.day_ms.begin(), r.day_ms.end(), f.ts_ms);
    if (it == r.day_ms.begin()) continue;
    const auto day = static_cast<std::size_t>(it - r.day_ms.begin() - 1);
    ++r.alerts.daily[day];
    auto& by = r.alerts.daily_by_severity[severity_name(f.severity)];
    by.resize(r.day_ms.size(), 0);
    ++by[day];
  }
  for (const auto& [k, n] : per_check) r.alerts.top.push_back({k.first, k.second, n});
  std::sort(r.alerts.top.begin(), r.alerts.top.end(), [](const NoisyCheck& a, const NoisyCheck& b) {
    return a.firings != b.firings ? a.firings > b.firings
                                  : std::tie(a.host, a.check) < std::tie(b.host, b.check);
  });
  if (r.alerts.top.size() > 10) r.alerts.top.resize(10);
}

Verdict judge_min(std::optional<double> v, double standard) {
  if (!v) return Verdict::kNoData;
  return *v + 1e-9 < standard ? Verdict::kAbnormal : Verdict::kNormal;
}

void add_items(Report& r) {
  for (const auto& h : r.hosts) {
    r.items.push_back({"availability", h.host, "", h.uptime.availability_pct(),
                       r.contract.availability_target, "",
                       judge_min(h.uptime.availability_pct(), r.contract.availability_target), 0});
  }
  for (const auto& s : r.services) {
    r.items.push_back({"service", s.host, s.check, static_cast<double>(s.uptime.down_ms) / 60'000.0, 0.0,
                       "", s.uptime.up_ms + s.uptime.down_ms == 0 ? Verdict::kNoData
                           : s.uptime.down_ms > 0              ? Verdict::kAbnormal
                                                               : Verdict::kNormal,
                       0});
  }
  for (const auto& res : r.resources) {
    if (res.cpu.verdict != Verdict::kNoData) {
      r.items.push_back({"cpu", res.host, "", res.cpu.avg, res.cpu.standard, "", res.cpu.verdict, 0});
    }
    if (res.memory.verdict != Verdict::kNoData) {
      r.items.push_back({"memory", res.host, "", res.memory.avg, res.memory.standard, "",
                         res.memory.verdict, 0});
    }
    for (const auto& d : res.disks) {
      r.items.push_back({"disk", res.host, d.mount, d.used.last, d.used.standard, "", d.used.verdict, 0});
    }
  }
  for (const auto& l : r.licences) {
    r.items.push_back({"licence", l.host, l.product, l.days_left, 30.0, "",
                       l.days_left <= 30 ? Verdict::kAbnormal : Verdict::kNormal, 0});
  }
  for (const auto& e : r.expiries) {
    r.items.push_back({"expiry", e.host, e.target.empty() ? e.check : e.target, e.days_left, 30.0, "",
                       e.days_left <= 30 ? Verdict::kAbnormal : Verdict::kNormal, 0});
  }
}

}  // namespace

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::kNormal: return "normal";
    case Verdict::kAbnormal: return "abnormal";
    case Verdict::kNoData: break;
  }
  return "no_data";
}

std::optional<double> Uptime::availability_pct() const {
  if (up_ms + down_ms == 0) return std::nullopt;
  return 100.0 * static_cast<double>(up_ms) / static_cast<double>(up_ms + down_ms);
}

double Uptime::coverage_pct() const {
  return window_ms == 0 ? 0.0
                        : 100.0 * static_cast<double>(up_ms + down_ms) / static_cast<double>(window_ms);
}

std::size_t Report::abnormal_count() const {
  return static_cast<std::size_t>(std::count_if(items.begin(), items.end(), [](const InspectionItem& i) {
    return i.verdict == Verdict::kAbnormal;
  }));
}

Report build_report(ReportSource& src, const ContractConfig& contract, const Period& period,
                    const BuildOptions& opt) {
  Report r;
  r.kind = period.kind;
  r.period = period;
  r.contract = contract;
  r.locale = contract.locale;
  r.generated_ms = opt.now_ms;
  r.data_end_ms = std::clamp(opt.now_ms, period.from_ms, period.to_ms);
  const UtcOffset offset = [&src](std::int64_t t) { return src.utc_offset_ms(t); };
  for (std::int64_t d = days_from_civil(period.first_day); d <= days_from_civil(period.last_day); ++d) {
    r.days.push_back(civil_from_days(d));
    r.day_ms.push_back(local_midnight(r.days.back(), offset));
  }

  auto timelines = src.timelines(period.from_ms, r.data_end_ms);
  // The collector's own host, which carries only the derived chain-group results, is not a
  // host of the report (it has no availability of its own); its chain results still count.
  std::set<std::string> real_hosts, derived_hosts;
  for (const auto& t : timelines) {
    (t.kind == detail::kChainViewKind ? derived_hosts : real_hosts).insert(t.host);
  }
  // Hosts that existed before the data end; a later one is not part of this period.
  std::vector<SourceHost> hosts;
  for (auto& h : src.hosts()) {
    if (h.first_seen_ms < r.data_end_ms && (real_hosts.count(h.id) || !derived_hosts.count(h.id))) {
      hosts.push_back(std::move(h));
    }
  }
  std::set<std::string> host_ids;
  for (const auto& h : hosts) host_ids.insert(h.id);
  r.hosts_total = static_cast<std::int64_t>(hosts.size());

  std::erase_if(timelines, [&](const CheckTimeline& t) {
    return !host_ids.count(t.host) && t.kind != detail::kChainViewKind;
  });
  r.checks_total = static_cast<std::int64_t>(timelines.size());
  const auto gaps = src.gaps(period.from_ms, r.data_end_ms);
  detail::compute_availability(r, hosts, timelines, gaps);

  r.resources = detail::compute_resources(
      src.metric_days(period.from_ms, period.to_ms, detail::resource_kinds(), detail::resource_metrics()),
      contract.standards);
  detail::compute_databases(
      r, src.metric_days(period.from_ms, period.to_ms, detail::database_kinds(), detail::database_metrics()),
      timelines);
  add_expiries(r, src.metric_days(period.from_ms, period.to_ms, {"tls_cert", "licence"}, {"days_left"}));
  if (auto reg = src.licence_registry(period.from_ms, r.data_end_ms)) add_registry(r, *reg);
  add_alerts(r, src.alert_firings(period.from_ms, r.data_end_ms));
  r.deliveries = src.deliveries(period.from_ms, r.data_end_ms);
  r.audit = src.audit_counts(period.from_ms, r.data_end_ms);
  r.incidents = src.incidents(period.from_ms, r.data_end_ms);
  r.plan_notes = src.plan_notes(period.key());
  add_items(r);
  detail::add_database_items(r);

  // Checks whose status at the end is not ok: abnormal items; those already not ok at the
  // start are carried over (遗留问题). Availability checks are judged by their downtime above.
  std::map<std::string, std::int64_t> first_seen;
  for (const auto& h : hosts) first_seen[h.id] = h.first_seen_ms;
  std::map<std::pair<std::string, std::string>, const CheckStatusTime*> times;
  const auto status_time = src.status_time(period.from_ms, period.to_ms);
  for (const auto& t : status_time) times[{t.host, t.check}] = &t;
  for (const auto& t : timelines) {
    const std::int64_t from = std::max(period.from_ms, first_seen[t.host]);
    const CheckSpans cs = detail::spans_of(t, from, r.data_end_ms);
    if (cs.at_end && *cs.at_end != Status::kOk) {
      InspectionItem item{"status", t.host, t.check, std::nullopt, std::nullopt,
                          severity_name(*cs.at_end), Verdict::kAbnormal, 0};
      r.items.push_back(item);
      if (t.at_start && *t.at_start != Status::kOk) {
        item.status = severity_name(*cs.at_end);
        item.since_ms = t.at_start_since_ms;
        r.carried_over.push_back(item);
      }
    }
    // 未巡检: the part of the check's window without time in any status.
    if (cs.first_known_ms == 0) continue;
    const std::int64_t expected = r.data_end_ms - std::max(from, cs.first_known_ms);
    auto it = times.find({t.host, t.check});
    const std::int64_t seen = it == times.end() ? 0
                                                : it->second->ok_ms + it->second->warning_ms +
                                                      it->second->critical_ms + it->second->unknown_ms;
    const std::int64_t missing = expected - std::min(seen, expected);
    if (seen == 0 && expected > opt.no_data_tolerance_ms) {
      r.not_inspected.push_back({t.host, t.check, "no_data", expected, 0, 0, 0});
    } else if (missing > opt.no_data_tolerance_ms) {
      r.not_inspected.push_back({t.host, t.check, "partial", missing, 0, 0, 0});
    }
  }
  for (const auto& h : r.hosts) {
    if (h.uptime.up_ms + h.uptime.down_ms == 0 && h.uptime.window_ms > 0) {
      r.not_inspected.push_back({h.host, "", "no_data", h.uptime.window_ms, 0, 0, 0});
    }
  }
  for (const auto& g : gaps) {
    if (host_ids.count(g.host)) r.not_inspected.push_back({g.host, "", "gap", g.to_ts - g.from_ts, g.from_ts, g.to_ts, g.count});
  }

  // Disks over their standard already at the end of the day before: carried over.
  const std::int64_t prev_day = local_midnight(civil_from_days(days_from_civil(period.first_day) - 1), offset);
  std::set<std::string> disks_over_before;
  for (const auto& d : src.metric_days(prev_day, period.from_ms, {"disk"}, {"used_pct"})) {
    if (d.last > contract.standards.disk_pct) disks_over_before.insert(d.host + "\x1f" + label(d.labels, "mount"));
  }
  for (const auto& res : r.resources) {
    for (const auto& d : res.disks) {
      if (d.used.verdict == Verdict::kAbnormal && disks_over_before.count(res.host + "\x1f" + d.mount)) {
        r.carried_over.push_back({"disk", res.host, d.mount, d.used.last, d.used.standard, "",
                                  Verdict::kAbnormal, 0});
      }
      if (d.days_to_full && *d.days_to_full <= contract.standards.disk_full_days) {
        r.recommendations.push_back({"disk_full", res.host, d.mount, d.days_to_full});
      }
    }
  }
  for (const auto& s : r.systems) {
    if (s.verdict == Verdict::kAbnormal) {
      r.recommendations.push_back({"below_target", "", s.name, s.uptime.availability_pct()});
    }
  }
  for (const auto& l : r.licences) {
    if (l.days_left <= 30) r.recommendations.push_back({"expiry", l.host, l.product, l.days_left});
  }
  for (const auto& e : r.expiries) {
    if (e.days_left <= 30) r.recommendations.push_back({"expiry", e.host, e.target.empty() ? e.check : e.target, e.days_left});
  }
  for (const auto& n : r.not_inspected) {
    if (n.check.empty() && n.reason == "no_data") r.recommendations.push_back({"no_data", n.host, "", std::nullopt});
  }

  const bool any_data = std::any_of(r.hosts.begin(), r.hosts.end(), [](const HostAvailability& h) {
    return h.uptime.up_ms + h.uptime.down_ms > 0;
  });
  r.overall = !any_data ? Verdict::kNoData : r.abnormal_count() > 0 ? Verdict::kAbnormal : Verdict::kNormal;

  // The month's weekly inspections, each built as its own weekly report would be.
  if (period.kind == ReportKind::kMonthly) {
    for (Period w = week_of(period.first_day, offset); w.from_ms < r.data_end_ms;
         w = week_of(civil_from_days(days_from_civil(w.last_day) + 1), offset)) {
      const Report week = build_report(src, contract, w, opt);
      r.weeks.push_back({w, week.overall, week.abnormal_count(), week.carried_over});
    }
  }
  return r;
}

}  // namespace xj::reports
