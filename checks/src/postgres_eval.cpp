// Rows of the postgres statements -> metrics. Pure: no libpq here.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <regex>

#include "xj/checks/postgres_check.hpp"

namespace xj {
namespace {

constexpr std::size_t kLongQuerySamples = 5;

const SqlTable* find(const SqlSnapshot& s, const std::string& name) {
  auto it = s.find(name);
  return it == s.end() ? nullptr : &it->second;
}

// A required numeric column; the error names statement and column.
Expected<double> need(const SqlTable& t, std::size_t row, const char* statement,
                      const char* column) {
  if (t.column(column) < 0) {
    return make_error(std::string("statement '") + statement + "' returned no column '" +
                      column + "'");
  }
  auto v = t.number(row, column);
  if (!v) {
    return make_error(std::string("statement '") + statement + "' column '" + column +
                      "' is not a number");
  }
  return *v;
}

double limit_of(const std::optional<Range>& warn, const std::optional<Range>& crit) {
  if (warn && !warn->inverted() && std::isfinite(warn->end())) return warn->end();
  if (crit && !crit->inverted() && std::isfinite(crit->end())) return crit->end();
  return std::numeric_limits<double>::infinity();
}

}  // namespace

std::string condense_pg_error(const std::string& libpq_message) {
  std::string first = libpq_message.substr(0, libpq_message.find('\n'));
  while (!first.empty() && std::isspace(static_cast<unsigned char>(first.back()))) first.pop_back();
  static const std::regex tcp(R"re(^connection to server at "([^"]*)" \(([^)]*)\), port (\d+) failed: (.*)$|^connection to server at "([^"]*)", port (\d+) failed: (.*)$)re");
  static const std::regex unix_socket(R"re(^connection to server on socket "([^"]*)" failed: (.*)$)re");
  std::smatch m;
  auto lower_first = [](std::string s) {
    if (s.size() > 1 && std::isupper(static_cast<unsigned char>(s[0])) &&
        std::islower(static_cast<unsigned char>(s[1]))) {
      s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
    }
    return s;
  };
  if (std::regex_match(first, m, tcp)) {
    if (m[1].matched) return lower_first(m[4].str()) + " at " + m[1].str() + ":" + m[3].str();
    return lower_first(m[7].str()) + " at " + m[5].str() + ":" + m[6].str();
  }
  if (std::regex_match(first, m, unix_socket)) {
    return lower_first(m[2].str()) + " at " + m[1].str();
  }
  return first.empty() ? "unknown libpq error" : first;
}

Expected<bool> evaluate_postgres(const SqlSnapshot& s, const PgThresholds& t, PgHistory& h,
                                 Result& r) {
  auto add = [&](std::string name, double v, std::string unit, Labels labels = {},
                 std::optional<Range> warn = {}, std::optional<Range> crit = {}) {
    r.metrics.push_back(
        Metric{std::move(name), v, std::move(unit), std::move(labels), warn, crit});
  };
  std::string role = "primary", version;
  if (const SqlTable* server = find(s, "server"); server && !server->rows.empty()) {
    version = server->text(0, "version").value_or("");
    auto recovery = server->number(0, "in_recovery");
    if (recovery && *recovery != 0) role = "standby";
    r.details["version"] = version;
    if (auto num = server->number(0, "version_num")) add("version_num", *num, "");
  }
  r.details["role"] = role;
  add("is_standby", role == "standby" ? 1 : 0, "");

  double connections = 0, max_connections = 0, pct = 0;
  if (const SqlTable* a = find(s, "activity")) {
    if (a->rows.size() != 1) return make_error("statement 'activity' must return one row");
    auto c = need(*a, 0, "activity", "connections");
    auto m = need(*a, 0, "activity", "max_connections");
    auto idle = need(*a, 0, "activity", "idle_in_transaction");
    auto locks = need(*a, 0, "activity", "waiting_locks");
    for (const auto* e : {&c, &m, &idle, &locks}) {
      if (!*e) return make_error(e->error());
    }
    connections = *c;
    max_connections = *m;
    pct = max_connections > 0 ? round_to(100.0 * connections / max_connections, 2) : 0;
    add("connections", connections, "");
    add("max_connections", max_connections, "");
    add("connections_pct", pct, "%", {}, t.connections_warn, t.connections_crit);
    add("idle_in_transaction", *idle, "", {}, t.idle_in_transaction_warn,
        t.idle_in_transaction_crit);
    add("waiting_locks", *locks, "", {}, t.waiting_locks_warn, t.waiting_locks_crit);
  }

  std::size_t long_count = 0;
  if (const SqlTable* q = find(s, "long_queries")) {
    const double limit = limit_of(t.long_query_warn, t.long_query_crit);
    double longest = 0;
    nlohmann::json samples = nlohmann::json::array();
    for (std::size_t i = 0; i < q->rows.size(); ++i) {
      double secs = q->number(i, "seconds").value_or(0);
      longest = std::max(longest, secs);
      if (!(secs > limit)) continue;
      ++long_count;
      if (samples.size() < kLongQuerySamples) {
        samples.push_back({{"pid", q->number(i, "pid").value_or(0)},
                           {"user", q->text(i, "user").value_or("")},
                           {"database", q->text(i, "database").value_or("")},
                           {"seconds", round_to(secs, 1)},
                           {"query", q->text(i, "query").value_or("")}});
      }
    }
    add("long_queries", static_cast<double>(long_count), "");
    add("longest_query_s", round_to(longest, 3), "s", {}, t.long_query_warn, t.long_query_crit);
    r.details["long_queries"] = std::move(samples);
  }

  double cache_hit_pct = -1;
  if (const SqlTable* d = find(s, "databases")) {
    double hit = 0, read = 0, deadlocks = 0, rollbacks = 0, xid_age = 0;
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < d->rows.size(); ++i) {
      const std::string db = d->text(i, "database").value_or("?");
      auto size = need(*d, i, "databases", "size_bytes");
      if (!size) return make_error(size.error());
      add("db_size_bytes", *size, "B", {{"database", db}});
      keys.push_back("size/" + db);
      if (auto g = h.counters.delta("size/" + db, *size)) {
        add("db_growth_bytes", *g, "B", {{"database", db}});
      }
      xid_age = std::max(xid_age, d->number(i, "xid_age").value_or(0));
      hit += d->number(i, "blks_hit").value_or(0);
      read += d->number(i, "blks_read").value_or(0);
      deadlocks += d->number(i, "deadlocks").value_or(0);
      rollbacks += d->number(i, "rollbacks").value_or(0);
    }
    if (hit + read > 0) {
      cache_hit_pct = round_to(100.0 * hit / (hit + read), 2);
      add("cache_hit_pct", cache_hit_pct, "%", {}, t.cache_hit_warn, t.cache_hit_crit);
    }
    add("xid_age", xid_age, "", {}, t.xid_age_warn, t.xid_age_crit);
    keys.insert(keys.end(), {"deadlocks", "rollbacks"});
    if (auto dd = h.counters.delta("deadlocks", deadlocks)) {
      add("deadlocks", *dd, "", {}, t.deadlocks_warn, t.deadlocks_crit);
    }
    if (auto dr = h.counters.delta("rollbacks", rollbacks)) add("rollbacks", *dr, "");
    h.counters.forget_missing(keys);
  }

  if (const SqlTable* rep = find(s, "replication")) {
    nlohmann::json standbys = nlohmann::json::array();
    for (std::size_t i = 0; i < rep->rows.size(); ++i) {
      Labels l{{"standby", rep->text(i, "standby").value_or("")}};
      if (auto b = rep->number(i, "lag_bytes")) {
        add("replication_lag_bytes", *b, "B", l, t.lag_bytes_warn, t.lag_bytes_crit);
      }
      // replay_lag is NULL when the standby has caught up and nothing new was written.
      add("replication_lag_s", round_to(rep->number(i, "lag_seconds").value_or(0), 3), "s", l,
          t.lag_warn, t.lag_crit);
      standbys.push_back({{"standby", l["standby"]},
                          {"address", rep->text(i, "address").value_or("")},
                          {"state", rep->text(i, "state").value_or("")},
                          {"sync_state", rep->text(i, "sync_state").value_or("")}});
    }
    add("standbys", static_cast<double>(rep->rows.size()), "");
    r.details["standbys"] = std::move(standbys);
  }
  if (const SqlTable* sb = find(s, "standby"); sb && !sb->rows.empty()) {
    if (sb->column("replay_delay_seconds") < 0) {
      return make_error("statement 'standby' returned no column 'replay_delay_seconds'");
    }
    if (auto delay = sb->number(0, "replay_delay_seconds")) {
      add("replay_delay_s", round_to(*delay, 3), "s", {}, t.lag_warn, t.lag_crit);
    }
    add("replay_lag_bytes", sb->number(0, "replay_lag_bytes").value_or(0), "B", {},
        t.lag_bytes_warn, t.lag_bytes_crit);
    r.details["replay_paused"] = sb->number(0, "replay_paused").value_or(0) != 0;
  }
  if (const SqlTable* ts = find(s, "tablespaces")) {
    for (std::size_t i = 0; i < ts->rows.size(); ++i) {
      if (auto b = ts->number(i, "size_bytes")) {
        add("tablespace_size_bytes", *b, "B",
            {{"tablespace", ts->text(i, "tablespace").value_or("")}});
      }
    }
  }

  r.status = worst(r.status, r.metrics_status());
  std::string text = (version.empty() ? "PostgreSQL" : "PostgreSQL " + version) + " " + role;
  if (max_connections > 0) {
    text += ": " + std::to_string(static_cast<long long>(connections)) + "/" +
            std::to_string(static_cast<long long>(max_connections)) + " connections";
  }
  if (cache_hit_pct >= 0) {
    char buf[48];
    std::snprintf(buf, sizeof buf, ", cache hit %.2f%%", cache_hit_pct);
    text += buf;
  }
  text += ", " + std::to_string(long_count) + " long " +
          (long_count == 1 ? "query" : "queries");
  std::string alerts = describe_alerts(r.metrics);
  r.summary = alerts.empty() ? text : text + "; " + alerts;
  return true;
}

}  // namespace xj
