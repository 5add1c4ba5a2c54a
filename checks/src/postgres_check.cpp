#include "xj/checks/postgres_check.hpp"

#include <cstdio>

#include "libpq_api.hpp"
#include "pg_connection.hpp"
#include "xj/checks/kinds.hpp"

namespace xj {
namespace {

using Clock = std::chrono::steady_clock;

KeySpec threshold_key(std::string name, std::string def, std::string desc,
                      Direction dir = Direction::kHigherIsWorse,
                      ValueUnit unit = ValueUnit::kNumber) {
  return KeySpec{std::move(name), KeyType::kThreshold, std::move(def), std::move(desc), false,
                 dir, unit};
}

class PostgresCheck : public Check {
 public:
  PostgresCheck(std::string id, const CheckOptions& o)
      : Check(std::move(id), "postgres"),
        dsn_(o.str("dsn")),
        dialect_(o.str("dialect")),
        password_file_(o.str("password_file")),
        password_env_(o.str("password_env")),
        connect_timeout_(o.duration("connect_timeout")),
        queries_(load_custom_queries(o)) {
    // A disabled check leaves libpq unloaded: it pulls in GnuTLS, p11-kit, Kerberos and LDAP,
    // about 3.6 MiB resident for the agent's whole life, for a check that never runs (the
    // shipped agent.yaml has one). Its dsn is then read as without libpq, and libpq checks it
    // when the check is enabled (a reload with a bad one is rejected then).
    if (o.boolean("enabled")) {
      if (auto e = PgConnection::dsn_error(dsn_); !e.empty()) o.fail("dsn", e);
    }
    if (dialect_ != "postgres" && dialect_ != "kingbase") {
      o.fail("dialect", "must be postgres or kingbase");
    }
    auto sql = load_dialect_sql(dialect_, o.str("sql_dir"));
    if (!sql) o.fail("sql_dir", sql.error());
    sql_ = *sql;
    if (connect_timeout_.count() <= 0) o.fail("connect_timeout", "must be more than 0");
    t_ = load_pg_thresholds(o);
  }

  Result run(const RunContext& ctx) override;

 private:
  // "postgres check 'pg:main': <cause>", as every failure message starts.
  std::string failure(const std::string& cause) const {
    return "postgres check '" + id() + "': " + cause;
  }

  std::string dsn_, dialect_, password_file_, password_env_;
  std::chrono::milliseconds connect_timeout_;
  std::vector<CustomQuery> queries_;
  SqlStatements sql_;
  PgThresholds t_;
  PgHistory history_;
};

Result PostgresCheck::run(const RunContext& ctx) {
  // Without libpq nothing was measured: unknown (not critical, as a refused connection is).
  if (auto lib = libpq(); !lib) return unknown(failure(lib.error()));
  auto password = read_password(password_file_, password_env_);
  if (!password) return unknown(failure(password.error()));
  const std::string target = PgConnection::target_of(dsn_);
  Result r = make_result();
  r.details["target"] = target;
  r.details["dialect"] = dialect_;
  const auto started = Clock::now();
  auto conn = PgConnection::open(dsn_, *password, std::min(started + connect_timeout_, ctx.deadline));
  if (!conn) {
    r.status = Status::kCritical;
    r.summary = failure(conn.error());
    r.metrics.push_back(Metric{"up", 0, "", {}, std::nullopt, Range::below(1)});
    return r;
  }
  const double connect_ms =
      round_to(std::chrono::duration<double, std::milli>(Clock::now() - started).count(), 3);
  r.metrics.push_back(Metric{"up", 1, "", {}, std::nullopt, Range::below(1)});
  r.metrics.push_back(Metric{"connect_ms", connect_ms, "ms", {}, std::nullopt, std::nullopt});

  SqlSnapshot snap;
  auto run_statement = [&](const std::string& name) -> bool {
    auto rows = conn.value().query(sql_.at(name), ctx.deadline);
    if (!rows) {
      r.status = Status::kUnknown;
      r.summary = failure("statement '" + name + "' failed: " + rows.error());
      return false;
    }
    snap[name] = std::move(rows).value();
    return true;
  };
  // The server bounds each statement too, so a cancelled or abandoned one does not run on.
  const auto left = std::max<std::int64_t>(ctx.remaining().count(), 100);
  (void)conn.value().query("SET statement_timeout = " + std::to_string(left), ctx.deadline);
  for (const char* name : {"server", "activity", "long_queries", "databases"}) {
    if (!run_statement(name)) return r;
  }
  const bool standby = snap["server"].number(0, "in_recovery").value_or(0) != 0;
  if (!run_statement(standby ? "standby" : "replication")) return r;
  if (!run_statement("tablespaces")) return r;

  r.status = Status::kOk;
  auto evaluated = evaluate_postgres(snap, t_, history_, r);
  if (!evaluated) return unknown(failure(evaluated.error()));
  for (const auto& q : queries_) {
    auto rows = conn.value().query(q.sql, ctx.deadline);
    auto metrics = rows ? custom_query_metrics(q, *rows)
                        : Expected<std::vector<Metric>>(make_error(rows.error()));
    if (!metrics) {
      r.status = worst(r.status, Status::kUnknown);
      r.summary += "; " + failure("query '" + q.name + "' failed: " + metrics.error());
      continue;
    }
    r.metrics.insert(r.metrics.end(), metrics->begin(), metrics->end());
  }
  if (!queries_.empty()) {
    Status s = r.metrics_status();
    if (s != Status::kOk && r.status != Status::kUnknown) {
      r.status = worst(r.status, s);
      std::string alerts = describe_alerts(r.metrics);
      auto cut = r.summary.find("; ");
      r.summary = r.summary.substr(0, cut) + "; " + alerts;
    }
  }
  return r;
}

}  // namespace

std::vector<KeySpec> postgres_threshold_keys() {
  using D = Direction;
  using U = ValueUnit;
  return {
      threshold_key("connections_warn", "80%", "client connections, % of max_connections, that is a warning", D::kHigherIsWorse, U::kPercent),
      threshold_key("connections_crit", "90%", "client connections, % of max_connections, that is critical", D::kHigherIsWorse, U::kPercent),
      threshold_key("cache_hit_warn", "90%", "buffer cache hit ratio below this is a warning", D::kLowerIsWorse, U::kPercent),
      threshold_key("cache_hit_crit", "", "buffer cache hit ratio below this is critical", D::kLowerIsWorse, U::kPercent),
      threshold_key("long_query_warn", "60s", "a statement running longer is a warning; also what counts as a long query", D::kHigherIsWorse, U::kSeconds),
      threshold_key("long_query_crit", "600s", "a statement running longer is critical", D::kHigherIsWorse, U::kSeconds),
      threshold_key("lag_warn", "30s", "replication lag (per standby on a primary, replay delay on a standby) that is a warning", D::kHigherIsWorse, U::kSeconds),
      threshold_key("lag_crit", "300s", "replication lag that is critical", D::kHigherIsWorse, U::kSeconds),
      threshold_key("lag_bytes_warn", "", "replication lag in bytes of WAL that is a warning", D::kHigherIsWorse, U::kBytes),
      threshold_key("lag_bytes_crit", "", "replication lag in bytes of WAL that is critical", D::kHigherIsWorse, U::kBytes),
      threshold_key("idle_in_transaction_warn", "", "sessions idle in a transaction that is a warning"),
      threshold_key("idle_in_transaction_crit", "", "sessions idle in a transaction that is critical"),
      threshold_key("waiting_locks_warn", "", "lock requests waiting that is a warning"),
      threshold_key("waiting_locks_crit", "", "lock requests waiting that is critical"),
      threshold_key("deadlocks_warn", "0", "more deadlocks than this since the previous run is a warning"),
      threshold_key("deadlocks_crit", "", "more deadlocks than this since the previous run is critical"),
      threshold_key("xid_age_warn", "1300000000", "oldest unfrozen transaction ID age (wraparound at about 2.1 billion) that is a warning"),
      threshold_key("xid_age_crit", "1400000000", "oldest unfrozen transaction ID age that is critical"),
  };
}

PgThresholds load_pg_thresholds(const CheckOptions& o) {
  PgThresholds t;
  t.connections_warn = o.threshold("connections_warn");
  t.connections_crit = o.threshold("connections_crit");
  t.cache_hit_warn = o.threshold("cache_hit_warn");
  t.cache_hit_crit = o.threshold("cache_hit_crit");
  t.long_query_warn = o.threshold("long_query_warn");
  t.long_query_crit = o.threshold("long_query_crit");
  t.lag_warn = o.threshold("lag_warn");
  t.lag_crit = o.threshold("lag_crit");
  t.lag_bytes_warn = o.threshold("lag_bytes_warn");
  t.lag_bytes_crit = o.threshold("lag_bytes_crit");
  t.idle_in_transaction_warn = o.threshold("idle_in_transaction_warn");
  t.idle_in_transaction_crit = o.threshold("idle_in_transaction_crit");
  t.waiting_locks_warn = o.threshold("waiting_locks_warn");
  t.waiting_locks_crit = o.threshold("waiting_locks_crit");
  t.deadlocks_warn = o.threshold("deadlocks_warn");
  t.deadlocks_crit = o.threshold("deadlocks_crit");
  t.xid_age_warn = o.threshold("xid_age_warn");
  t.xid_age_crit = o.threshold("xid_age_crit");
  return t;
}

CheckSpec postgres_check_spec() {
  CheckSpec s;
  s.kind = "postgres";
  s.description =
      "PostgreSQL 10 or later (KingbaseES with `dialect: kingbase`) through libpq. Each run opens "
      "one connection and reads the server's statistics views with the statements of "
      "`checks/sql/postgres.sql` (or `kingbase.sql`): connect latency, version, role, client "
      "connections against `max_connections`, sessions idle in a transaction, waiting locks, "
      "statements running over `long_query_warn` (count, the longest, and up to 5 samples with "
      "pid, user, database, seconds and the first 200 characters), per-database size and growth "
      "since the previous run, buffer cache hit ratio, deadlocks and rollbacks since the "
      "previous run, transaction-ID age, tablespace sizes; on a primary the lag of each "
      "standby in bytes and seconds, on a standby the replay delay. A server that cannot be "
      "reached is critical (`up` 0) with libpq's cause, e.g. `postgres check 'pg:main': "
      "connection refused at 127.0.0.1:5432`; a statement that fails (missing privilege) is "
      "unknown. Connecting stops at `connect_timeout`, statements at the check's timeout (the "
      "server's `statement_timeout` is set to what is left, and a statement still running at "
      "the deadline is cancelled). Counters since the previous run are kept in the agent's "
      "memory, so the first run after a start has no `deadlocks`, `rollbacks` or "
      "`db_growth_bytes`.\n\n"
      "libpq (`libpq.so.5`, Debian package `libpq5`, which the agent's package recommends) is "
      "loaded when the first enabled postgres check is configured, not linked (a check with "
      "`enabled: false` does not load it: its `dsn` is checked by libpq once it is enabled); "
      "without it the config still loads and every run is unknown: `postgres check "
      "'pg:main': libpq.so.5 cannot be loaded (install the Debian package libpq5): ...`.\n\n"
      "Built-in SQL: the statements are compiled into the agent from `checks/sql/*.sql`. With "
      "`sql_dir`, a file `<sql_dir>/<dialect>.sql` in the same format (`-- name: <statement>` "
      "before each) replaces the built-in statements it names; it is read when the "
      "configuration is loaded. The KingbaseES statements were written from KingbaseES's "
      "documentation (`sys_` catalog prefix) and have not been run against a live server.\n\n"
      "Least-privilege monitoring role (PostgreSQL 10+; `pg_monitor` lets it read every "
      "session's query, database and tablespace sizes and replication state without "
      "superuser; allow it in `pg_hba.conf`):\n\n"
      "```sql\n"
      "CREATE ROLE xunjian LOGIN PASSWORD '...';\n"
      "GRANT pg_monitor TO xunjian;\n"
      "```\n\n"
      "Custom `queries` run as that role, so grant SELECT on whatever they read.";
  s.keys = {
      {"dsn", KeyType::kString, "",
       "libpq connection string or URI, e.g. `host=127.0.0.1 port=5432 user=xunjian "
       "dbname=postgres`; a password here is better kept in password_file",
       true},
      {"dialect", KeyType::kString, "postgres", "`postgres` or `kingbase` (sys_ catalogs)"},
  };
  for (auto& k : db_common_keys()) s.keys.push_back(std::move(k));
  for (auto& k : postgres_threshold_keys()) s.keys.push_back(std::move(k));
  s.metrics = {
      {"up", "", "1 when connected, 0 when the server cannot be reached (critical)"},
      {"connect_ms", "ms", "time to connect and authenticate"},
      {"version_num", "", "server_version_num, e.g. 150004"},
      {"is_standby", "", "1 on a standby (in recovery), 0 on a primary"},
      {"connections", "", "client backends connected"},
      {"max_connections", "", "the server's max_connections"},
      {"connections_pct", "%", "connections / max_connections (connections_warn, _crit)"},
      {"idle_in_transaction", "", "sessions idle in a transaction"},
      {"waiting_locks", "", "lock requests not granted (pg_locks)"},
      {"long_queries", "", "active statements running longer than long_query_warn"},
      {"longest_query_s", "s", "the longest-running active statement (long_query_warn, _crit)"},
      {"db_size_bytes", "B", "size per database (label database)"},
      {"db_growth_bytes", "B", "growth per database since the previous run"},
      {"cache_hit_pct", "%", "blocks found in shared buffers, all databases, since stats reset"},
      {"xid_age", "", "age of the oldest unfrozen transaction ID over all databases"},
      {"deadlocks", "", "deadlocks since the previous run, all databases"},
      {"rollbacks", "", "transactions rolled back since the previous run, all databases"},
      {"standbys", "", "primary: standbys connected"},
      {"replication_lag_bytes", "B", "primary: WAL not yet replayed, per standby"},
      {"replication_lag_s", "s", "primary: replay lag per standby (label standby)"},
      {"replay_delay_s", "s", "standby: time since the last replayed transaction while behind"},
      {"replay_lag_bytes", "B", "standby: WAL received but not yet replayed"},
      {"tablespace_size_bytes", "B", "size per tablespace (label tablespace)"},
      {"<query>", "", "custom queries: `<query>` or `<query>_<column>`"},
  };
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    return std::make_unique<PostgresCheck>(std::move(id), o);
  };
  s.default_id = [](const CheckOptions& o) {
    const std::string dsn = o.str("dsn");  // as above: a disabled check does not load libpq
    return "postgres:" +
           (o.boolean("enabled") ? PgConnection::target_of(dsn) : target_without_libpq(dsn));
  };
  return s;
}

}  // namespace xj
