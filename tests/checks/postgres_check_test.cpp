// The postgres check against a real PostgreSQL 15 started by the test (db_servers.hpp). Each
// metric is compared with what the server's own views say at that moment.
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "db_servers.hpp"
#include "xj/checks/postgres_check.hpp"
#include "xj/checks/registry.hpp"

using namespace xj;
using namespace std::chrono_literals;

namespace {

// The test's own libpq session (superuser over the Unix socket).
class PgClient {
 public:
  explicit PgClient(const std::string& dsn) : c_(PQconnectdb(dsn.c_str())) {
    INFO(PQerrorMessage(c_));
    REQUIRE(PQstatus(c_) == CONNECTION_OK);
  }
  ~PgClient() { PQfinish(c_); }
  PgClient(const PgClient&) = delete;
  PgClient& operator=(const PgClient&) = delete;

  // Runs a statement that must succeed; returns the first value of the first row, or "".
  std::string value(const std::string& sql) {
    PGresult* r = PQexec(c_, sql.c_str());
    INFO(sql << ": " << PQerrorMessage(c_));
    REQUIRE((PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK));
    std::string v = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    return v;
  }
  double number(const std::string& sql) { return std::stod(value(sql)); }
  void send(const std::string& sql) { REQUIRE(PQsendQuery(c_, sql.c_str()) == 1); }
  // Waits for what send() started; returns the error text, empty when it succeeded.
  std::string finish() {
    std::string error;
    while (PGresult* r = PQgetResult(c_)) {
      if (PQresultStatus(r) == PGRES_FATAL_ERROR) error = PQresultErrorMessage(r);
      PQclear(r);
    }
    return error;
  }
  int pid() { return PQbackendPID(c_); }

 private:
  PGconn* c_;
};

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

// A monitoring role with exactly the privileges docs/checks.md asks for, over TCP with a
// password from a file.
std::string monitor_check_yaml(test::PgServer& pg, const std::string& extra = "") {
  PgClient admin(pg.admin_dsn());
  if (admin.value("SELECT count(*) FROM pg_roles WHERE rolname = 'xunjian'") == "0") {
    admin.value("CREATE ROLE xunjian LOGIN PASSWORD 'pw-Secret-1'");
    admin.value("GRANT pg_monitor TO xunjian");
  }
  const std::string pw = pg.dir() + "/monitor.pass";
  std::ofstream(pw) << "pw-Secret-1\n";
  return "kind: postgres\nid: pg:main\ndsn: host=127.0.0.1 port=" + std::to_string(pg.port()) +
         " user=xunjian dbname=postgres\npassword_file: " + pw + "\n" + extra;
}

double stat_sum(PgClient& admin, const std::string& column) {
  return admin.number("SELECT sum(" + column + ") FROM pg_stat_database s JOIN pg_database d "
                      "ON d.oid = s.datid WHERE d.datallowconn");
}

// Until the statistics a closed session flushes at exit are visible (bounded).
void wait_for_stats(PgClient& admin, const std::string& column, double at_least) {
  for (int i = 0; i < 100 && stat_sum(admin, column) < at_least; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  REQUIRE(stat_sum(admin, column) >= at_least);
}

}  // namespace

TEST_CASE("postgres check measures sessions, locks, long queries, deadlocks and growth as the "
          "server's views report them",
          "[postgres][server]") {
  test::PgServer pg;
  auto check = make_check(monitor_check_yaml(pg, "long_query_warn: 1s\n"));
  PgClient admin(pg.admin_dsn());
  admin.value("CREATE DATABASE app");
  admin.value("CREATE TABLE locked (id int)");
  admin.value("CREATE TABLE pair (id int PRIMARY KEY, v text)");
  admin.value("INSERT INTO pair VALUES (1, 'a'), (2, 'b')");

  Result first = run(*check);
  INFO(first.summary);
  REQUIRE(first.status == Status::kOk);
  CHECK(first.summary.find("PostgreSQL 15.") == 0);
  CHECK(first.details["role"] == "primary");
  CHECK(value(first, "up") == 1);
  CHECK(value(first, "is_standby") == 0);
  CHECK(value(first, "max_connections") == 20);
  CHECK(metric(first, "deadlocks") == nullptr);  // nothing to compare with yet
  CHECK(metric(first, "db_growth_bytes", {{"database", "app"}}) == nullptr);
  CHECK(first.summary.find("pw-Secret-1") == std::string::npos);
  CHECK(first.details.dump().find("pw-Secret-1") == std::string::npos);

  // Sessions: one idle in a transaction, one holding a lock another waits for, one sleeping.
  PgClient idle(pg.admin_dsn()), holder(pg.admin_dsn()), waiter(pg.admin_dsn()),
      sleeper(pg.admin_dsn());
  idle.value("BEGIN");
  idle.value("SELECT 1");
  holder.value("BEGIN");
  holder.value("LOCK TABLE locked IN ACCESS EXCLUSIVE MODE");
  waiter.send("SELECT count(*) FROM locked");
  sleeper.send("SELECT pg_sleep(30)");
  std::this_thread::sleep_for(1500ms);
  const double clients_before = admin.number(
      "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'");
  Result busy = run(*check);
  INFO(busy.summary);
  CHECK(value(busy, "connections") == clients_before + 1);  // + the check's own session
  CHECK(value(busy, "idle_in_transaction") ==
        admin.number("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'"));
  CHECK(value(busy, "idle_in_transaction") == 2);
  CHECK(value(busy, "waiting_locks") == admin.number("SELECT count(*) FROM pg_locks WHERE NOT granted"));
  CHECK(value(busy, "waiting_locks") == 1);
  const double long_now = admin.number(
      "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND backend_type = "
      "'client backend' AND pid <> pg_backend_pid() AND clock_timestamp() - query_start > "
      "interval '1 second'");
  CHECK(value(busy, "long_queries") == long_now);
  CHECK(value(busy, "long_queries") == 2);  // the sleeper and the waiter
  const double longest_after = admin.number(
      "SELECT max(EXTRACT(EPOCH FROM clock_timestamp() - query_start)) FROM pg_stat_activity "
      "WHERE state = 'active' AND pid <> pg_backend_pid()");
  CHECK(value(busy, "longest_query_s") > 1.4);
  CHECK(value(busy, "longest_query_s") <= longest_after);
  CHECK(busy.status == Status::kWarning);  // longest query over long_query_warn (1s)
  CHECK(busy.summary.find("warning: longest_query_s=") != std::string::npos);
  bool sample_found = false;
  for (const auto& s : busy.details["long_queries"]) {
    if (s["query"] == "SELECT pg_sleep(30)") {
      sample_found = true;
      CHECK(s["pid"] == sleeper.pid());
      CHECK(s["user"] == "postgres");
      CHECK(s["database"] == "postgres");
    }
  }
  CHECK(sample_found);
  const double rollbacks_at_busy = stat_sum(admin, "xact_rollback");
  const double deadlocks_at_busy = stat_sum(admin, "deadlocks");
  const double app_at_busy = value(busy, "db_size_bytes", {{"database", "app"}});

  admin.value("SELECT pg_cancel_backend(" + std::to_string(sleeper.pid()) + ")");
  CHECK(sleeper.finish().find("canceling statement") != std::string::npos);
  holder.value("ROLLBACK");
  CHECK(waiter.finish().empty());
  idle.value("ROLLBACK");

  // A deadlock between two sessions (deadlock_timeout is 100ms in the test server).
  {
    PgClient a(pg.admin_dsn()), b(pg.admin_dsn());
    a.value("BEGIN");
    a.value("UPDATE pair SET v = 'a1' WHERE id = 1");
    b.value("BEGIN");
    b.value("UPDATE pair SET v = 'b2' WHERE id = 2");
    a.send("UPDATE pair SET v = 'a2' WHERE id = 2");
    std::this_thread::sleep_for(200ms);
    b.send("UPDATE pair SET v = 'b1' WHERE id = 1");
    const std::string ea = a.finish(), eb = b.finish();
    CHECK((ea + eb).find("deadlock detected") != std::string::npos);
    a.value("ROLLBACK");
    b.value("ROLLBACK");
  }
  // Data growth in database app.
  {
    PgClient app(pg.admin_dsn("app"));
    app.value("CREATE TABLE filler AS SELECT g AS id, repeat('x', 200) AS pad "
              "FROM generate_series(1, 20000) g");
  }
  wait_for_stats(admin, "deadlocks", deadlocks_at_busy + 1);
  wait_for_stats(admin, "xact_rollback", rollbacks_at_busy + 5);
  std::this_thread::sleep_for(300ms);
  const double rollbacks_now = stat_sum(admin, "xact_rollback");
  const double hit = stat_sum(admin, "blks_hit"), read = stat_sum(admin, "blks_read");
  const double xid_age = admin.number(
      "SELECT max(age(datfrozenxid)) FROM pg_database WHERE datallowconn");

  Result after = run(*check);
  INFO(after.summary);
  CHECK(value(after, "deadlocks") == stat_sum(admin, "deadlocks") - deadlocks_at_busy);
  CHECK(value(after, "deadlocks") == 1);
  CHECK(value(after, "rollbacks") == rollbacks_now - rollbacks_at_busy);
  const double app_size = admin.number("SELECT pg_database_size('app')");
  CHECK(value(after, "db_size_bytes", {{"database", "app"}}) == app_size);
  CHECK(value(after, "db_growth_bytes", {{"database", "app"}}) == app_size - app_at_busy);
  CHECK(value(after, "db_growth_bytes", {{"database", "app"}}) > 4'000'000);
  CHECK(value(after, "cache_hit_pct") == Approx(100.0 * hit / (hit + read)).margin(0.5));
  CHECK(value(after, "xid_age") == Approx(xid_age).margin(50));
  CHECK(value(after, "tablespace_size_bytes", {{"tablespace", "pg_default"}}) ==
        admin.number("SELECT pg_tablespace_size('pg_default')"));
  CHECK(value(after, "standbys") == 0);
  CHECK(after.status == Status::kWarning);  // deadlocks_warn defaults to "more than 0"
  CHECK(after.summary.find("warning: deadlocks=1") != std::string::npos);
}

TEST_CASE("a stopped postgres server is critical with the cause, and a restarted one ok again",
          "[postgres][server]") {
  test::PgServer pg;
  auto check = make_check(monitor_check_yaml(pg));
  CHECK(run(*check).status == Status::kOk);
  pg.stop();
  Result down = run(*check);
  CHECK(down.status == Status::kCritical);
  CHECK(down.summary == "postgres check 'pg:main': connection refused at 127.0.0.1:" +
                            std::to_string(pg.port()));
  CHECK(value(down, "up") == 0);
  pg.start();
  Result up = run(*check);
  INFO(up.summary);
  CHECK(up.status == Status::kOk);
  CHECK(value(up, "up") == 1);

  // A wrong password is critical too, and the message carries no password.
  std::ofstream(pg.dir() + "/monitor.pass") << "wrong-pw\n";
  Result denied = run(*check);
  CHECK(denied.status == Status::kCritical);
  CHECK(denied.summary.find("password authentication failed for user \"xunjian\"") !=
        std::string::npos);
  CHECK(denied.summary.find("wrong-pw") == std::string::npos);
}

TEST_CASE("custom postgres queries become metrics with thresholds, and a site's SQL file "
          "replaces a built-in statement",
          "[postgres][server]") {
  test::PgServer pg;
  {
    PgClient admin(pg.admin_dsn());
    admin.value("CREATE TABLE jobs (state text)");
    admin.value("INSERT INTO jobs VALUES ('new'), ('new'), ('done')");
    admin.value("CREATE ROLE xunjian LOGIN PASSWORD 'pw-Secret-1'");
    admin.value("GRANT pg_monitor TO xunjian");
    admin.value("GRANT SELECT ON jobs TO xunjian");
  }
  const std::string yaml = monitor_check_yaml(
      pg,
      "queries:\n"
      "  jobs: SELECT state, count(*) FROM jobs GROUP BY state\n"
      "  backlog: SELECT count(*) FILTER (WHERE state = 'new') AS new, count(*) AS total FROM jobs\n"
      "query_warn: {backlog: 1}\n"
      "query_crit: {jobs: 5}\n");
  Result r = run(*make_check(yaml));
  INFO(r.summary);
  CHECK(value(r, "jobs", {{"name", "new"}}) == 2);
  CHECK(value(r, "jobs", {{"name", "done"}}) == 1);
  CHECK(value(r, "backlog_new") == 2);
  CHECK(value(r, "backlog_total") == 3);
  CHECK(metric(r, "backlog_new")->warn->str() == "~:1");
  CHECK(r.status == Status::kWarning);
  CHECK(r.summary.find("warning: backlog_new=2 (warn ~:1)") != std::string::npos);

  const std::string sql_dir = pg.dir() + "/sql";
  std::filesystem::create_directories(sql_dir);
  std::ofstream(sql_dir + "/postgres.sql")
      << "-- site copy\n-- name: tablespaces\nSELECT spcname AS tablespace, 7 AS size_bytes "
         "FROM pg_tablespace WHERE spcname = 'pg_global';\n";
  Result site = run(*make_check(monitor_check_yaml(pg, "sql_dir: " + sql_dir + "\n")));
  INFO(site.summary);
  CHECK(value(site, "tablespace_size_bytes", {{"tablespace", "pg_global"}}) == 7);
  CHECK(metric(site, "tablespace_size_bytes", {{"tablespace", "pg_default"}}) == nullptr);

  std::ofstream(sql_dir + "/postgres.sql")
      << "-- name: tablespaces\nSELECT * FROM no_such_view\n";
  Result broken = run(*make_check(monitor_check_yaml(pg, "sql_dir: " + sql_dir + "\n")));
  CHECK(broken.status == Status::kUnknown);
  CHECK(broken.summary.find("postgres check 'pg:main': statement 'tablespaces' failed: ERROR:  "
                            "relation \"no_such_view\" does not exist") == 0);
}

TEST_CASE("a postgres server that accepts TCP but never answers is critical at connect_timeout",
          "[postgres]") {
  // A listening socket nobody accepts on: the kernel completes the handshake, libpq sends its
  // first packet and waits for an answer that never comes.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0);
  REQUIRE(::listen(fd, 8) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const std::string port = std::to_string(ntohs(a.sin_port));
  auto check = make_check("kind: postgres\nid: pg:hung\ndsn: host=127.0.0.1 port=" + port +
                          " user=x dbname=x sslmode=disable\nconnect_timeout: 500ms\n");
  const auto started = std::chrono::steady_clock::now();
  Result r = run(*check);
  const auto took = std::chrono::steady_clock::now() - started;
  ::close(fd);
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.find("postgres check 'pg:hung': connect to 127.0.0.1:" + port +
                       " timed out after 5") == 0);
  CHECK(took >= 450ms);
  CHECK(took < 3s);
}
