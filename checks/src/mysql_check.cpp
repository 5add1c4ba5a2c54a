#include "xj/checks/mysql_check.hpp"

#include <chrono>
#include <cmath>

#include "mariadb_api.hpp"
#include "tcp_connect.hpp"
#include "xj/checks/kinds.hpp"
#include "xj/common/duration.hpp"

namespace xj {
namespace {

using Clock = std::chrono::steady_clock;

KeySpec threshold_key(std::string name, std::string def, std::string desc,
                      Direction dir = Direction::kHigherIsWorse,
                      ValueUnit unit = ValueUnit::kNumber) {
  return KeySpec{std::move(name), KeyType::kThreshold, std::move(def), std::move(desc), false,
                 dir, unit};
}

// Whole seconds for the client library's timeouts, at least 1.
unsigned seconds_ceil(std::chrono::milliseconds d) {
  return static_cast<unsigned>(std::max<std::int64_t>(1, (d.count() + 999) / 1000));
}

struct MysqlCloser {
  const LibMariadb* my;
  void operator()(MYSQL* m) const { my->mysql_close(m); }
};
using MysqlPtr = std::unique_ptr<MYSQL, MysqlCloser>;

Expected<SqlTable> run_query(const LibMariadb& my, MYSQL* m, const std::string& sql) {
  if (my.mysql_real_query(m, sql.data(), sql.size()) != 0) return make_error(my.mysql_error(m));
  SqlTable out;
  MYSQL_RES* res = my.mysql_store_result(m);
  if (res == nullptr) {
    if (my.mysql_field_count(m) != 0) return make_error(my.mysql_error(m));
    return out;  // a statement without rows (SET)
  }
  const unsigned cols = my.mysql_num_fields(res);
  MYSQL_FIELD* fields = my.mysql_fetch_fields(res);
  for (unsigned j = 0; j < cols; ++j) out.columns.emplace_back(fields[j].name);
  while (MYSQL_ROW row = my.mysql_fetch_row(res)) {
    unsigned long* len = my.mysql_fetch_lengths(res);
    auto& r = out.rows.emplace_back();
    for (unsigned j = 0; j < cols; ++j) {
      if (row[j] == nullptr) r.emplace_back(std::nullopt);
      else r.emplace_back(std::string(row[j], len[j]));
    }
  }
  my.mysql_free_result(res);
  return out;
}

class MysqlCheck : public Check {
 public:
  MysqlCheck(std::string id, const CheckOptions& o)
      : Check(std::move(id), "mysql"),
        host_(o.str("host")),
        port_(static_cast<int>(o.integer("port"))),
        socket_(o.str("socket")),
        user_(o.str("user")),
        database_(o.str("database")),
        password_file_(o.str("password_file")),
        password_env_(o.str("password_env")),
        connect_timeout_(o.duration("connect_timeout")),
        queries_(load_custom_queries(o)) {
    if (port_ < 1 || port_ > 65535) o.fail("port", "must be between 1 and 65535");
    if (o.has("socket") && o.has("host")) o.fail("socket", "give either host or socket, not both");
    if (connect_timeout_.count() <= 0) o.fail("connect_timeout", "must be more than 0");
    auto sql = load_dialect_sql("mysql", o.str("sql_dir"));
    if (!sql) o.fail("sql_dir", sql.error());
    sql_ = *sql;
    t_.connections_warn = o.threshold("connections_warn");
    t_.connections_crit = o.threshold("connections_crit");
    t_.cache_hit_warn = o.threshold("cache_hit_warn");
    t_.cache_hit_crit = o.threshold("cache_hit_crit");
    t_.long_query_warn = o.threshold("long_query_warn");
    t_.long_query_crit = o.threshold("long_query_crit");
    t_.lag_warn = o.threshold("lag_warn");
    t_.lag_crit = o.threshold("lag_crit");
    t_.threads_running_warn = o.threshold("threads_running_warn");
    t_.threads_running_crit = o.threshold("threads_running_crit");
    t_.slow_queries_warn = o.threshold("slow_queries_warn");
    t_.slow_queries_crit = o.threshold("slow_queries_crit");
    t_.aborted_connects_warn = o.threshold("aborted_connects_warn");
    t_.aborted_connects_crit = o.threshold("aborted_connects_crit");
  }

  Result run(const RunContext& ctx) override;

 private:
  std::string failure(const std::string& cause) const {
    return "mysql check '" + id() + "': " + cause;
  }
  std::string target() const {
    return socket_.empty() ? host_port(host_, port_) : socket_;
  }

  std::string host_;
  int port_;
  std::string socket_, user_, database_, password_file_, password_env_;
  std::chrono::milliseconds connect_timeout_;
  std::vector<CustomQuery> queries_;
  SqlStatements sql_;
  MysqlThresholds t_;
  CounterMemory history_;
};

Result MysqlCheck::run(const RunContext& ctx) {
  auto password = read_password(password_file_, password_env_);
  if (!password) return unknown(failure(password.error()));
  Result r = make_result();
  r.details["target"] = target();
  auto lib = libmariadb();  // loads and initialises Connector/C once
  if (!lib) return unknown(failure(lib.error()));
  const LibMariadb& my = **lib;
  MysqlPtr m(my.mysql_init(nullptr), MysqlCloser{&my});
  if (!m) return unknown(failure("the client library cannot allocate a connection"));
  const auto connect_for = std::min(connect_timeout_, ctx.remaining());
  const unsigned connect_s = seconds_ceil(connect_for), io_s = seconds_ceil(ctx.remaining());
  my.mysql_options(m.get(), MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
  my.mysql_options(m.get(), MYSQL_OPT_READ_TIMEOUT, &io_s);
  my.mysql_options(m.get(), MYSQL_OPT_WRITE_TIMEOUT, &io_s);
  my.mysql_options(m.get(), MYSQL_SET_CHARSET_NAME, "utf8mb4");
  const auto started = Clock::now();
  const bool via_socket = !socket_.empty();
  if (my.mysql_real_connect(m.get(), via_socket ? "localhost" : host_.c_str(), user_.c_str(),
                         password->c_str(), database_.empty() ? nullptr : database_.c_str(),
                         via_socket ? 0 : static_cast<unsigned>(port_),
                         via_socket ? socket_.c_str() : nullptr, 0) == nullptr) {
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    const unsigned code = my.mysql_errno(m.get());
    r.status = Status::kCritical;
    std::string cause = condense_mysql_error(code, my.mysql_error(m.get()), target());
    if (took + std::chrono::milliseconds(100) >= connect_for) {
      cause = "connect to " + target() + " timed out after " + format_duration(took);
    } else if ((code == 2002 || code == 2003) && !via_socket) {
      // Connector/C often reports the errno of its non-blocking connect (EINPROGRESS), not
      // why it failed; one plain TCP connect tells the real cause.
      const auto probe_deadline = std::min(Clock::now() + std::chrono::seconds(1), ctx.deadline);
      if (auto eps = resolve_tcp(host_, port_, probe_deadline); eps && !eps->empty()) {
        if (auto c = connect_tcp(eps->front(), probe_deadline); !c) {
          cause = c.error() + " at " + target();
        }
      }
    }
    r.summary = failure(cause);
    r.metrics.push_back(Metric{"up", 0, "", {}, std::nullopt, Range::below(1)});
    return r;
  }
  const double connect_ms =
      round_to(std::chrono::duration<double, std::milli>(Clock::now() - started).count(), 3);
  r.metrics.push_back(Metric{"up", 1, "", {}, std::nullopt, Range::below(1)});
  r.metrics.push_back(Metric{"connect_ms", connect_ms, "ms", {}, std::nullopt, std::nullopt});
  // The server stops our statements by itself at the deadline too: MariaDB's
  // max_statement_time (seconds) or MySQL's max_execution_time (ms); the other one fails.
  const double left_s = std::max<double>(0.1, static_cast<double>(ctx.remaining().count()) / 1000);
  (void)run_query(my, m.get(), "SET SESSION max_statement_time = " + std::to_string(left_s));
  (void)run_query(my, m.get(), "SET SESSION max_execution_time = " +
                               std::to_string(static_cast<long>(left_s * 1000)));

  SqlSnapshot snap;
  for (const char* name : {"status", "variables", "schemas", "processlist"}) {
    auto rows = run_query(my, m.get(), sql_.at(name));
    if (!rows) {
      r.status = Status::kUnknown;
      r.summary = failure("statement '" + std::string(name) + "' failed: " + rows.error());
      return r;
    }
    snap[name] = std::move(rows).value();
  }
  auto replica = run_query(my, m.get(), sql_.at("replica"));
  if (!replica) replica = run_query(my, m.get(), sql_.at("replica_legacy"));
  if (!replica) {
    r.status = Status::kUnknown;
    r.summary = failure("statement 'replica' failed: " + replica.error());
    return r;
  }
  snap["replica"] = std::move(replica).value();
  r.status = Status::kOk;
  auto evaluated = evaluate_mysql(snap, t_, history_, r);
  if (!evaluated) return unknown(failure(evaluated.error()));
  bool custom_alert = false;
  for (const auto& q : queries_) {
    auto rows = run_query(my, m.get(), q.sql);
    auto metrics = rows ? custom_query_metrics(q, *rows)
                        : Expected<std::vector<Metric>>(make_error(rows.error()));
    if (!metrics) {
      r.status = worst(r.status, Status::kUnknown);
      r.summary += "; " + failure("query '" + q.name + "' failed: " + metrics.error());
      continue;
    }
    for (const auto& mm : *metrics) custom_alert = custom_alert || mm.evaluate() != Status::kOk;
    r.metrics.insert(r.metrics.end(), metrics->begin(), metrics->end());
  }
  if (custom_alert && r.status != Status::kUnknown) {
    r.status = worst(r.status, r.metrics_status());
    r.summary = r.summary.substr(0, r.summary.find("; ")) + "; " + describe_alerts(r.metrics);
  }
  return r;
}

}  // namespace

CheckSpec mysql_check_spec() {
  using D = Direction;
  using U = ValueUnit;
  CheckSpec s;
  s.kind = "mysql";
  s.description =
      "MySQL 5.7/8 or MariaDB through MariaDB Connector/C. Each run opens one connection and "
      "runs the statements of `checks/sql/mysql.sql`: connect latency, version, connections "
      "(Threads_connected) against `max_connections`, threads running, slow queries and aborted "
      "connects since the previous run, InnoDB buffer pool hit ratio, schema sizes and growth "
      "since the previous run, statements running longer than `long_query_warn` from the "
      "processlist (count, the longest, up to 5 samples), and on a replica the IO and SQL thread "
      "state (a stopped thread is critical) and seconds behind the source. `SHOW REPLICA "
      "STATUS` is tried first, then `SHOW SLAVE STATUS` (MySQL 5.7). A server that cannot be "
      "reached is critical (`up` 0), e.g. `mysql check 'my:main': connection refused at "
      "127.0.0.1:3306`; a statement that fails is unknown. Timeouts are whole seconds (the "
      "client library's unit): `connect_timeout` for connecting, the check's timeout for each "
      "read and write, and the server's `max_statement_time` (MariaDB) or "
      "`max_execution_time` (MySQL) for statements. Schema sizes of InnoDB tables come from the "
      "table statistics, which the server refreshes after about 10% of a table changed, so "
      "growth shows in steps. Custom `queries` and `sql_dir` work as for `postgres`. "
      "Connector/C (`libmariadb.so.3`, Debian package `libmariadb3`, recommended by the "
      "agent's package) is loaded at the first run, not linked; without it the run is unknown "
      "and names the package.\n\n"
      "Least-privilege monitoring user. PROCESS shows every session in the processlist; SHOW "
      "VIEW on `*.*` makes every table visible in `information_schema.TABLES` for the sizes "
      "without giving read access to data; the replica status needs REPLICA MONITOR on "
      "MariaDB 10.5.9 and later, REPLICATION CLIENT on MySQL and older MariaDB:\n\n"
      "```sql\n"
      "-- MariaDB 10.5.9+\n"
      "CREATE USER 'xunjian'@'127.0.0.1' IDENTIFIED BY '...';\n"
      "GRANT PROCESS, SHOW VIEW, REPLICA MONITOR ON *.* TO 'xunjian'@'127.0.0.1';\n"
      "-- MySQL 5.7 / 8.x\n"
      "CREATE USER 'xunjian'@'127.0.0.1' IDENTIFIED BY '...';\n"
      "GRANT PROCESS, SHOW VIEW, REPLICATION CLIENT ON *.* TO 'xunjian'@'127.0.0.1';\n"
      "```\n\n"
      "The MariaDB statements are what the tests run against MariaDB 10.11; the MySQL ones "
      "were written from MySQL's documentation and not run against a MySQL server here.";
  s.keys = {
      {"host", KeyType::kString, "127.0.0.1", "server address or name (TCP)"},
      {"port", KeyType::kInt, "3306", "TCP port"},
      {"socket", KeyType::kString, "", "Unix socket path, instead of host and port"},
      {"user", KeyType::kString, "", "user name", true},
      {"database", KeyType::kString, "", "default database (none needed)"},
  };
  for (auto& k : db_common_keys()) s.keys.push_back(std::move(k));
  for (auto& k : std::vector<KeySpec>{
           threshold_key("connections_warn", "80%", "connections, % of max_connections, that is a warning", D::kHigherIsWorse, U::kPercent),
           threshold_key("connections_crit", "90%", "connections, % of max_connections, that is critical", D::kHigherIsWorse, U::kPercent),
           threshold_key("cache_hit_warn", "90%", "InnoDB buffer pool hit ratio below this is a warning", D::kLowerIsWorse, U::kPercent),
           threshold_key("cache_hit_crit", "", "InnoDB buffer pool hit ratio below this is critical", D::kLowerIsWorse, U::kPercent),
           threshold_key("long_query_warn", "60s", "a statement running longer is a warning; also what counts as a long query", D::kHigherIsWorse, U::kSeconds),
           threshold_key("long_query_crit", "600s", "a statement running longer is critical", D::kHigherIsWorse, U::kSeconds),
           threshold_key("lag_warn", "30s", "replica seconds behind the source that is a warning", D::kHigherIsWorse, U::kSeconds),
           threshold_key("lag_crit", "300s", "replica seconds behind the source that is critical", D::kHigherIsWorse, U::kSeconds),
           threshold_key("threads_running_warn", "", "threads running that is a warning"),
           threshold_key("threads_running_crit", "", "threads running that is critical"),
           threshold_key("slow_queries_warn", "", "slow queries since the previous run that is a warning"),
           threshold_key("slow_queries_crit", "", "slow queries since the previous run that is critical"),
           threshold_key("aborted_connects_warn", "", "failed connection attempts since the previous run that is a warning"),
           threshold_key("aborted_connects_crit", "", "failed connection attempts since the previous run that is critical"),
       }) {
    s.keys.push_back(std::move(k));
  }
  s.metrics = {
      {"up", "", "1 when connected, 0 when the server cannot be reached (critical)"},
      {"connect_ms", "ms", "time to connect and authenticate"},
      {"connections", "", "Threads_connected"},
      {"max_connections", "", "the server's max_connections"},
      {"connections_pct", "%", "connections / max_connections (connections_warn, _crit)"},
      {"threads_running", "", "Threads_running"},
      {"max_used_connections", "", "Max_used_connections since the server started"},
      {"uptime_s", "s", "server uptime"},
      {"read_only", "", "1 when the server is read_only"},
      {"slow_queries", "", "Slow_queries since the previous run"},
      {"aborted_connects", "", "Aborted_connects since the previous run"},
      {"buffer_pool_hit_pct", "%", "1 - Innodb_buffer_pool_reads / _read_requests since start; from 10,000 requests on"},
      {"schema_size_bytes", "B", "data + index size per schema (label schema)"},
      {"schema_growth_bytes", "B", "growth per schema since the previous run"},
      {"long_queries", "", "statements running longer than long_query_warn"},
      {"longest_query_s", "s", "the longest-running statement, whole seconds"},
      {"replica_io_running", "", "replica: 1 when the IO thread runs (0 is critical)"},
      {"replica_sql_running", "", "replica: 1 when the SQL thread runs (0 is critical)"},
      {"seconds_behind", "s", "replica: Seconds_Behind_Master / _Source (lag_warn, lag_crit)"},
      {"<query>", "", "custom queries: `<query>` or `<query>_<column>`"},
  };
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    return std::make_unique<MysqlCheck>(std::move(id), o);
  };
  s.default_id = [](const CheckOptions& o) {
    if (o.has("socket")) return "mysql:" + o.str("socket");
    return "mysql:" + host_port(o.str("host"), static_cast<int>(o.integer("port")));
  };
  return s;
}

}  // namespace xj
