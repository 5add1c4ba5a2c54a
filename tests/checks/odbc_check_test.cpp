// The odbc check through Debian's real ODBC drivers (odbc-postgresql, odbc-mariadb) against
// real servers started by the test; the dm / oracle statements only through the parser.
#include <libpq-fe.h>
#include <mysql.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "db_servers.hpp"
#include "xj/checks/odbc_check.hpp"
#include "xj/checks/registry.hpp"
#include "xj/common/config_error.hpp"

using namespace xj;
using namespace std::chrono_literals;

namespace {

constexpr const char* kPgDriver = "/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so";
constexpr const char* kMariaDriver = "/usr/lib/x86_64-linux-gnu/odbc/libmaodbc.so";

std::unique_ptr<Check> make_check(const std::string& yaml) {
  return load_check(YAML::Load(yaml), "agent.yaml", "checks[0]", CheckEnv{}).check;
}

Result run(Check& c) { return run_guarded(c, RunContext(10s)); }

const Metric* metric(const Result& r, const std::string& name, const Labels& labels = {}) {
  for (const auto& m : r.metrics) {
    if (m.name == name && m.labels == labels) return &m;
  }
  return nullptr;
}

double value(const Result& r, const std::string& name, const Labels& labels = {}) {
  const Metric* m = metric(r, name, labels);
  INFO("metric " << name);
  REQUIRE(m != nullptr);
  return m->value;
}

void pg_exec(const test::PgServer& pg, const std::string& sql) {
  PGconn* c = PQconnectdb(pg.admin_dsn().c_str());
  PGresult* r = PQexec(c, sql.c_str());
  INFO(sql << ": " << PQerrorMessage(c));
  CHECK((PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK));
  PQclear(r);
  PQfinish(c);
}

std::string pg_value(const test::PgServer& pg, const std::string& sql) {
  PGconn* c = PQconnectdb(pg.admin_dsn().c_str());
  PGresult* r = PQexec(c, sql.c_str());
  std::string v = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  PQfinish(c);
  return v;
}

void maria_exec(const test::MariaServer& db, const std::string& sql) {
  MYSQL* m = mysql_init(nullptr);
  REQUIRE(mysql_real_connect(m, "localhost", "root", "", nullptr, 0, db.socket().c_str(), 0));
  INFO(sql << ": " << mysql_error(m));
  CHECK(mysql_query(m, sql.c_str()) == 0);
  mysql_close(m);
}

}  // namespace

TEST_CASE("odbc generic runs custom queries through the PostgreSQL ODBC driver, and a stopped "
          "server is critical and a restarted one ok",
          "[odbc][server]") {
  REQUIRE(std::filesystem::exists(kPgDriver));
  test::PgServer pg;
  pg_exec(pg, "CREATE ROLE xunjian LOGIN PASSWORD 'pw-Secret-3'");
  pg_exec(pg, "GRANT pg_monitor TO xunjian");
  pg_exec(pg, "CREATE TABLE jobs (state text)");
  pg_exec(pg, "INSERT INTO jobs VALUES ('new'), ('new'), ('done')");
  pg_exec(pg, "GRANT SELECT ON jobs TO xunjian");
  const std::string pw = pg.dir() + "/odbc.pass";
  std::ofstream(pw) << "pw-Secret-3\n";
  const std::string base = "kind: odbc\nid: odbc:pg\nconnection_string: DRIVER=" +
                           std::string(kPgDriver) + ";SERVER=127.0.0.1;PORT=" +
                           std::to_string(pg.port()) + ";DATABASE=postgres\nuser: xunjian\n"
                           "password_file: " + pw + "\n";
  auto check = make_check(base +
                          "queries:\n"
                          "  jobs: SELECT state, count(*) FROM jobs GROUP BY state\n"
                          "  backlog: SELECT count(*) AS waiting FROM jobs WHERE state = 'new'\n"
                          "query_crit: {backlog: 1}\n");
  Result r = run(*check);
  INFO(r.summary);
  CHECK(value(r, "up") == 1);
  CHECK(value(r, "jobs", {{"name", "new"}}) == 2);
  CHECK(value(r, "jobs", {{"name", "done"}}) == 1);
  CHECK(value(r, "backlog") == 2);
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.find("connected to 127.0.0.1:" + std::to_string(pg.port()) + " in ") == 0);
  CHECK(r.summary.find("critical: backlog=2 (crit ~:1)") != std::string::npos);
  CHECK(r.summary.find("pw-Secret-3") == std::string::npos);

  // The dm/oracle evaluation through a real driver: a site SQL file that gives the oracle
  // statements' columns from PostgreSQL's catalogs.
  const std::string sql_dir = pg.dir() + "/sql";
  std::filesystem::create_directories(sql_dir);
  std::ofstream(sql_dir + "/oracle.sql")
      << "-- name: instance\nSELECT 'pgtest' AS instance_name, 'OPEN' AS status, "
         "'PRIMARY' AS role, current_setting('server_version') AS version\n"
         "-- name: sessions\nSELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
         "'client backend') AS sessions, current_setting('max_connections')::int AS max_sessions\n"
         "-- name: tablespaces\nSELECT spcname AS tablespace, pg_tablespace_size(oid) AS used_bytes,"
         " 10 * pg_tablespace_size(oid) AS max_bytes FROM pg_tablespace WHERE spcname = "
         "'pg_default'\n";
  Result ora = run(*make_check(base + "dialect: oracle\nsql_dir: " + sql_dir + "\n"));
  INFO(ora.summary);
  CHECK(ora.status == Status::kOk);
  CHECK(value(ora, "instance_open") == 1);
  CHECK(value(ora, "max_sessions") == 20);
  CHECK(value(ora, "sessions") >= 1);
  CHECK(value(ora, "tablespace_used_pct", {{"tablespace", "pg_default"}}) == 10);
  CHECK(value(ora, "tablespace_used_bytes", {{"tablespace", "pg_default"}}) ==
        std::stod(pg_value(pg, "SELECT pg_tablespace_size('pg_default')")));
  CHECK(ora.summary.find("Oracle 15.") == 0);

  pg.stop();
  Result down = run(*check);
  INFO(down.summary);
  CHECK(down.status == Status::kCritical);
  CHECK(value(down, "up") == 0);
  CHECK(down.summary.find("odbc check 'odbc:pg': cannot connect to 127.0.0.1:" +
                          std::to_string(pg.port()) + ": [08001] ") == 0);
  CHECK(down.summary.find("refused") != std::string::npos);
  pg.start();
  CHECK(value(run(*check), "up") == 1);
}

TEST_CASE("odbc generic runs custom queries through the MariaDB ODBC driver, and a stopped server "
          "is critical",
          "[odbc][server]") {
  REQUIRE(std::filesystem::exists(kMariaDriver));
  test::MariaServer db;
  maria_exec(db, "CREATE DATABASE app");
  maria_exec(db, "CREATE TABLE app.jobs (id INT PRIMARY KEY)");
  maria_exec(db, "INSERT INTO app.jobs SELECT seq FROM app.seq_1_to_42");
  maria_exec(db, "CREATE USER 'xunjian'@'127.0.0.1' IDENTIFIED BY 'pw;{Secret}-4'");
  maria_exec(db, "GRANT SELECT ON app.jobs TO 'xunjian'@'127.0.0.1'");
  const std::string pw = db.dir() + "/odbc.pass";
  std::ofstream(pw) << "pw;{Secret}-4\n";  // needs the braces of the ODBC grammar
  auto check = make_check("kind: odbc\nid: odbc:maria\nconnection_string: DRIVER=" +
                          std::string(kMariaDriver) + ";SERVER=127.0.0.1;PORT=" +
                          std::to_string(db.port()) + "\nuser: xunjian\npassword_file: " + pw +
                          "\nqueries: {jobs: 'SELECT COUNT(*) AS n, MAX(id) AS top FROM app.jobs'}\n");
  Result r = run(*check);
  INFO(r.summary);
  CHECK(r.status == Status::kOk);
  CHECK(value(r, "jobs_n") == 42);
  CHECK(value(r, "jobs_top") == 42);
  db.stop();
  Result down = run(*check);
  INFO(down.summary);
  CHECK(down.status == Status::kCritical);
  CHECK(down.summary.find("odbc check 'odbc:maria': cannot connect to 127.0.0.1:" +
                          std::to_string(db.port()) + ": [") == 0);
}

TEST_CASE("the dm and oracle statements parse into the statements the evaluation reads",
          "[odbc]") {
  for (const char* dialect : {"dm", "oracle"}) {
    INFO(dialect);
    auto s = load_dialect_sql(dialect, "");
    REQUIRE(s.ok());
    std::vector<std::string> names;
    for (const auto& [n, sql] : *s) {
      names.push_back(n);
      CHECK(sql.back() != ';');
    }
    CHECK(names == std::vector<std::string>{"instance", "sessions", "tablespaces"});
    for (const char* col : {"AS instance_name", "AS status", "AS role", "AS version"}) {
      CHECK(s->at("instance").find(col) != std::string::npos);
    }
    CHECK(s->at("sessions").find("AS max_sessions") != std::string::npos);
    CHECK(s->at("tablespaces").find("AS used_bytes") != std::string::npos);
    CHECK(s->at("tablespaces").find("FROM DBA_FREE_SPACE") != std::string::npos);
  }
  auto dm = load_dialect_sql("dm", "");
  CHECK(dm->at("instance") ==
        "-- STATUS$ is OPEN when the database serves; MODE$ is PRIMARY, STANDBY or NORMAL.\n"
        "SELECT INSTANCE_NAME AS instance_name, STATUS$ AS status, MODE$ AS role,\n"
        "       SVR_VERSION AS version\n  FROM V$INSTANCE");
  CHECK(dm->at("sessions").find("FROM V$SESSIONS") != std::string::npos);
  CHECK(dm->at("sessions").find("PARA_NAME = 'MAX_SESSIONS'") != std::string::npos);
  auto ora = load_dialect_sql("oracle", "");
  CHECK(ora->at("instance").find("FROM V$INSTANCE i CROSS JOIN V$DATABASE d") != std::string::npos);
  CHECK(ora->at("sessions").find("WHERE NAME = 'sessions'") != std::string::npos);
  CHECK(ora->at("tablespaces").find("NVL(s.free, 0)") != std::string::npos);
}

TEST_CASE("instance rows give open state, sessions and tablespace use with thresholds",
          "[odbc]") {
  InstanceThresholds t{Range::above(80), Range::above(90), Range::above(85), Range::above(95)};
  SqlSnapshot s = {
      {"instance", SqlTable{{"INSTANCE_NAME", "STATUS", "ROLE", "VERSION"},
                            {{"DMSERVER", "OPEN", "PRIMARY", "8.1.2"}}}},
      {"sessions", SqlTable{{"SESSIONS", "MAX_SESSIONS"}, {{"50", "100"}}}},
      {"tablespaces", SqlTable{{"TABLESPACE", "USED_BYTES", "MAX_BYTES"},
                               {{"MAIN", "96", "100"}, {"TEMP", "10", "100"}}}},
  };
  Result r;
  r.status = Status::kOk;
  REQUIRE(evaluate_instance_dialect(s, t, "DM", r).ok());
  CHECK(metric(r, "instance_open")->value == 1);
  CHECK(metric(r, "sessions_pct")->value == 50);
  CHECK(metric(r, "tablespace_used_pct", {{"tablespace", "MAIN"}})->value == 96);
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary == "DM 8.1.2 OPEN (PRIMARY): 50/100 sessions, fullest tablespace 96.00% (MAIN); "
                     "critical: tablespace_used_pct{tablespace=MAIN}=96% (crit ~:95)");
  s["instance"].rows[0][1] = "MOUNT";
  Result mounted;
  mounted.status = Status::kOk;
  REQUIRE(evaluate_instance_dialect(s, t, "DM", mounted).ok());
  CHECK(metric(mounted, "instance_open")->value == 0);
  s["tablespaces"].rows[0][1] = "lots";
  Result bad;
  CHECK(evaluate_instance_dialect(s, t, "DM", bad).error().find("tablespace MAIN") !=
        std::string::npos);
}

TEST_CASE("ODBC connection strings brace awkward values and the target never shows the password",
          "[odbc]") {
  CHECK(odbc_connection_string("", "DRIVER=x;SERVER=h", "u", "p;w}d") ==
        "DRIVER=x;SERVER=h;UID=u;PWD={p;w}}d};");
  CHECK(odbc_connection_string("DM1", "", "", "") == "DSN=DM1;");
  CHECK(odbc_target("DM1", "") == "DM1");
  CHECK(odbc_target("", "DRIVER={DM8 ODBC DRIVER};SERVER=10.0.0.5;TCP_PORT=5236") ==
        "10.0.0.5:5236");
  CHECK(odbc_target("", "Driver=x;Host=db;Port=54321") == "db:54321");
  CHECK(odbc_target("", "DRIVER=x") == "odbc");
  try {
    make_check("kind: odbc\nconnection_string: DRIVER=x;PWD=secret\n");
    FAIL("accepted a password in connection_string");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("key 'connection_string': put the password in") !=
          std::string::npos);
  }
  CHECK(make_check("kind: odbc\ndsn: DM1\ndialect: dm\n")->id() == "odbc:DM1");
}
