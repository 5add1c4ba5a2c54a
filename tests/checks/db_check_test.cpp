// The database checks' pure parts on fixtures: SQL files, custom query shapes, passwords,
// counters, and the postgres rows -> metrics evaluation.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "xj/checks/db_check.hpp"
#include "xj/checks/postgres_check.hpp"
#include "xj/checks/registry.hpp"
#include "xj/common/config_error.hpp"

using namespace xj;

namespace {

SqlTable table(std::vector<std::string> columns,
               std::vector<std::vector<std::optional<std::string>>> rows) {
  return SqlTable{std::move(columns), std::move(rows)};
}

const Metric* metric(const Result& r, const std::string& name, const Labels& labels = {}) {
  for (const auto& m : r.metrics) {
    if (m.name == name && m.labels == labels) return &m;
  }
  return nullptr;
}

std::string config_error(const std::string& yaml) {
  try {
    load_check(YAML::Load(yaml), "agent.yaml", "checks[0]", CheckEnv{});
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// The rows a PostgreSQL 15 primary returns for the built-in statements.
SqlSnapshot pg_rows(double deadlocks, double rollbacks, double app_size) {
  return {
      {"server", table({"version", "version_num", "in_recovery"}, {{"15.8", "150008", "f"}})},
      {"activity", table({"connections", "max_connections", "idle_in_transaction", "waiting_locks"},
                         {{"17", "20", "1", "0"}})},
      {"long_queries",
       table({"pid", "user", "database", "seconds", "query"},
             {{"101", "app", "shop", "700.5", "SELECT slow()"},
              {"102", "app", "shop", "61", "UPDATE t"},
              {"103", "etl", "shop", "2", "SELECT 1"}})},
      {"databases", table({"database", "size_bytes", "xid_age", "blks_hit", "blks_read",
                           "deadlocks", "rollbacks"},
                          {{"postgres", "8000000", "900", "900", "100", "0", "3"},
                           {"app", app_size == 0 ? std::optional<std::string>() :
                                                   std::to_string(static_cast<long>(app_size)),
                            "1200", "7200", "800", std::to_string(static_cast<int>(deadlocks)),
                            std::to_string(static_cast<int>(rollbacks))}})},
      {"replication", table({"standby", "address", "state", "sync_state", "lag_bytes", "lag_seconds"},
                            {{"s1", "10.0.0.2", "streaming", "async", "4096", "45.5"},
                             {"s2", "10.0.0.3", "streaming", "async", "0", std::nullopt}})},
      {"tablespaces", table({"tablespace", "size_bytes"}, {{"pg_default", "9000000"}})},
  };
}

PgThresholds default_pg_thresholds() {
  PgThresholds t;
  t.connections_warn = Range::above(80);
  t.connections_crit = Range::above(90);
  t.cache_hit_warn = Range::below(90);
  t.long_query_warn = Range::above(60);
  t.long_query_crit = Range::above(600);
  t.lag_warn = Range::above(30);
  t.lag_crit = Range::above(300);
  t.deadlocks_warn = Range::above(0);
  return t;
}

}  // namespace

TEST_CASE("SQL files split into named statements, trailing semicolons removed", "[db]") {
  auto s = parse_sql_statements(
      "-- header comment\n\n-- name: one\nSELECT 1;\n\n-- name: two\n-- why it is so\n"
      "SELECT a,\n       b FROM t ;  \n");
  REQUIRE(s.ok());
  REQUIRE(s->size() == 2);
  CHECK(s->at("one") == "SELECT 1");
  CHECK(s->at("two") == "-- why it is so\nSELECT a,\n       b FROM t");
  CHECK(parse_sql_statements("-- name: a\nSELECT 1\n-- name: a\nSELECT 2\n").error() ==
        "line 3: statement 'a' is defined twice");
  CHECK(parse_sql_statements("-- name: a\n\n-- name: b\nSELECT 1").error() ==
        "line 1: statement 'a' is empty");
  CHECK(parse_sql_statements("-- name: Bad-Name\nSELECT 1").error().find("line 1:") == 0);
  CHECK_FALSE(parse_sql_statements("SELECT 1").ok());
}

TEST_CASE("the built-in postgres and kingbase statements parse and return the same columns",
          "[db]") {
  auto pg = load_dialect_sql("postgres", "");
  auto kb = load_dialect_sql("kingbase", "");
  REQUIRE(pg.ok());
  REQUIRE(kb.ok());
  std::vector<std::string> names;
  for (const auto& [n, _] : *pg) names.push_back(n);
  CHECK(names == std::vector<std::string>{"activity", "databases", "long_queries", "replication",
                                          "server", "standby", "tablespaces"});
  for (const auto& [name, sql] : *kb) {
    INFO(name);
    REQUIRE(pg->count(name) == 1);
    CHECK(sql.find("pg_") == std::string::npos);  // every catalog under the sys_ prefix
  }
  CHECK(kb->at("activity").find("FROM sys_stat_activity") != std::string::npos);
  CHECK(kb->at("databases").find("sys_database_size(d.oid)") != std::string::npos);
  CHECK(kb->size() == pg->size());
  CHECK(builtin_sql_file("nosuch").empty());
}

TEST_CASE("a site's SQL file replaces statements by name and may not invent new ones", "[db]") {
  const auto dir = std::filesystem::temp_directory_path() / "xj-db-sql-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "postgres.sql") << "-- name: tablespaces\nSELECT 'x' AS tablespace, 1 AS size_bytes\n";
  auto s = load_dialect_sql("postgres", dir);
  REQUIRE(s.ok());
  CHECK(s->at("tablespaces") == "SELECT 'x' AS tablespace, 1 AS size_bytes");
  CHECK(s->at("activity").find("pg_stat_activity") != std::string::npos);
  std::ofstream(dir / "postgres.sql") << "-- name: extra\nSELECT 1\n";
  auto bad = load_dialect_sql("postgres", dir);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().find("statement 'extra' is not one of the postgres statements") !=
        std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("custom query rows become metrics in either shape, with the query's thresholds",
          "[db]") {
  CustomQuery q{"Queue Depth", "", Range::above(10), Range::above(100)};
  auto pairs = custom_query_metrics(q, table({"name", "n"}, {{"orders", "12"}, {"mail", "0"},
                                                            {"nulls", std::nullopt}}));
  REQUIRE(pairs.ok());
  REQUIRE(pairs->size() == 2);
  CHECK((*pairs)[0].name == "queue_depth");
  CHECK((*pairs)[0].labels.at("name") == "orders");
  CHECK((*pairs)[0].value == 12);
  CHECK((*pairs)[0].evaluate() == Status::kWarning);
  auto one = custom_query_metrics(q, table({"Used", "Free"}, {{"3.5", "t"}}));
  REQUIRE(one.ok());
  REQUIRE(one->size() == 2);
  CHECK((*one)[0].name == "queue_depth_used");
  CHECK((*one)[1].value == 1);
  auto single = custom_query_metrics(q, table({"count"}, {{"7"}}));
  REQUIRE(single.ok());
  CHECK((*single)[0].name == "queue_depth");
  CHECK(custom_query_metrics(q, table({"a"}, {{"1"}, {"2"}})).error().find("returned 2 rows") !=
        std::string::npos);
  CHECK(custom_query_metrics(q, table({"a", "b"}, {{"x", "lots"}})).error() ==
        "query 'Queue Depth': value 'lots' for 'x' is not a number");
}

TEST_CASE("numbers in SQL text include booleans and exponents, nothing else", "[db]") {
  CHECK(parse_sql_number("42") == 42);
  CHECK(parse_sql_number(" -1.5e3 ") == -1500);
  CHECK(parse_sql_number("t") == 1);
  CHECK(parse_sql_number("OFF") == 0);
  CHECK_FALSE(parse_sql_number("12abc"));
  CHECK_FALSE(parse_sql_number(""));
  CHECK_FALSE(parse_sql_number("nan"));
}

TEST_CASE("passwords come from the first line of a file or else the environment", "[db]") {
  const auto file = std::filesystem::temp_directory_path() / "xj-db-pw-test";
  std::ofstream(file) << "s3cret\r\nsecond line\n";
  CHECK(*read_password(file.string(), "XJ_NO_SUCH_VAR") == "s3cret");
  ::setenv("XJ_DB_TEST_PW", "from-env", 1);
  CHECK(*read_password("", "XJ_DB_TEST_PW") == "from-env");
  CHECK(read_password("", "XJ_NO_SUCH_VAR").error() ==
        "environment variable XJ_NO_SUCH_VAR is not set");
  CHECK(read_password("/nonexistent/pw", "").error() == "cannot read password_file /nonexistent/pw");
  CHECK(*read_password("", "") == "");
  std::filesystem::remove(file);
}

TEST_CASE("counters give deltas from the second sighting and restart after a reset", "[db]") {
  CounterMemory m;
  CHECK_FALSE(m.delta("x", 10));
  CHECK(m.delta("x", 15) == 5);
  CHECK_FALSE(m.delta("x", 2));  // went down: statistics reset
  CHECK(m.delta("x", 3) == 1);
  m.forget_missing({});
  CHECK_FALSE(m.delta("x", 4));
}

TEST_CASE("libpq connection errors read as one phrase naming the address", "[db][postgres]") {
  CHECK(condense_pg_error("connection to server at \"127.0.0.1\", port 5432 failed: Connection "
                          "refused\n\tIs the server running on that host and accepting TCP/IP "
                          "connections?\n") == "connection refused at 127.0.0.1:5432");
  CHECK(condense_pg_error("connection to server at \"db.example\" (10.0.0.5), port 5433 failed: "
                          "FATAL:  password authentication failed for user \"x\"\n") ==
        "FATAL:  password authentication failed for user \"x\" at db.example:5433");
  CHECK(condense_pg_error("connection to server on socket \"/run/pg/.s.PGSQL.5432\" failed: No "
                          "such file or directory\n\tIs the server running locally?\n") ==
        "no such file or directory at /run/pg/.s.PGSQL.5432");
  CHECK(condense_pg_error("could not translate host name \"x\" to address: Name or service not "
                          "known\n") ==
        "could not translate host name \"x\" to address: Name or service not known");
}

TEST_CASE("postgres rows become metrics with thresholds, and counters compare runs",
          "[db][postgres]") {
  PgHistory h;
  const auto t = default_pg_thresholds();
  Result first;
  first.status = Status::kOk;
  REQUIRE(evaluate_postgres(pg_rows(2, 10, 5'000'000), t, h, first).ok());
  CHECK(metric(first, "connections_pct")->value == 85);
  CHECK(metric(first, "long_queries")->value == 2);  // over 60s; the 2s one is not long
  CHECK(metric(first, "longest_query_s")->value == 700.5);
  CHECK(first.details["long_queries"].size() == 2);
  CHECK(first.details["long_queries"][0]["query"] == "SELECT slow()");
  CHECK(metric(first, "cache_hit_pct")->value == 90.0);  // (900+7200)/(1000+8000)
  CHECK(metric(first, "xid_age")->value == 1200);
  CHECK(metric(first, "replication_lag_s", {{"standby", "s1"}})->value == 45.5);
  CHECK(metric(first, "replication_lag_s", {{"standby", "s2"}})->value == 0);
  CHECK(metric(first, "replication_lag_bytes", {{"standby", "s1"}})->value == 4096);
  CHECK(metric(first, "deadlocks") == nullptr);
  CHECK(metric(first, "db_growth_bytes", {{"database", "app"}}) == nullptr);
  CHECK(first.status == Status::kCritical);  // the 700s query
  CHECK(first.summary.find("PostgreSQL 15.8 primary: 17/20 connections, cache hit 90.00%, 2 long "
                           "queries; critical: longest_query_s=700.5s (crit ~:600); warning: "
                           "connections_pct=85% (warn ~:80); warning: replication_lag_s") == 0);

  Result second;
  second.status = Status::kOk;
  REQUIRE(evaluate_postgres(pg_rows(3, 14, 5'500'000), t, h, second).ok());
  CHECK(metric(second, "deadlocks")->value == 1);
  CHECK(metric(second, "deadlocks")->evaluate() == Status::kWarning);
  CHECK(metric(second, "rollbacks")->value == 4);
  CHECK(metric(second, "db_growth_bytes", {{"database", "app"}})->value == 500'000);
  CHECK(metric(second, "db_growth_bytes", {{"database", "postgres"}})->value == 0);

  SqlSnapshot broken = pg_rows(0, 0, 1);
  broken["activity"] = table({"connections"}, {{"1"}});
  Result r;
  CHECK(evaluate_postgres(broken, t, h, r).error() ==
        "statement 'activity' returned no column 'max_connections'");
}

TEST_CASE("a standby reports its replay delay instead of per-standby lag", "[db][postgres]") {
  SqlSnapshot s = {
      {"server", table({"version", "version_num", "in_recovery"}, {{"15.8", "150008", "t"}})},
      {"standby", table({"replay_delay_seconds", "replay_lag_bytes", "replay_paused"},
                        {{"42.25", "8192", "t"}})},
  };
  PgHistory h;
  Result r;
  r.status = Status::kOk;
  REQUIRE(evaluate_postgres(s, default_pg_thresholds(), h, r).ok());
  CHECK(r.details["role"] == "standby");
  CHECK(metric(r, "is_standby")->value == 1);
  CHECK(metric(r, "replay_delay_s")->value == 42.25);
  CHECK(metric(r, "replay_lag_bytes")->value == 8192);
  CHECK(r.details["replay_paused"] == true);
  CHECK(r.status == Status::kWarning);

  // Behind, but no transaction replayed since the standby started: no delay to report.
  s["standby"].rows[0][0] = std::nullopt;
  Result none;
  none.status = Status::kOk;
  REQUIRE(evaluate_postgres(s, default_pg_thresholds(), h, none).ok());
  CHECK(metric(none, "replay_delay_s") == nullptr);
  CHECK(metric(none, "replay_lag_bytes")->value == 8192);
}

TEST_CASE("database check settings that cannot work are rejected with the key", "[db]") {
  CHECK(config_error("kind: postgres\n").find("missing required key 'dsn'") != std::string::npos);
  CHECK(config_error("kind: postgres\ndsn: 'host=x port='\ndialect: oracle\n")
            .find("key 'dialect': must be postgres or kingbase") != std::string::npos);
  CHECK(config_error("kind: postgres\ndsn: 'hots=x'\n").find("key 'dsn': invalid connection "
                                                              "option \"hots\"") !=
        std::string::npos);
  CHECK(config_error("kind: postgres\ndsn: host=x\nquery_warn: {nope: 5}\n")
            .find("key 'query_warn': no query named 'nope' in queries") != std::string::npos);
  CHECK(config_error("kind: postgres\ndsn: host=x\nsql_dir: /nonexistent\n").empty());
  auto def = load_check(YAML::Load("kind: postgres\ndsn: host=db.example port=5433\n"),
                        "agent.yaml", "checks[0]", CheckEnv{});
  CHECK(def.check->id() == "postgres:db.example:5433");
}

namespace {
// Whether this process has libpq mapped (ctest runs every TEST_CASE in its own process, so
// nothing before the test case has loaded it).
bool libpq_mapped() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("/libpq.so") != std::string::npos) return true;
  }
  return false;
}
}  // namespace

TEST_CASE("a disabled postgres check does not load libpq", "[db]") {
  // Under ctest this is a fresh process; run together with the other cases, one of them may
  // have loaded libpq already, and only the loader-independent half can be seen.
  const bool observable = !libpq_mapped();
  if (!observable) WARN("libpq was loaded by an earlier test case in this process");
  // A dsn libpq would reject: not checked while the check is disabled, so the file loads.
  auto off = load_check(YAML::Load("kind: postgres\ndsn: 'hots=x host=db.example port=5433'\n"
                                   "enabled: false\n"),
                        "agent.yaml", "checks[0]", CheckEnv{});
  CHECK_FALSE(off.enabled);
  CHECK(off.check->id() == "postgres:db.example:5433");  // the same id libpq gives
  if (observable) CHECK_FALSE(libpq_mapped());
  // Enabled, the same dsn is checked by libpq (libpq-dev in deps.sh brings libpq5).
  CHECK(config_error("kind: postgres\ndsn: 'hots=x host=db.example'\n")
            .find("key 'dsn': invalid connection option \"hots\"") != std::string::npos);
  CHECK(libpq_mapped());
}
