// A host is down while any of its availability checks (contract.availability_kinds: by default
// host:alive, process, port, http) is critical; it has no data where none of them has a known
// status, and wherever its agent reported a gap (dropped results, from the first dropped
// result's time to the last's: what happened is unknown, so it is neither up nor down). Up is the rest of its window. A system is down while any of its
// hosts is down, up while one of them is observed and none is down.
#include <algorithm>
#include <map>

#include "detail/availability.hpp"

namespace xj::reports::detail {
namespace {

Verdict verdict_of(const Uptime& u, double target) {
  auto a = u.availability_pct();
  if (!a) return Verdict::kNoData;
  return *a + 1e-9 < target ? Verdict::kAbnormal : Verdict::kNormal;
}

struct HostSpans {
  Intervals window, up, down, no_data;
};

Uptime uptime_of(const HostSpans& s) {
  Uptime u;
  u.window_ms = s.window.length();
  u.up_ms = s.up.length();
  u.down_ms = s.down.length();
  u.no_data_ms = s.no_data.length();
  u.down_events = static_cast<int>(s.down.parts().size());
  return u;
}

// up / down / no data from what is known, what is down and what is a gap, within the window.
HostSpans account(const Intervals& window, const Intervals& known, const Intervals& down_raw,
                  const Intervals& gaps) {
  HostSpans s;
  s.window = window;
  const Intervals gap = gaps.intersect(window);
  s.down = down_raw.intersect(window).minus(gap);
  s.no_data = window.minus(known);
  s.no_data.unite(gap);
  s.up = window.minus(s.down).minus(s.no_data);
  return s;
}

std::vector<std::optional<double>> daily(const Report& r, const HostSpans& s) {
  std::vector<std::optional<double>> out;
  for (std::size_t i = 0; i < r.day_ms.size(); ++i) {
    const std::int64_t a = r.day_ms[i];
    const std::int64_t b = i + 1 == r.day_ms.size() ? r.period.to_ms : r.day_ms[i + 1];
    const std::int64_t up = s.up.length_within(a, b), down = s.down.length_within(a, b);
    out.push_back(up + down > 0 ? std::optional<double>(100.0 * static_cast<double>(up) /
                                                        static_cast<double>(up + down))
                                : std::nullopt);
  }
  return out;
}

}  // namespace

CheckSpans spans_of(const CheckTimeline& t, std::int64_t from, std::int64_t to) {
  CheckSpans s;
  std::optional<Status> cur = t.at_start;
  std::int64_t cur_ts = from;
  auto close = [&](std::int64_t end) {
    if (cur && end > cur_ts) {
      s.known.add(cur_ts, end);
      if (*cur == Status::kCritical) s.critical.add(cur_ts, end);
      if (s.first_known_ms == 0) s.first_known_ms = cur_ts;
    }
  };
  for (const auto& c : t.changes) {
    if (c.ts_ms >= to) break;
    const std::int64_t ts = std::max(c.ts_ms, from);
    close(ts);
    cur = c.to;
    cur_ts = ts;
  }
  close(to);
  s.at_end = cur;
  return s;
}

std::string system_of(const ContractConfig& contract, const Labels& labels) {
  for (const auto& sys : contract.systems) {
    bool all = true;
    for (const auto& [k, v] : sys.match) {
      auto it = labels.find(k);
      if (it == labels.end() || it->second != v) all = false;
    }
    if (all) return sys.name;
  }
  return "";
}

void compute_availability(Report& r, const std::vector<SourceHost>& hosts,
                          const std::vector<CheckTimeline>& timelines,
                          const std::vector<SourceGap>& gaps) {
  const auto& kinds = r.contract.availability_kinds;
  auto is_avail = [&](const std::string& kind) {
    return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
  };
  std::map<std::string, std::vector<const CheckTimeline*>> by_host;
  for (const auto& t : timelines) {
    if (is_avail(t.kind)) by_host[t.host].push_back(&t);
  }
  std::map<std::string, Intervals> gap_by_host;
  for (const auto& g : gaps) gap_by_host[g.host].add(g.from_ts, g.to_ts);

  std::map<std::string, HostSpans> spans;
  for (const auto& h : hosts) {
    const std::int64_t from = std::max(r.period.from_ms, h.first_seen_ms);
    const Intervals window(from, r.data_end_ms);
    Intervals known, down;
    for (const CheckTimeline* t : by_host[h.id]) {
      CheckSpans cs = spans_of(*t, from, r.data_end_ms);
      known.unite(cs.known);
      down.unite(cs.critical);
      HostSpans check = account(window.intersect(cs.known.empty() ? window : Intervals(cs.first_known_ms, r.data_end_ms)),
                                cs.known, cs.critical, gap_by_host[h.id]);
      if (t->kind != "alive") r.services.push_back({h.id, t->check, t->kind, uptime_of(check)});
    }
    HostSpans hs = account(window, known, down, gap_by_host[h.id]);
    HostAvailability ha;
    ha.host = h.id;
    ha.hostname = h.hostname;
    ha.system = system_of(r.contract, h.labels);
    ha.first_seen_ms = h.first_seen_ms;
    ha.added_in_period = h.first_seen_ms > r.period.from_ms;
    ha.uptime = uptime_of(hs);
    ha.verdict = verdict_of(ha.uptime, r.contract.availability_target);
    r.hosts.push_back(std::move(ha));
    spans[h.id] = std::move(hs);
  }

  // Systems: the configured ones, or every host as one when none is configured.
  std::vector<SystemSpec> systems = r.contract.systems;
  if (systems.empty()) systems.push_back(SystemSpec{"", {}});
  for (const auto& spec : systems) {
    SystemAvailability sa;
    sa.name = spec.name;
    sa.target_pct = r.contract.availability_target;
    Intervals window, observed, down;
    for (const auto& h : r.hosts) {
      if (!spec.name.empty() && h.system != spec.name) continue;
      sa.hosts.push_back(h.host);
      const HostSpans& hs = spans[h.host];
      window.unite(hs.window);
      observed.unite(hs.up);
      observed.unite(hs.down);
      down.unite(hs.down);
    }
    HostSpans ss;
    ss.window = window;
    ss.down = down;
    ss.no_data = window.minus(observed);
    ss.up = observed.minus(down);
    sa.uptime = uptime_of(ss);
    sa.verdict = verdict_of(sa.uptime, sa.target_pct);
    sa.daily_pct = daily(r, ss);
    r.systems.push_back(std::move(sa));
  }
}

}  // namespace xj::reports::detail
