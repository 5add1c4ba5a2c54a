// The postgres check on a real primary and its streaming standby (pg_basebackup), with
// replay paused on the standby to make lag; compared with pg_stat_replication on the primary
// and the standby's own WAL functions.
#include <libpq-fe.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "db_servers.hpp"
#include "xj/checks/postgres_check.hpp"
#include "xj/checks/registry.hpp"

using namespace xj;
using namespace std::chrono_literals;

namespace {

double pg_number(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  INFO(sql << ": " << PQerrorMessage(c));
  REQUIRE(PQresultStatus(r) == PGRES_TUPLES_OK);
  REQUIRE(PQntuples(r) == 1);
  const std::string v = PQgetvalue(r, 0, 0);
  PQclear(r);
  return v == "t" ? 1 : v == "f" ? 0 : std::stod(v);
}

// Polls until pred holds, at most 15 s.
void wait_until(const std::function<bool()>& pred, const char* what) {
  for (int i = 0; i < 300 && !pred(); ++i) std::this_thread::sleep_for(50ms);
  INFO(what);
  REQUIRE(pred());
}

double metric_value(const Result& r, const std::string& name, const Labels& labels = {}) {
  for (const auto& m : r.metrics) {
    if (m.name == name && m.labels == labels) return m.value;
  }
  FAIL("no metric " << name);
  return 0;
}

std::unique_ptr<Check> make_check(const std::string& yaml) {
  return load_check(YAML::Load(yaml), "agent.yaml", "checks[0]", CheckEnv{}).check;
}

}  // namespace

TEST_CASE("postgres check reports standby lag on the primary and replay delay on a paused "
          "standby as the servers' own views say",
          "[postgres][server][replication]") {
  test::PgServer primary;
  test::PgServer standby(test::PgServer::StandbyOf{primary});
  std::unique_ptr<PGconn, decltype(&PQfinish)> pc(PQconnectdb(primary.admin_dsn().c_str()), PQfinish),
      sc(PQconnectdb(standby.admin_dsn().c_str()), PQfinish);
  PGconn* p = pc.get();
  PGconn* s = sc.get();
  REQUIRE(PQstatus(p) == CONNECTION_OK);
  REQUIRE(PQstatus(s) == CONNECTION_OK);
  wait_until([&] { return pg_number(p, "SELECT count(*) FROM pg_stat_replication WHERE state = "
                                       "'streaming'") == 1; }, "the standby streams");
  wait_until([&] { return pg_number(s, "SELECT pg_last_wal_receive_lsn() = "
                                       "pg_last_wal_replay_lsn()") == 1; }, "replay caught up");
  PGresult* name = PQexec(p, "SELECT application_name FROM pg_stat_replication");
  const std::string app = PQgetvalue(name, 0, 0);
  PQclear(name);

  auto on_primary = make_check("kind: postgres\nid: pg:primary\ndsn: " + primary.admin_dsn() + "\n");
  auto on_standby = make_check("kind: postgres\nid: pg:standby\ndsn: " + standby.admin_dsn() +
                               "\nlag_warn: 1s\n");
  Result pr = run_guarded(*on_primary, RunContext(10s));
  INFO(pr.summary);
  CHECK(metric_value(pr, "standbys") == 1);
  CHECK(pr.details["standbys"][0]["state"] == "streaming");
  Result sr = run_guarded(*on_standby, RunContext(10s));
  INFO(sr.summary);
  CHECK(sr.status == Status::kOk);
  CHECK(sr.details["role"] == "standby");
  CHECK(metric_value(sr, "is_standby") == 1);
  CHECK(metric_value(sr, "replay_delay_s") == 0);  // everything received is replayed
  CHECK(sr.summary.find("PostgreSQL 15.") == 0);

  // A replayed commit gives the standby a replay timestamp to measure the delay from.
  PQclear(PQexec(p, "CREATE TABLE first (id int)"));
  wait_until([&] { return pg_number(s, "SELECT pg_last_xact_replay_timestamp() IS NOT NULL AND "
                                       "pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()") == 1; },
             "the standby replayed a transaction");
  PQclear(PQexec(s, "SELECT pg_wal_replay_pause()"));
  PQclear(PQexec(p, "CREATE TABLE grow AS SELECT g FROM generate_series(1, 20000) g"));
  wait_until([&] { return pg_number(s, "SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), "
                                       "pg_last_wal_replay_lsn()) > 0") == 1; },
             "the standby received WAL it does not replay");
  std::this_thread::sleep_for(1200ms);

  const char* lag_sql =
      "SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())";
  const char* delay_sql =
      "SELECT EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())";
  const double lag_before = pg_number(s, lag_sql), delay_before = pg_number(s, delay_sql);
  Result paused = run_guarded(*on_standby, RunContext(10s));
  const double lag_after = pg_number(s, lag_sql), delay_after = pg_number(s, delay_sql);
  INFO(paused.summary);
  CHECK(metric_value(paused, "replay_lag_bytes") >= lag_before);
  CHECK(metric_value(paused, "replay_lag_bytes") <= lag_after);
  CHECK(metric_value(paused, "replay_lag_bytes") > 0);
  CHECK(metric_value(paused, "replay_delay_s") >= delay_before);
  CHECK(metric_value(paused, "replay_delay_s") <= delay_after);
  CHECK(paused.details["replay_paused"] == true);
  CHECK(paused.status == Status::kWarning);
  CHECK(paused.summary.find("warning: replay_delay_s=") != std::string::npos);

  const char* primary_lag_sql =
      "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication";
  const double plag_before = pg_number(p, primary_lag_sql);
  Result behind = run_guarded(*on_primary, RunContext(10s));
  const double plag_after = pg_number(p, primary_lag_sql);
  INFO(behind.summary);
  const double bytes = metric_value(behind, "replication_lag_bytes", {{"standby", app}});
  CHECK(bytes >= plag_before);
  CHECK(bytes <= plag_after);
  CHECK(bytes > 0);
  PQclear(PQexec(s, "SELECT pg_wal_replay_resume()"));
}
