// Databases: connections peak against the server's maximum, sizes at the end with the growth
// the check measured run by run (summed), tablespaces, replication lag, long queries. Backups:
// the newest file's age (file_age). Chain nodes: height at the first and the last sample,
// the longest time without a block (peak of the head's age), lag behind the group (the chain
// view's lag_blocks, or the node's own sync lag), fewest peers, and stalls (times the check
// turned critical). Every figure is a min, max, last or sum of daily rollups.
#include "detail/databases.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "detail/availability.hpp"

namespace xj::reports::detail {
namespace {

// A series (host, check, metric, labels) over the period's days.
struct Agg {
  std::string host, check, kind, metric;
  Labels labels;
  double min = 0, max = 0, sum = 0, first = 0, last = 0;
  std::int64_t first_day = 0, last_day = 0, count = 0;
  void add(const MetricDay& d) {
    if (count == 0 || d.day_ms < first_day) first_day = d.day_ms, first = d.min;
    if (count == 0 || d.day_ms >= last_day) last_day = d.day_ms, last = d.last;
    min = count == 0 ? d.min : std::min(min, d.min);
    max = count == 0 ? d.max : std::max(max, d.max);
    sum += d.sum;
    count += d.count;
  }
};

std::string label(const Labels& l, const std::string& key) {
  auto it = l.find(key);
  return it == l.end() ? "" : it->second;
}

// The series of one check, by metric.
using CheckSeries = std::multimap<std::string, const Agg*>;

// The highest max (lowest min) of the named metrics' series.
std::optional<double> fold(const CheckSeries& s, std::initializer_list<const char*> metrics, bool highest) {
  std::optional<double> out;
  for (const char* m : metrics) {
    for (auto [it, end] = s.equal_range(m); it != end; ++it) {
      const double v = highest ? it->second->max : it->second->min;
      out = !out ? v : highest ? std::max(*out, v) : std::min(*out, v);
    }
  }
  return out;
}
std::optional<double> peak(const CheckSeries& s, std::initializer_list<const char*> metrics) {
  return fold(s, metrics, true);
}
std::optional<double> lowest(const CheckSeries& s, std::initializer_list<const char*> metrics) {
  return fold(s, metrics, false);
}

std::optional<double> last_of(const CheckSeries& s, std::initializer_list<const char*> metrics) {
  for (const char* m : metrics) {
    auto it = s.find(m);
    if (it != s.end()) return it->second->last;
  }
  return std::nullopt;
}

// Above the standard is abnormal ("≤ standard" is normal).
Judged at_most(std::optional<double> v, double standard) {
  return {v, standard,
          !v                     ? Verdict::kNoData
          : *v > standard + 1e-9 ? Verdict::kAbnormal
                                 : Verdict::kNormal};
}
// Below the standard is abnormal.
Judged at_least(std::optional<double> v, double standard) {
  return {v, standard,
          !v                     ? Verdict::kNoData
          : *v + 1e-9 < standard ? Verdict::kAbnormal
                                 : Verdict::kNormal};
}

bool is_db(const std::string& k) { return k == "postgres" || k == "mysql" || k == "odbc"; }
bool is_chain(const std::string& k) {
  return k == "ethereum" || k == "fisco_bcos" || k == "fabric" || k == "chainmaker";
}

DatabaseStat database_of(const std::string& host, const std::string& check, const std::string& kind,
                         const CheckSeries& s, const Standards& st) {
  DatabaseStat d;
  d.host = host;
  d.check = check;
  d.kind = kind;
  d.connections_peak = peak(s, {"connections", "sessions"});
  d.max_connections = last_of(s, {"max_connections", "max_sessions"});
  d.connections_pct = at_most(peak(s, {"connections_pct", "sessions_pct"}), st.db_connections_pct);
  // Sizes per database / schema; growth is the check's growth since each previous run, summed.
  std::map<std::string, DbSize> sizes;
  for (const char* m : {"db_size_bytes", "schema_size_bytes"}) {
    for (auto [it, end] = s.equal_range(m); it != end; ++it) {
      const std::string name = label(it->second->labels, m[0] == 'd' ? "database" : "schema");
      sizes[name].name = name;
      sizes[name].last_bytes = it->second->last;
    }
  }
  for (const char* m : {"db_growth_bytes", "schema_growth_bytes"}) {
    for (auto [it, end] = s.equal_range(m); it != end; ++it) {
      auto found = sizes.find(label(it->second->labels, m[0] == 'd' ? "database" : "schema"));
      if (found != sizes.end())
        found->second.growth_bytes = found->second.growth_bytes.value_or(0) + it->second->sum;
    }
  }
  for (auto& [name, size] : sizes) d.sizes.push_back(std::move(size));
  std::map<std::string, Tablespace> spaces;
  for (auto [it, end] = s.equal_range("tablespace_size_bytes"); it != end; ++it) {
    const std::string name = label(it->second->labels, "tablespace");
    spaces[name].name = name;
    spaces[name].size_bytes = it->second->last;
  }
  for (auto [it, end] = s.equal_range("tablespace_used_pct"); it != end; ++it) {
    const std::string name = label(it->second->labels, "tablespace");
    spaces[name].name = name;
    spaces[name].used_pct = at_most(it->second->last, st.tablespace_pct);
    spaces[name].peak_pct = it->second->max;
  }
  for (auto& [name, space] : spaces) {
    if (!space.used_pct.value) space.used_pct.standard = st.tablespace_pct;
    d.tablespaces.push_back(std::move(space));
  }
  d.replication_lag_s = at_most(peak(s, {"replication_lag_s", "replay_delay_s", "seconds_behind"}),
                                st.replication_lag_s);
  d.long_queries_peak = peak(s, {"long_queries"});
  d.longest_query_s = at_most(peak(s, {"longest_query_s"}), st.long_query_s);
  return d;
}

}  // namespace

const std::vector<std::string>& database_kinds() {
  static const std::vector<std::string> k{"postgres", "mysql",      "odbc",
                                          "file_age", "ethereum",   "fisco_bcos",
                                          "fabric",   "chainmaker", kChainViewKind};
  return k;
}

const std::vector<std::string>& database_metrics() {
  static const std::vector<std::string> m{"connections",
                                          "sessions",
                                          "max_connections",
                                          "max_sessions",
                                          "connections_pct",
                                          "sessions_pct",
                                          "db_size_bytes",
                                          "db_growth_bytes",
                                          "schema_size_bytes",
                                          "schema_growth_bytes",
                                          "tablespace_size_bytes",
                                          "tablespace_used_pct",
                                          "replication_lag_s",
                                          "replay_delay_s",
                                          "seconds_behind",
                                          "long_queries",
                                          "longest_query_s",
                                          "age_s",
                                          "block_number",
                                          "block_counter",
                                          "head_age_s",
                                          "height_flat_s",
                                          "block_flat_s",
                                          "sync_lag_blocks",
                                          "peers",
                                          "peers_known",
                                          "lag_blocks"};
  return m;
}

void compute_databases(Report& r, const std::vector<MetricDay>& rows,
                       const std::vector<CheckTimeline>& timelines) {
  const Standards& st = r.contract.standards;
  std::map<std::string, Agg> series;  // keyed by host, check, metric, labels
  for (const auto& d : rows) {
    std::string key = d.host + "\x1f" + d.check + "\x1f" + d.metric;
    for (const auto& [k, v] : d.labels) key += "\x1f" + k + "=" + v;
    Agg& a = series[key];
    if (a.count == 0)
      a.host = d.host, a.check = d.check, a.kind = d.kind, a.metric = d.metric, a.labels = d.labels;
    a.add(d);
  }
  // host, check -> its series; the chain view's lag per member.
  std::map<std::pair<std::string, std::string>, CheckSeries> checks;
  std::map<std::pair<std::string, std::string>, double> view_lag;
  std::map<std::pair<std::string, std::string>, std::string> chain_of;  // from the view's check id
  std::map<std::pair<std::string, std::string>, std::string> kinds;
  for (const auto& [key, a] : series) {
    if (a.kind == kChainViewKind) {
      if (a.metric != "lag_blocks") continue;
      const std::pair<std::string, std::string> member{label(a.labels, "host"),
                                                       label(a.labels, "check")};
      auto [it, added] = view_lag.emplace(member, a.max);
      if (!added) it->second = std::max(it->second, a.max);
      chain_of[member] = a.check.rfind("chain:", 0) == 0 ? a.check.substr(6) : a.check;
      continue;
    }
    checks[{a.host, a.check}].emplace(a.metric, &a);
    kinds[{a.host, a.check}] = a.kind;
  }
  std::map<std::pair<std::string, std::string>, const CheckTimeline*> timeline;
  for (const auto& t : timelines) timeline[{t.host, t.check}] = &t;

  for (const auto& [hc, s] : checks) {
    const std::string& kind = kinds[hc];
    if (is_db(kind)) {
      r.databases.push_back(database_of(hc.first, hc.second, kind, s, st));
    } else if (kind == "file_age") {
      BackupStat b{hc.first, hc.second, std::nullopt, {}};
      if (auto last = last_of(s, {"age_s"})) b.last_h = *last / 3600;
      auto age = peak(s, {"age_s"});
      b.age_peak_h =
          at_most(age ? std::optional<double>(*age / 3600) : std::nullopt, st.backup_age_h);
      r.backups.push_back(std::move(b));
    } else if (is_chain(kind)) {
      ChainNodeStat c;
      c.host = hc.first;
      c.check = hc.second;
      c.kind = kind;
      if (auto it = chain_of.find(hc); it != chain_of.end()) c.chain = it->second;
      for (const char* m : {"block_number", "block_counter"}) {
        for (auto [it, end] = s.equal_range(m); it != end; ++it) {
          const Agg& a = *it->second;
          std::string name = label(a.labels, "channel");
          if (name.empty()) name = label(a.labels, "chain_id");
          c.ledgers.push_back({name, a.first, a.last});
        }
      }
      c.longest_interval_s =
          at_most(peak(s, {"head_age_s", "height_flat_s", "block_flat_s"}), st.block_interval_s);
      std::optional<double> lag = peak(s, {"sync_lag_blocks"});
      if (auto it = view_lag.find(hc); it != view_lag.end())
        lag = std::max(lag.value_or(it->second), it->second);
      c.lag_blocks = at_most(lag, st.chain_lag_blocks);
      c.peers_min = at_least(lowest(s, {"peers", "peers_known"}), st.chain_min_peers);
      if (auto it = timeline.find(hc); it != timeline.end()) {
        const CheckSpans spans = spans_of(*it->second, r.period.from_ms, r.data_end_ms);
        c.stalls = at_most(static_cast<double>(spans.critical.parts().size()), 0);
      } else {
        c.stalls.standard = 0;
      }
      r.chain_nodes.push_back(std::move(c));
    }
  }
}

void add_database_items(Report& r) {
  auto add = [&r](const char* subject, const std::string& host, const std::string& target,
                  const Judged& j) {
    if (j.verdict == Verdict::kNoData) return;
    r.items.push_back({subject, host, target, j.value, j.standard, "", j.verdict, 0});
  };
  for (const auto& d : r.databases) {
    add("db_connections", d.host, d.check, d.connections_pct);
    for (const auto& t : d.tablespaces)
      add("tablespace", d.host, d.check + " " + t.name, t.used_pct);
    add("replication_lag", d.host, d.check, d.replication_lag_s);
    add("long_query", d.host, d.check, d.longest_query_s);
  }
  for (const auto& b : r.backups) add("backup", b.host, b.check, b.age_peak_h);
  for (const auto& c : r.chain_nodes) {
    add("block_interval", c.host, c.check, c.longest_interval_s);
    add("chain_lag", c.host, c.check, c.lag_blocks);
    add("chain_peers", c.host, c.check, c.peers_min);
    add("chain_stalls", c.host, c.check, c.stalls);
  }
}

}  // namespace xj::reports::detail
