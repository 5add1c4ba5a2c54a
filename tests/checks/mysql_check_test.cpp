// The mysql check against a real MariaDB started by the test (db_servers.hpp), as a user with
// exactly the GRANTs docs/checks.md gives. Metrics are compared with SHOW GLOBAL STATUS and
// information_schema at that moment.
#include <mysql.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "db_servers.hpp"
#include "xj/checks/mysql_check.hpp"
#include "xj/checks/registry.hpp"

using namespace xj;
using namespace std::chrono_literals;

namespace {

// The test's own session: root over the server's Unix socket.
class MyClient {
 public:
  explicit MyClient(const test::MariaServer& s) : m_(mysql_init(nullptr)) {
    REQUIRE(mysql_real_connect(m_, "localhost", "root", "", nullptr, 0, s.socket().c_str(), 0) !=
            nullptr);
  }
  ~MyClient() { mysql_close(m_); }
  MyClient(const MyClient&) = delete;
  MyClient& operator=(const MyClient&) = delete;

  std::string value(const std::string& sql) {
    const bool ok = mysql_query(m_, sql.c_str()) == 0;
    INFO(sql << ": " << mysql_error(m_));
    REQUIRE(ok);
    std::string v;
    if (MYSQL_RES* r = mysql_store_result(m_)) {
      if (MYSQL_ROW row = mysql_fetch_row(r)) v = row[0] ? row[0] : "";
      mysql_free_result(r);
    }
    return v;
  }
  double number(const std::string& sql) { return std::stod(value(sql)); }
  double status(const std::string& name) {
    return number("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE "
                  "VARIABLE_NAME = '" + name + "'");
  }
  void send(const std::string& sql) { REQUIRE(mysql_send_query(m_, sql.c_str(), sql.size()) == 0); }
  void finish() {
    REQUIRE(mysql_read_query_result(m_) == 0);
    if (MYSQL_RES* r = mysql_store_result(m_)) mysql_free_result(r);
  }
  unsigned long id() { return mysql_thread_id(m_); }

 private:
  MYSQL* m_;
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

std::string monitor_yaml(test::MariaServer& db, const std::string& extra = "") {
  MyClient root(db);
  root.value("CREATE USER IF NOT EXISTS 'xunjian'@'127.0.0.1' IDENTIFIED BY 'pw-Secret-2'");
  root.value("GRANT PROCESS, SHOW VIEW, REPLICA MONITOR ON *.* TO 'xunjian'@'127.0.0.1'");
  const std::string pw = db.dir() + "/monitor.pass";
  std::ofstream(pw) << "pw-Secret-2\n";
  return "kind: mysql\nid: my:main\nhost: 127.0.0.1\nport: " + std::to_string(db.port()) +
         "\nuser: xunjian\npassword_file: " + pw + "\n" + extra;
}

}  // namespace

TEST_CASE("mysql check measures connections, long and slow queries, aborted connects and schema "
          "growth as MariaDB reports them",
          "[mysql][server]") {
  test::MariaServer db;
  auto check = make_check(monitor_yaml(db, "long_query_warn: 1s\n"
                                           "queries: {jobs: 'SELECT COUNT(*) FROM app.jobs'}\n"
                                           "query_warn: {jobs: 2}\n"));
  MyClient root(db);
  root.value("CREATE DATABASE app");
  root.value("CREATE TABLE app.jobs (id INT PRIMARY KEY, pad VARCHAR(255)) ENGINE=InnoDB");
  root.value("INSERT INTO app.jobs VALUES (1, 'x')");
  root.value("GRANT SELECT ON app.jobs TO 'xunjian'@'127.0.0.1'");
  root.value("ANALYZE TABLE app.jobs");
  // No grant on this schema: only SHOW VIEW on *.* lets the monitoring user see its size.
  root.value("CREATE DATABASE hidden");
  root.value("CREATE TABLE hidden.t (id INT PRIMARY KEY) ENGINE=InnoDB");
  root.value("ANALYZE TABLE hidden.t");

  Result first = run(*check);
  INFO(first.summary);
  REQUIRE(first.status == Status::kOk);
  CHECK(first.summary.find("MariaDB 10.11.") == 0);
  CHECK(value(first, "up") == 1);
  CHECK(value(first, "max_connections") == 30);
  CHECK(value(first, "jobs") == 1);
  CHECK(metric(first, "slow_queries") == nullptr);  // nothing to compare with yet
  CHECK(first.details["role"] == "primary");
  CHECK(metric(first, "replica_io_running") == nullptr);
  const double slow_at_first = root.status("SLOW_QUERIES");
  const double aborted_at_first = root.status("ABORTED_CONNECTS");
  const double app_at_first = value(first, "schema_size_bytes", {{"schema", "app"}});
  CHECK(app_at_first == root.number("SELECT SUM(data_length + index_length) FROM "
                                    "information_schema.TABLES WHERE table_schema = 'app'"));
  CHECK(value(first, "schema_size_bytes", {{"schema", "hidden"}}) ==
        root.number("SELECT SUM(data_length + index_length) FROM information_schema.TABLES "
                    "WHERE table_schema = 'hidden'"));

  // Two slow statements (long_query_time is 0.5s in the test server), a failed login, growth.
  root.value("SELECT SLEEP(0.7)");
  root.value("SELECT SLEEP(0.7)");
  MYSQL* bad = mysql_init(nullptr);
  CHECK(mysql_real_connect(bad, "127.0.0.1", "xunjian", "wrong", nullptr,
                           static_cast<unsigned>(db.port()), nullptr, 0) == nullptr);
  mysql_close(bad);
  root.value("INSERT INTO app.jobs SELECT seq, REPEAT('y', 200) FROM app.seq_2_to_20000");
  root.value("ANALYZE TABLE app.jobs");
  MyClient sleeper(db);
  sleeper.send("SELECT SLEEP(20)");
  std::this_thread::sleep_for(2200ms);

  const double hit_before = root.number(
      "SELECT 100 * (1 - r.VARIABLE_VALUE / q.VARIABLE_VALUE) FROM information_schema.GLOBAL_STATUS r, "
      "information_schema.GLOBAL_STATUS q WHERE r.VARIABLE_NAME = 'INNODB_BUFFER_POOL_READS' AND "
      "q.VARIABLE_NAME = 'INNODB_BUFFER_POOL_READ_REQUESTS'");
  const double threads_before = root.status("THREADS_CONNECTED");
  Result busy = run(*check);
  INFO(busy.summary);
  CHECK(value(busy, "connections") == threads_before + 1);  // + the check's own session
  CHECK(value(busy, "slow_queries") == root.status("SLOW_QUERIES") - slow_at_first);
  CHECK(value(busy, "slow_queries") >= 2);  // the two sleeps; the bulk INSERT may be slow too
  CHECK(value(busy, "aborted_connects") == root.status("ABORTED_CONNECTS") - aborted_at_first);
  CHECK(value(busy, "aborted_connects") == 1);
  const double app_now = root.number("SELECT SUM(data_length + index_length) FROM "
                                     "information_schema.TABLES WHERE table_schema = 'app'");
  CHECK(value(busy, "schema_size_bytes", {{"schema", "app"}}) == app_now);
  CHECK(value(busy, "schema_growth_bytes", {{"schema", "app"}}) == app_now - app_at_first);
  CHECK(value(busy, "schema_growth_bytes", {{"schema", "app"}}) > 1'000'000);
  CHECK(value(busy, "long_queries") ==
        root.number("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND = "
                    "'Query' AND TIME > 1 AND ID <> CONNECTION_ID()"));
  CHECK(value(busy, "long_queries") == 1);
  CHECK(value(busy, "longest_query_s") >= 2);
  REQUIRE(busy.details["long_queries"].size() == 1);
  CHECK(busy.details["long_queries"][0]["query"] == "SELECT SLEEP(20)");
  CHECK(busy.details["long_queries"][0]["id"] == sleeper.id());
  CHECK(value(busy, "buffer_pool_hit_pct") == Approx(hit_before).margin(0.2));
  CHECK(value(busy, "jobs") == 20000);
  CHECK(busy.status == Status::kWarning);  // longest query over 1s, jobs over 2
  CHECK(busy.summary.find("warning: longest_query_s=") != std::string::npos);
  CHECK(busy.summary.find("warning: jobs=20000 (warn ~:2)") != std::string::npos);
  CHECK(busy.summary.find("pw-Secret-2") == std::string::npos);
  root.value("KILL QUERY " + std::to_string(sleeper.id()));
  sleeper.finish();
}

TEST_CASE("a stopped MariaDB is critical with the cause, and a restarted one ok again",
          "[mysql][server]") {
  test::MariaServer db;
  auto check = make_check(monitor_yaml(db));
  Result ok = run(*check);
  INFO(ok.summary);
  CHECK(ok.status == Status::kOk);
  db.stop();
  Result down = run(*check);
  CHECK(down.status == Status::kCritical);
  CHECK(down.summary ==
        "mysql check 'my:main': connection refused at 127.0.0.1:" + std::to_string(db.port()));
  CHECK(value(down, "up") == 0);
  db.start();
  Result up = run(*check);
  INFO(up.summary);
  CHECK(up.status == Status::kOk);

  std::ofstream(db.dir() + "/monitor.pass") << "wrong-pw\n";
  Result denied = run(*check);
  CHECK(denied.status == Status::kCritical);
  CHECK(denied.summary.find("Access denied for user 'xunjian'@'127.0.0.1'") != std::string::npos);
  CHECK(denied.summary.find("wrong-pw") == std::string::npos);
}

TEST_CASE("mysql status rows become metrics, and replica threads and lag come from either column "
          "naming",
          "[mysql]") {
  auto nv = [](std::vector<std::pair<std::string, std::string>> rows) {
    SqlTable t{{"Variable_name", "Value"}, {}};
    for (auto& [n, v] : rows) t.rows.push_back({n, v});
    return t;
  };
  MysqlThresholds t;
  t.connections_warn = Range::above(80);
  t.long_query_warn = Range::above(60);
  t.lag_warn = Range::above(30);
  t.lag_crit = Range::above(300);
  SqlSnapshot s = {
      {"status", nv({{"Threads_connected", "90"}, {"Threads_running", "3"}, {"Slow_queries", "10"},
                     {"Aborted_connects", "1"}, {"Innodb_buffer_pool_read_requests", "100000"},
                     {"Innodb_buffer_pool_reads", "5000"}})},
      {"variables", nv({{"max_connections", "100"}, {"version", "8.0.36"}})},
      {"schemas", SqlTable{{"schema_name", "size_bytes"}, {{"shop", "1000"}}}},
      {"processlist", SqlTable{{"id", "user", "db", "seconds", "query"},
                               {{"7", "app", "shop", "61", "SELECT 1"}, {"8", "app", "shop", "5", "SELECT 2"}}}},
      {"replica", SqlTable{{"Replica_IO_Running", "Replica_SQL_Running", "Seconds_Behind_Source"},
                           {{"Yes", "No", std::nullopt}}}},
  };
  CounterMemory h;
  Result r;
  r.status = Status::kOk;
  REQUIRE(evaluate_mysql(s, t, h, r).ok());
  CHECK(metric(r, "connections_pct")->value == 90);
  CHECK(metric(r, "buffer_pool_hit_pct")->value == 95);
  CHECK(metric(r, "long_queries")->value == 1);
  CHECK(metric(r, "replica_io_running")->value == 1);
  CHECK(metric(r, "replica_sql_running")->value == 0);
  CHECK(metric(r, "seconds_behind") == nullptr);  // NULL while the SQL thread is stopped
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.find("MySQL 8.0.36 replica: 90/100 connections, buffer pool hit 95.00%, 1 long "
                       "query; critical: replica_sql_running=0 (crit 1:)") == 0);

  s["status"] = nv({{"Threads_connected", "5"}, {"Slow_queries", "12"}, {"Aborted_connects", "1"}});
  s["schemas"] = SqlTable{{"schema_name", "size_bytes"}, {{"shop", "5000"}}};
  s["replica"] = SqlTable{{"Slave_IO_Running", "Slave_SQL_Running", "Seconds_Behind_Master"},
                          {{"Yes", "Yes", "45"}}};
  Result second;
  second.status = Status::kOk;
  REQUIRE(evaluate_mysql(s, t, h, second).ok());
  CHECK(metric(second, "slow_queries")->value == 2);
  CHECK(metric(second, "aborted_connects")->value == 0);
  CHECK(metric(second, "schema_growth_bytes", {{"schema", "shop"}})->value == 4000);
  CHECK(metric(second, "seconds_behind")->value == 45);
  CHECK(second.status == Status::kWarning);
}

TEST_CASE("client library connection errors read as one phrase naming the address", "[mysql]") {
  CHECK(condense_mysql_error(2003, "Can't connect to server on '127.0.0.1' (111)",
                             "127.0.0.1:3306") == "connection refused at 127.0.0.1:3306");
  CHECK(condense_mysql_error(2002, "Can't connect to local server through socket '/x.sock' (2)",
                             "/x.sock") == "no such file or directory at /x.sock");
  CHECK(condense_mysql_error(1045, "Access denied for user 'a'@'b' (using password: YES)",
                             "db:3306") ==
        "Access denied for user 'a'@'b' (using password: YES) (db:3306)");
}
