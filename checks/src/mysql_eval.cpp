// Rows of the mysql statements -> metrics. Pure: no client library here.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <regex>

#include "xj/checks/mysql_check.hpp"

namespace xj {
namespace {

constexpr std::size_t kLongQuerySamples = 5;

// SHOW ... STATUS / VARIABLES rows as a name -> value map.
std::map<std::string, std::string> name_values(const SqlTable* t) {
  std::map<std::string, std::string> out;
  if (t == nullptr) return out;
  for (const auto& row : t->rows) {
    if (row.size() >= 2 && row[0] && row[1]) out[*row[0]] = *row[1];
  }
  return out;
}

std::optional<double> num(const std::map<std::string, std::string>& m, const std::string& k) {
  auto it = m.find(k);
  if (it == m.end()) return std::nullopt;
  return parse_sql_number(it->second);
}

// MySQL 8 renamed Slave_* / *_Master columns to Replica_* / *_Source; MariaDB kept the old.
std::optional<std::string> either(const SqlTable& t, const char* a, const char* b) {
  auto v = t.text(0, a);
  return v ? v : t.text(0, b);
}

}  // namespace

std::string condense_mysql_error(unsigned code, const std::string& message,
                                 const std::string& target) {
  // 2002: Unix socket, 2003: TCP. The number in parentheses at the end is the errno.
  static const std::regex with_errno(R"re(\((\d+)\)\s*$)re");
  std::smatch m;
  if ((code == 2002 || code == 2003) && std::regex_search(message, m, with_errno)) {
    const int e = std::stoi(m[1].str());
    std::string cause = std::strerror(e);
    if (!cause.empty()) cause[0] = static_cast<char>(std::tolower(cause[0]));
    return cause + " at " + target;
  }
  return message + " (" + target + ")";
}

Expected<bool> evaluate_mysql(const SqlSnapshot& s, const MysqlThresholds& t, CounterMemory& h,
                              Result& r) {
  auto add = [&](std::string name, double v, std::string unit, Labels labels = {},
                 std::optional<Range> warn = {}, std::optional<Range> crit = {}) {
    r.metrics.push_back(
        Metric{std::move(name), v, std::move(unit), std::move(labels), warn, crit});
  };
  auto find = [&](const char* name) -> const SqlTable* {
    auto it = s.find(name);
    return it == s.end() ? nullptr : &it->second;
  };
  const auto status = name_values(find("status"));
  const auto vars = name_values(find("variables"));
  const std::string version = vars.count("version") ? vars.at("version") : "";
  const std::string product = version.find("MariaDB") != std::string::npos ? "MariaDB" : "MySQL";
  r.details["version"] = version;

  auto connections = num(status, "Threads_connected");
  auto max_connections = num(vars, "max_connections");
  if (!connections || !max_connections) {
    return make_error("statements 'status' and 'variables' must return Threads_connected and "
                      "max_connections");
  }
  const double pct =
      *max_connections > 0 ? round_to(100.0 * *connections / *max_connections, 2) : 0;
  add("connections", *connections, "");
  add("max_connections", *max_connections, "");
  add("connections_pct", pct, "%", {}, t.connections_warn, t.connections_crit);
  if (auto v = num(status, "Threads_running")) {
    add("threads_running", *v, "", {}, t.threads_running_warn, t.threads_running_crit);
  }
  if (auto v = num(status, "Max_used_connections")) add("max_used_connections", *v, "");
  if (auto v = num(status, "Uptime")) add("uptime_s", *v, "s");
  if (auto v = num(vars, "read_only")) add("read_only", *v, "");
  // Uptime going down means a restart, and the counters restart with it: CounterMemory
  // drops a delta when a counter went down.
  if (auto v = num(status, "Slow_queries")) {
    if (auto d = h.delta("slow_queries", *v)) {
      add("slow_queries", *d, "", {}, t.slow_queries_warn, t.slow_queries_crit);
    }
  }
  if (auto v = num(status, "Aborted_connects")) {
    if (auto d = h.delta("aborted_connects", *v)) {
      add("aborted_connects", *d, "", {}, t.aborted_connects_warn, t.aborted_connects_crit);
    }
  }
  double hit_pct = -1;
  auto requests = num(status, "Innodb_buffer_pool_read_requests");
  auto reads = num(status, "Innodb_buffer_pool_reads");
  // A server that has just started reads everything from disk; below 10,000 requests the
  // ratio says nothing about the buffer pool's size, so there is no metric yet.
  if (requests && reads && *requests >= 10'000) {
    hit_pct = round_to(100.0 * (1.0 - *reads / *requests), 2);
    add("buffer_pool_hit_pct", hit_pct, "%", {}, t.cache_hit_warn, t.cache_hit_crit);
  }

  std::vector<std::string> keep = {"slow_queries", "aborted_connects"};
  if (const SqlTable* sch = find("schemas")) {
    for (std::size_t i = 0; i < sch->rows.size(); ++i) {
      const std::string name = sch->text(i, "schema_name").value_or("?");
      auto size = sch->number(i, "size_bytes");
      if (!size) return make_error("statement 'schemas' column 'size_bytes' is not a number");
      add("schema_size_bytes", *size, "B", {{"schema", name}});
      keep.push_back("size/" + name);
      if (auto g = h.delta("size/" + name, *size)) {
        add("schema_growth_bytes", *g, "B", {{"schema", name}});
      }
    }
  }
  h.forget_missing(keep);

  std::size_t long_count = 0;
  if (const SqlTable* p = find("processlist")) {
    double limit = std::numeric_limits<double>::infinity();
    if (t.long_query_warn && !t.long_query_warn->inverted()) limit = t.long_query_warn->end();
    else if (t.long_query_crit && !t.long_query_crit->inverted()) limit = t.long_query_crit->end();
    double longest = 0;
    nlohmann::json samples = nlohmann::json::array();
    for (std::size_t i = 0; i < p->rows.size(); ++i) {
      const double secs = p->number(i, "seconds").value_or(0);
      longest = std::max(longest, secs);
      if (!(secs > limit)) continue;
      ++long_count;
      if (samples.size() < kLongQuerySamples) {
        samples.push_back({{"id", p->number(i, "id").value_or(0)},
                           {"user", p->text(i, "user").value_or("")},
                           {"db", p->text(i, "db").value_or("")},
                           {"seconds", secs},
                           {"query", p->text(i, "query").value_or("")}});
      }
    }
    add("long_queries", static_cast<double>(long_count), "");
    add("longest_query_s", longest, "s", {}, t.long_query_warn, t.long_query_crit);
    r.details["long_queries"] = std::move(samples);
  }

  const SqlTable* rep = find("replica");
  const bool replica = rep != nullptr && !rep->rows.empty();
  r.details["role"] = replica ? "replica" : "primary";
  if (replica) {
    auto running = [&](const char* a, const char* b) {
      auto v = either(*rep, a, b);
      return v && (*v == "Yes") ? 1.0 : 0.0;
    };
    add("replica_io_running", running("Slave_IO_Running", "Replica_IO_Running"), "", {},
        std::nullopt, Range::below(1));
    add("replica_sql_running", running("Slave_SQL_Running", "Replica_SQL_Running"), "", {},
        std::nullopt, Range::below(1));
    // NULL while the SQL thread is stopped: no number to report, the thread metric alerts.
    if (auto behind = either(*rep, "Seconds_Behind_Master", "Seconds_Behind_Source")) {
      if (auto v = parse_sql_number(*behind)) add("seconds_behind", *v, "s", {}, t.lag_warn, t.lag_crit);
    }
    for (const char* col : {"Last_IO_Error", "Last_SQL_Error"}) {
      if (auto e = rep->text(0, col); e && !e->empty()) r.details[col] = *e;
    }
  }

  r.status = worst(r.status, r.metrics_status());
  std::string text = product + (version.empty() ? "" : " " + version) +
                     (replica ? " replica" : "") + ": " +
                     std::to_string(static_cast<long long>(*connections)) + "/" +
                     std::to_string(static_cast<long long>(*max_connections)) + " connections";
  if (hit_pct >= 0) {
    char buf[48];
    std::snprintf(buf, sizeof buf, ", buffer pool hit %.2f%%", hit_pct);
    text += buf;
  }
  text += ", " + std::to_string(long_count) + " long " + (long_count == 1 ? "query" : "queries");
  std::string alerts = describe_alerts(r.metrics);
  r.summary = alerts.empty() ? text : text + "; " + alerts;
  return true;
}

}  // namespace xj
