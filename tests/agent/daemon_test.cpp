// The real xunjian-agent binary as a child process: spool filling, /metrics, SIGHUP reloads
// (bad and good), SIGTERM. Every wait is bounded; the child is killed if a check fails.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <regex>
#include <thread>

#include "../support/processes.hpp"
#include "agent_test_util.hpp"

using namespace std::chrono_literals;
using xj::test::http_get;
using xj::test::metric_value;

namespace {

// The agent as a child process (tests/support/processes.hpp), killed on scope exit.
class Child : public xj::itest::Child {
 public:
  Child(const std::vector<std::string>& args, const std::filesystem::path& log)
      : xj::itest::Child(xj::itest::kAgent, args, log) {}
};

using xj::itest::slurp;
using xj::itest::wait_until;

// Rows of one check in the spool, read the way any other process would: read-only SQLite.
long spooled(const std::filesystem::path& db_path, const std::string& check) {
  if (!std::filesystem::exists(db_path)) return 0;
  sqlite3* db = nullptr;
  long n = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 1000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM results WHERE check_id = ?", -1, &st,
                           nullptr) == SQLITE_OK) {
      sqlite3_bind_text(st, 1, check.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

std::string config(const std::filesystem::path& state, const std::string& checks) {
  return "agent:\n"
         "  id: daemon-test\n"
         "  state_dir: " +
         state.string() +
         "\n"
         "  metrics_listen: 127.0.0.1:0\n"
         "  log_level: debug\n"
         "defaults:\n"
         "  interval: 1s\n"
         "  timeout: 1s\n"
         "checks:\n" +
         checks;
}

// The metrics port is picked at run time (127.0.0.1:0); the agent's start line tells which.
int metrics_port(const std::filesystem::path& log) {
  int port = 0;
  const std::regex started(R"(event=agent_started .*metrics=127\.0\.0\.1:(\d+))");
  REQUIRE(wait_until(10s, [&] {
    std::smatch m;
    std::string text = slurp(log);
    if (!std::regex_search(text, m, started)) return false;
    port = std::stoi(m[1]);
    return true;
  }));
  return port;
}

std::optional<double> runs_total(int port, const std::string& check) {
  auto reply = http_get("http://127.0.0.1:" + std::to_string(port) + "/metrics");
  if (reply.code != 200) return std::nullopt;
  return metric_value(reply.body,
                      "xunjian_check_runs_total{check=\"" + check + "\",kind=\"load\"}");
}

}  // namespace

TEST_CASE(
    "the agent spools results, serves metrics, survives a bad reload, applies a good "
    "one and stops on SIGTERM",
    "[daemon]") {
  auto dir = xj::test::scratch_dir("daemon");
  auto cfg_path = dir / "agent.yaml";
  auto log = dir / "agent.log";
  auto db = dir / "state" / "spool.db";
  std::ofstream(cfg_path) << config(dir / "state", "  - kind: load\n");

  Child agent({"run", "-c", cfg_path.string()}, log);
  REQUIRE(agent.pid() > 0);

  const int port = metrics_port(log);
  INFO(slurp(log));
  REQUIRE(wait_until(5s, [&] { return spooled(db, "load") >= 1; }));

  auto first = runs_total(port, "load");
  REQUIRE(first);
  CHECK(wait_until(5s, [&] { return runs_total(port, "load").value_or(0) > *first; }));

  {
    // A bad config on SIGHUP is logged with file:line and the old checks keep running.
    // Line 11: an unknown key in the check block.
    std::ofstream(cfg_path) << config(dir / "state", "  - kind: load\n    treshold: 3\n");
    agent.signal(SIGHUP);
    REQUIRE(wait_until(
        5s, [&] { return slurp(log).find("event=reload_failed") != std::string::npos; }));
    std::string text = slurp(log);
    CHECK(text.find(cfg_path.string() + ":11") != std::string::npos);
    CHECK(text.find("treshold") != std::string::npos);
    CHECK(agent.running());
    const long before = spooled(db, "load");
    CHECK(wait_until(5s, [&] { return spooled(db, "load") >= before + 2; }));

    // Then a valid config with a new check id: its results appear.
    std::ofstream(cfg_path) << config(dir / "state",
                                      "  - kind: load\n  - kind: load\n    id: load-two\n");
    agent.signal(SIGHUP);
    CHECK(wait_until(5s, [&] { return spooled(db, "load-two") >= 1; }));
    CHECK(wait_until(5s, [&] { return runs_total(port, "load-two").value_or(0) >= 1; }));
    CHECK(slurp(log).find("event=config_reloaded") != std::string::npos);
  }

  agent.signal(SIGTERM);
  auto status = agent.wait_status(5s);
  REQUIRE(status);
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
  CHECK(slurp(log).find("event=agent_stopped") != std::string::npos);
  // The spool is whole after the stop: a reader sees every result and the seq is intact.
  CHECK(spooled(db, "load") >= 2);
}

TEST_CASE("the results of a round of checks go to the spool together, not a transaction each",
          "[daemon]") {
  // Eight checks of one interval run as one round (scheduler.hpp) and the daemon commits the
  // round's results together: the commits counted on /metrics follow the rounds, not the
  // results. With a commit per result they would be eight times as many.
  auto dir = xj::test::scratch_dir("daemon-group-commit");
  auto cfg_path = dir / "agent.yaml";
  auto log = dir / "agent.log";
  constexpr int kChecks = 8;
  std::string checks;
  for (int i = 1; i <= kChecks; ++i) checks += "  - kind: load\n    id: load-" + std::to_string(i) + "\n";
  std::ofstream(cfg_path) << config(dir / "state", checks);
  Child agent({"run", "-c", cfg_path.string()}, log);
  REQUIRE(agent.pid() > 0);
  const int port = metrics_port(log);
  INFO(slurp(log));

  // One scrape: the runs of every check and the commits, read together.
  double runs = 0, most = 0, commits = 0;
  REQUIRE(wait_until(15s, [&] {
    auto reply = http_get("http://127.0.0.1:" + std::to_string(port) + "/metrics");
    if (reply.code != 200) return false;
    runs = most = 0;
    for (int i = 1; i <= kChecks; ++i) {
      const double n = metric_value(reply.body, "xunjian_check_runs_total{check=\"load-" +
                                                    std::to_string(i) + "\",kind=\"load\"}")
                           .value_or(0);
      runs += n;
      most = std::max(most, n);
    }
    commits = metric_value(reply.body, "xunjian_spool_commits_total").value_or(0);
    return most >= 4 && commits >= 3;
  }));
  INFO("runs " << runs << ", most of one check " << most << ", commits " << commits);
  CHECK(runs >= kChecks * (most - 1));  // every check ran in (nearly) every round
  // Usually one commit per round. A round whose runs end more than 100 ms apart (a loaded
  // machine) is committed in two, so the bound is two per round: a commit per result would be
  // eight.
  CHECK(commits <= 2 * most);
  agent.signal(SIGTERM);
  auto status = agent.wait_status(5s);
  REQUIRE(status);
  CHECK(WEXITSTATUS(*status) == 0);
}

TEST_CASE("a bad config at start exits 2 naming file, line and key", "[daemon]") {
  auto dir = xj::test::scratch_dir("daemon-bad-config");
  auto cfg_path = dir / "agent.yaml";
  std::ofstream(cfg_path) << "agent:\n  id: x\ndefaults:\n  intervall: 1s\n";
  Child agent({"run", "-c", cfg_path.string()}, dir / "agent.log");
  auto status = agent.wait_status(10s);
  REQUIRE(status);
  CHECK(WEXITSTATUS(*status) == 2);
  std::string text = slurp(dir / "agent.log");
  CHECK(text.find(cfg_path.string() + ":4") != std::string::npos);
  CHECK(text.find("intervall") != std::string::npos);
}

TEST_CASE("a state dir that cannot be created stops the start with exit 1 naming it", "[daemon]") {
  auto dir = xj::test::scratch_dir("daemon-bad-state");
  std::ofstream(dir / "a-file") << "x";
  auto cfg_path = dir / "agent.yaml";
  std::ofstream(cfg_path) << "agent:\n  state_dir: " << (dir / "a-file" / "state").string()
                          << "\n  metrics_listen: off\nchecks:\n  - kind: load\n";
  Child agent({"run", "-c", cfg_path.string()}, dir / "agent.log");
  auto status = agent.wait_status(10s);
  REQUIRE(status);
  CHECK(WEXITSTATUS(*status) == 1);
  CHECK(slurp(dir / "agent.log").find((dir / "a-file" / "state").string()) != std::string::npos);
}
