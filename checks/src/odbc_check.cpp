#include "xj/checks/odbc_check.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>

#include "odbc_api.hpp"
#include "xj/checks/kinds.hpp"
#include "xj/checks/postgres_check.hpp"

namespace xj {
namespace {

using Clock = std::chrono::steady_clock;

SQLULEN seconds_ceil(std::chrono::milliseconds d) {
  return static_cast<SQLULEN>(std::max<std::int64_t>(1, (d.count() + 999) / 1000));
}

// "[08001] message" for the first diagnostic record (drivers put the cause there).
std::string diag(const LibOdbc& odbc, SQLSMALLINT type, SQLHANDLE h) {
  SQLCHAR state[6] = {0};
  SQLCHAR msg[1024] = {0};
  SQLINTEGER native = 0;
  SQLSMALLINT len = 0;
  if (!SQL_SUCCEEDED(odbc.SQLGetDiagRec(type, h, 1, state, &native, msg, sizeof msg, &len))) {
    return "no diagnostic from the driver";
  }
  std::string text(reinterpret_cast<char*>(msg));
  text = text.substr(0, text.find('\n'));
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return "[" + std::string(reinterpret_cast<char*>(state)) + "] " + text;
}

// One environment + connection, freed in order.
class OdbcConnection {
 public:
  explicit OdbcConnection(const LibOdbc& odbc) : odbc_(odbc) {
    odbc_.SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env_);
    if (env_ != SQL_NULL_HANDLE) {
      odbc_.SQLSetEnvAttr(env_, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3),
                          0);
      odbc_.SQLAllocHandle(SQL_HANDLE_DBC, env_, &dbc_);
    }
  }
  ~OdbcConnection() {
    if (connected_) odbc_.SQLDisconnect(dbc_);
    if (dbc_ != SQL_NULL_HANDLE) odbc_.SQLFreeHandle(SQL_HANDLE_DBC, dbc_);
    if (env_ != SQL_NULL_HANDLE) odbc_.SQLFreeHandle(SQL_HANDLE_ENV, env_);
  }
  OdbcConnection(const OdbcConnection&) = delete;
  OdbcConnection& operator=(const OdbcConnection&) = delete;

  Expected<bool> connect(const std::string& cs, std::chrono::milliseconds timeout) {
    if (dbc_ == SQL_NULL_HANDLE) return make_error("the driver manager cannot allocate handles");
    const SQLULEN secs = seconds_ceil(timeout);
    odbc_.SQLSetConnectAttr(dbc_, SQL_ATTR_LOGIN_TIMEOUT, reinterpret_cast<SQLPOINTER>(secs), 0);
    odbc_.SQLSetConnectAttr(dbc_, SQL_ATTR_CONNECTION_TIMEOUT, reinterpret_cast<SQLPOINTER>(secs),
                            0);
    SQLCHAR out[1024];
    SQLSMALLINT out_len = 0;
    std::string in = cs;
    SQLRETURN rc = odbc_.SQLDriverConnect(dbc_, nullptr, reinterpret_cast<SQLCHAR*>(in.data()),
                                          SQL_NTS, out, sizeof out, &out_len, SQL_DRIVER_NOPROMPT);
    // The completed string may hold the password: overwrite both copies.
    std::fill(in.begin(), in.end(), '\0');
    std::fill(std::begin(out), std::end(out), 0);
    if (!SQL_SUCCEEDED(rc)) return make_error(diag(odbc_, SQL_HANDLE_DBC, dbc_));
    connected_ = true;
    return true;
  }

  Expected<SqlTable> query(const std::string& sql, std::chrono::milliseconds timeout) {
    SQLHSTMT st = SQL_NULL_HANDLE;
    if (!SQL_SUCCEEDED(odbc_.SQLAllocHandle(SQL_HANDLE_STMT, dbc_, &st))) {
      return make_error(diag(odbc_, SQL_HANDLE_DBC, dbc_));
    }
    struct Free {
      const LibOdbc& odbc;
      SQLHSTMT h;
      ~Free() { odbc.SQLFreeHandle(SQL_HANDLE_STMT, h); }
    } guard{odbc_, st};
    odbc_.SQLSetStmtAttr(st, SQL_ATTR_QUERY_TIMEOUT,
                         reinterpret_cast<SQLPOINTER>(seconds_ceil(timeout)), 0);
    std::string text = sql;
    SQLRETURN rc = odbc_.SQLExecDirect(st, reinterpret_cast<SQLCHAR*>(text.data()), SQL_NTS);
    SqlTable out;
    if (rc == SQL_NO_DATA) return out;
    if (!SQL_SUCCEEDED(rc)) return make_error(diag(odbc_, SQL_HANDLE_STMT, st));
    SQLSMALLINT cols = 0;
    odbc_.SQLNumResultCols(st, &cols);
    for (SQLSMALLINT j = 1; j <= cols; ++j) {
      SQLCHAR name[256] = {0};
      SQLSMALLINT name_len = 0, type = 0, digits = 0, nullable = 0;
      SQLULEN size = 0;
      odbc_.SQLDescribeCol(st, j, name, sizeof name, &name_len, &type, &size, &digits, &nullable);
      out.columns.emplace_back(reinterpret_cast<char*>(name));
    }
    while (cols > 0) {
      rc = odbc_.SQLFetch(st);
      if (rc == SQL_NO_DATA) break;
      if (!SQL_SUCCEEDED(rc)) return make_error(diag(odbc_, SQL_HANDLE_STMT, st));
      auto& row = out.rows.emplace_back();
      for (SQLSMALLINT j = 1; j <= cols; ++j) {
        std::string value;
        bool null = false;
        for (;;) {  // long values arrive in pieces (SQL_SUCCESS_WITH_INFO, 01004)
          char buf[512];
          SQLLEN ind = 0;
          rc =
              odbc_.SQLGetData(st, static_cast<SQLUSMALLINT>(j), SQL_C_CHAR, buf, sizeof buf, &ind);
          if (rc == SQL_NO_DATA) break;
          if (!SQL_SUCCEEDED(rc)) return make_error(diag(odbc_, SQL_HANDLE_STMT, st));
          if (ind == SQL_NULL_DATA) {
            null = true;
            break;
          }
          const std::size_t got = (ind == SQL_NO_TOTAL || ind >= static_cast<SQLLEN>(sizeof buf))
                                      ? sizeof buf - 1
                                      : static_cast<std::size_t>(ind);
          value.append(buf, got);
          if (rc == SQL_SUCCESS) break;
        }
        if (null)
          row.emplace_back(std::nullopt);
        else
          row.emplace_back(std::move(value));
      }
    }
    return out;
  }

 private:
  const LibOdbc& odbc_;
  SQLHENV env_ = SQL_NULL_HANDLE;
  SQLHDBC dbc_ = SQL_NULL_HANDLE;
  bool connected_ = false;
};

class OdbcCheck : public Check {
 public:
  OdbcCheck(std::string id, const CheckOptions& o)
      : Check(std::move(id), "odbc"),
        dsn_(o.str("dsn")),
        connection_string_(o.str("connection_string")),
        user_(o.str("user")),
        dialect_(o.str("dialect")),
        password_file_(o.str("password_file")),
        password_env_(o.str("password_env")),
        connect_timeout_(o.duration("connect_timeout")),
        queries_(load_custom_queries(o)) {
    if (dsn_.empty() && connection_string_.empty()) {
      o.fail("dsn", "give a dsn or a connection_string");
    }
    if (connection_string_.find("PWD=") != std::string::npos ||
        connection_string_.find("pwd=") != std::string::npos) {
      o.fail("connection_string", "put the password in password_file or password_env, not here");
    }
    if (dialect_ != "generic" && dialect_ != "kingbase" && dialect_ != "dm" &&
        dialect_ != "oracle") {
      o.fail("dialect", "must be generic, kingbase, dm or oracle");
    }
    if (dialect_ == "generic" && o.has("sql_dir")) {
      o.fail("sql_dir", "the generic dialect has no built-in statements; use queries");
    }
    if (dialect_ != "generic") {
      auto sql = load_dialect_sql(dialect_, o.str("sql_dir"));
      if (!sql) o.fail("sql_dir", sql.error());
      sql_ = *sql;
    }
    if (connect_timeout_.count() <= 0) o.fail("connect_timeout", "must be more than 0");
    pg_ = load_pg_thresholds(o);
    it_.sessions_warn = o.threshold("connections_warn");
    it_.sessions_crit = o.threshold("connections_crit");
    it_.tablespace_warn = o.threshold("tablespace_warn");
    it_.tablespace_crit = o.threshold("tablespace_crit");
  }

  Result run(const RunContext& ctx) override;

 private:
  std::string failure(const std::string& cause) const {
    return "odbc check '" + id() + "': " + cause;
  }

  std::string dsn_, connection_string_, user_, dialect_, password_file_, password_env_;
  std::chrono::milliseconds connect_timeout_;
  std::vector<CustomQuery> queries_;
  SqlStatements sql_;
  PgThresholds pg_;
  InstanceThresholds it_;
  PgHistory history_;
};

Result OdbcCheck::run(const RunContext& ctx) {
  auto password = read_password(password_file_, password_env_);
  if (!password) return unknown(failure(password.error()));
  const std::string target = odbc_target(dsn_, connection_string_);
  Result r = make_result();
  r.details["target"] = target;
  r.details["dialect"] = dialect_;
  auto lib = libodbc();
  if (!lib) return unknown(failure(lib.error()));
  OdbcConnection conn(**lib);
  const auto started = Clock::now();
  auto connected = conn.connect(odbc_connection_string(dsn_, connection_string_, user_, *password),
                                std::min(connect_timeout_, ctx.remaining()));
  if (!connected) {
    r.status = Status::kCritical;
    r.summary = failure("cannot connect to " + target + ": " + connected.error());
    r.metrics.push_back(Metric{"up", 0, "", {}, std::nullopt, Range::below(1)});
    return r;
  }
  const double connect_ms =
      round_to(std::chrono::duration<double, std::milli>(Clock::now() - started).count(), 3);
  r.metrics.push_back(Metric{"up", 1, "", {}, std::nullopt, Range::below(1)});
  r.metrics.push_back(Metric{"connect_ms", connect_ms, "ms", {}, std::nullopt, std::nullopt});
  r.status = Status::kOk;

  SqlSnapshot snap;
  auto statement = [&](const std::string& name) -> bool {
    auto rows = conn.query(sql_.at(name), ctx.remaining());
    if (!rows) {
      r.status = Status::kUnknown;
      r.summary = failure("statement '" + name + "' failed: " + rows.error());
      return false;
    }
    snap[name] = std::move(rows).value();
    return true;
  };
  if (dialect_ == "kingbase") {
    for (const char* name : {"server", "activity", "long_queries", "databases"}) {
      if (!statement(name)) return r;
    }
    const bool standby = snap["server"].number(0, "in_recovery").value_or(0) != 0;
    if (!statement(standby ? "standby" : "replication") || !statement("tablespaces")) return r;
    auto e = evaluate_postgres(snap, pg_, history_, r);
    if (!e) return unknown(failure(e.error()));
    r.summary.replace(0, std::string("PostgreSQL").size(), "KingbaseES");
  } else if (dialect_ == "dm" || dialect_ == "oracle") {
    for (const char* name : {"instance", "sessions", "tablespaces"}) {
      if (!statement(name)) return r;
    }
    auto e = evaluate_instance_dialect(snap, it_, dialect_ == "dm" ? "DM" : "Oracle", r);
    if (!e) return unknown(failure(e.error()));
  } else {
    char buf[64];
    std::snprintf(buf, sizeof buf, " in %.2f ms", connect_ms);
    r.summary = "connected to " + target + buf;
  }
  bool custom_alert = false;
  for (const auto& q : queries_) {
    auto rows = conn.query(q.sql, ctx.remaining());
    auto metrics = rows ? custom_query_metrics(q, *rows)
                        : Expected<std::vector<Metric>>(make_error(rows.error()));
    if (!metrics) {
      r.status = worst(r.status, Status::kUnknown);
      r.summary += "; " + failure("query '" + q.name + "' failed: " + metrics.error());
      continue;
    }
    for (const auto& m : *metrics) custom_alert = custom_alert || m.evaluate() != Status::kOk;
    r.metrics.insert(r.metrics.end(), metrics->begin(), metrics->end());
  }
  if (custom_alert && r.status != Status::kUnknown) {
    r.status = worst(r.status, r.metrics_status());
    r.summary = r.summary.substr(0, r.summary.find("; ")) + "; " + describe_alerts(r.metrics);
  }
  return r;
}

}  // namespace

CheckSpec odbc_check_spec() {
  CheckSpec s;
  s.kind = "odbc";
  s.description =
      "Any database with an ODBC driver, through unixODBC: DM (达梦), KingbaseES (金仓), Oracle, "
      "or anything else. Give a `dsn` from odbc.ini or a `connection_string` (e.g. "
      "`DRIVER=/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so;SERVER=127.0.0.1;PORT=5432;"
      "DATABASE=postgres`); `user` and the password are added as UID and PWD. `dialect` picks "
      "the built-in statements: `generic` connects and runs the custom `queries` only; "
      "`kingbase` runs `checks/sql/kingbase.sql` and reports the `postgres` metrics (the "
      "postgres threshold keys apply); `dm` and `oracle` run `dm.sql` / `oracle.sql` and report "
      "whether the instance is OPEN (critical otherwise), sessions against the session limit "
      "(`connections_warn`, `connections_crit`) and per tablespace the space used of what its "
      "files may grow to (`tablespace_warn`, `tablespace_crit`). A database that cannot be "
      "reached is critical with the driver's first diagnostic, e.g. `odbc check 'odbc:dm1': "
      "cannot connect to 127.0.0.1:5236: [08001] ...`. Timeouts are whole seconds and go to "
      "the driver (SQL_ATTR_LOGIN_TIMEOUT, SQL_ATTR_QUERY_TIMEOUT); a driver that ignores them "
      "can hold a run until the agent reports it timed out. The driver manager "
      "(`libodbc.so.2`, Debian package `libodbc2`, which `unixodbc` installs; recommended by "
      "the agent's package) is loaded at the first run, not linked; without it the run is "
      "unknown and names the package.\n\n"
      "The DM, Oracle and KingbaseES statements were written from the vendors' documentation "
      "and have NOT been run against a live DM, Oracle or KingbaseES server; tests run them "
      "only through the statement parser, and run the `generic` dialect and the dm/oracle "
      "evaluation through Debian's odbc-postgresql and odbc-mariadb drivers against real "
      "PostgreSQL and MariaDB. Adjust them with `sql_dir` if your version differs.\n\n"
      "Least-privilege monitoring users (what the statements read):\n\n"
      "```sql\n"
      "-- DM 8: V$ views and DBA_ dictionary views\n"
      "CREATE USER XUNJIAN IDENTIFIED BY \"...\";\n"
      "GRANT SELECT ON V$INSTANCE TO XUNJIAN;\n"
      "GRANT SELECT ON V$SESSIONS TO XUNJIAN;\n"
      "GRANT SELECT ON V$DM_INI TO XUNJIAN;\n"
      "GRANT SELECT ON DBA_DATA_FILES TO XUNJIAN;\n"
      "GRANT SELECT ON DBA_FREE_SPACE TO XUNJIAN;\n"
      "-- Oracle 11g+: SELECT_CATALOG_ROLE covers the V$ and DBA_ views read here\n"
      "CREATE USER xunjian IDENTIFIED BY \"...\";\n"
      "GRANT CREATE SESSION TO xunjian;\n"
      "GRANT SELECT_CATALOG_ROLE TO xunjian;\n"
      "-- KingbaseES: as for PostgreSQL\n"
      "CREATE ROLE xunjian LOGIN PASSWORD '...';\n"
      "GRANT pg_monitor TO xunjian;\n"
      "```";
  s.keys = {
      {"dsn", KeyType::kString, "", "data source name from odbc.ini (or give connection_string)"},
      {"connection_string", KeyType::kString, "",
       "ODBC connection string without the password, e.g. `DRIVER={DM8 ODBC DRIVER};"
       "SERVER=127.0.0.1;TCP_PORT=5236`"},
      {"user", KeyType::kString, "", "user name, sent as UID"},
      {"dialect", KeyType::kString, "generic", "`generic`, `kingbase`, `dm` or `oracle`"},
  };
  for (auto& k : db_common_keys()) s.keys.push_back(std::move(k));
  for (auto& k : postgres_threshold_keys()) s.keys.push_back(std::move(k));
  s.keys.push_back({"tablespace_warn", KeyType::kThreshold, "85%",
                    "dm, oracle: tablespace space used (of its limit) that is a warning", false,
                    Direction::kHigherIsWorse, ValueUnit::kPercent});
  s.keys.push_back({"tablespace_crit", KeyType::kThreshold, "95%",
                    "dm, oracle: tablespace space used (of its limit) that is critical", false,
                    Direction::kHigherIsWorse, ValueUnit::kPercent});
  s.metrics = {
      {"up", "", "1 when connected, 0 when the database cannot be reached (critical)"},
      {"connect_ms", "ms", "time to connect through the driver"},
      {"instance_open", "", "dm, oracle: 1 when the instance status is OPEN (0 is critical)"},
      {"sessions", "", "dm, oracle: sessions"},
      {"max_sessions", "", "dm, oracle: the session limit (MAX_SESSIONS, sessions)"},
      {"sessions_pct", "%", "dm, oracle: sessions / limit (connections_warn, _crit)"},
      {"tablespace_used_bytes", "B", "dm, oracle: allocated minus free, per tablespace"},
      {"tablespace_max_bytes", "B", "dm, oracle: what the files may grow to, per tablespace"},
      {"tablespace_used_pct", "%", "dm, oracle: used / max (tablespace_warn, _crit)"},
      {"(postgres metrics)", "", "kingbase: the metrics of the `postgres` check"},
      {"<query>", "", "custom queries: `<query>` or `<query>_<column>`"},
  };
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    return std::make_unique<OdbcCheck>(std::move(id), o);
  };
  s.default_id = [](const CheckOptions& o) {
    return "odbc:" + odbc_target(o.str("dsn"), o.str("connection_string"));
  };
  return s;
}

}  // namespace xj
