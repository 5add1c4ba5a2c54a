// `log_file:` in agent.yaml and collector.yaml, with the real daemons as processes: the start
// line lands in the file (not on stderr), the file rotates at its size with `keep` old files,
// SIGHUP after the file was moved away makes a new one that gets the next lines, and a bad
// path is refused naming file, line and key (or, at start, the path and the cause).
#include <signal.h>

#include <catch2/catch.hpp>

#include "fleet.hpp"

using namespace xj::itest;

namespace {

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string agent_config(const fs::path& dir, const std::string& log_file) {
  return "agent:\n"
         "  id: log-file-test\n"
         "  state_dir: " + (dir / "state").string() + "\n"
         "  metrics_listen: off\n"
         "  log_level: debug\n"
         "  log_file: " + log_file + "\n"
         "  limits: {max_rss: 4GB, max_cpu: 100%}\n"
         "defaults: {interval: 1h, timeout: 1s}\n"
         "checks:\n"
         "  - kind: load\n";
}

// The agent with its stdout/stderr in `dir`/stderr.log; waits for the start line in `log`.
std::unique_ptr<Child> start_agent(const fs::path& dir, const fs::path& log) {
  auto child = std::make_unique<Child>(
      kAgent, std::vector<std::string>{"run", "-c", (dir / "agent.yaml").string()}, dir / "stderr.log");
  REQUIRE(child->pid() > 0);
  const bool up = wait_until(15s, [&] { return count_of(slurp(log), "event=agent_started") == 1; });
  INFO("stderr:\n" << slurp(dir / "stderr.log") << "\nlog:\n" << slurp(log));
  REQUIRE(up);
  REQUIRE(child->running());
  return child;
}

// Sends SIGHUP and waits until `file` holds one more "event=config_reloaded" line than before.
bool reload_into(Child& agent, const fs::path& file) {
  const std::size_t before = count_of(slurp(file), "event=config_reloaded");
  agent.signal(SIGHUP);
  return wait_until(10s, [&] { return count_of(slurp(file), "event=config_reloaded") > before; });
}

}  // namespace

TEST_CASE("the agent logs to its log_file and rotates it at max_size keeping keep old files",
          "[integration][log_file]") {
  auto dir = scratch_dir("log-file-rotate");
  fs::create_directories(dir / "logs");
  const fs::path log = dir / "logs" / "agent.log";
  write_file(dir / "agent.yaml",
             agent_config(dir, "{path: " + log.string() + ", max_size: 1KB, keep: 2}"));
  auto agent = start_agent(dir, log);
  // The file replaces stderr: the start line is not on stderr.
  CHECK(slurp(dir / "stderr.log").find("event=agent_started") == std::string::npos);

  // Each reload writes a few lines; go on until two rotations happened and then some more.
  const bool rotated_twice = wait_until(60s, [&] {
    agent->signal(SIGHUP);
    std::this_thread::sleep_for(100ms);
    return fs::exists(fs::path(log.string() + ".2"));
  });
  REQUIRE(rotated_twice);
  // The count of reloads is not comparable across a rotation: just go on a while.
  for (int i = 0; i < 20; ++i) {
    agent->signal(SIGHUP);
    std::this_thread::sleep_for(100ms);
  }
  REQUIRE(agent->running());
  CHECK_FALSE(fs::exists(fs::path(log.string() + ".3")));  // keep: 2
  for (const auto& p : {log, fs::path(log.string() + ".1"), fs::path(log.string() + ".2")}) {
    INFO(p);
    CHECK(fs::file_size(p) <= 1024);
    CHECK(fs::file_size(p) > 0);
  }
  // Nothing lost at the seams: every file ends with a whole line.
  for (const auto& p : {fs::path(log.string() + ".1"), fs::path(log.string() + ".2")}) {
    const std::string text = slurp(p);
    CHECK(text.back() == '\n');
    CHECK(text.find("event=") != std::string::npos);
  }
  CHECK(agent->kill(SIGTERM));
}

TEST_CASE("after its log_file is moved away SIGHUP makes the agent write a new one",
          "[integration][log_file]") {
  auto dir = scratch_dir("log-file-reopen");
  const fs::path log = dir / "agent.log";
  write_file(dir / "agent.yaml", agent_config(dir, log.string()));
  auto agent = start_agent(dir, log);

  const fs::path moved = dir / "agent.log.moved";
  fs::rename(log, moved);  // what logrotate does without copytruncate
  REQUIRE(reload_into(*agent, log));
  CHECK(count_of(slurp(moved), "event=agent_started") == 1);
  // From now on the moved file stays as it is; the new one gets every line.
  const auto moved_size = fs::file_size(moved);
  REQUIRE(reload_into(*agent, log));
  CHECK(fs::file_size(moved) == moved_size);
  agent->signal(SIGTERM);
  CHECK(agent->wait_exit(15s) == 0);
  CHECK(count_of(slurp(log), "event=agent_stopped") == 1);
}

TEST_CASE("a log_file the agent cannot use is refused with file, line and key or path and cause",
          "[integration][log_file]") {
  auto dir = scratch_dir("log-file-bad");
  // Load time: the directory does not exist (what validate and ExecStartPre catch).
  write_file(dir / "agent.yaml", agent_config(dir, (dir / "no-such-dir" / "agent.log").string()));
  auto v = run(kAgent, {"validate", "-c", (dir / "agent.yaml").string()}, dir);
  CHECK(v.exit_code == 1);  // the agent's validate: 1 on a bad config
  CHECK_THAT(v.out, Catch::Contains((dir / "agent.yaml").string() + ":6: agent: key 'log_file': directory " +
                                    (dir / "no-such-dir").string() + " of '"));
  CHECK_THAT(v.out, Catch::Contains("does not exist"));

  write_file(dir / "agent.yaml", agent_config(dir, "logs/agent.log"));
  v = run(kAgent, {"validate", "-c", (dir / "agent.yaml").string()}, dir);
  CHECK(v.exit_code == 1);  // the agent's validate: 1 on a bad config
  CHECK_THAT(v.out, Catch::Contains("agent.yaml:6: agent: key 'log_file': 'logs/agent.log' must be an absolute path"));

  write_file(dir / "agent.yaml", agent_config(dir, "{path: " + (dir / "a.log").string() + ", max_size: lots}"));
  v = run(kAgent, {"validate", "-c", (dir / "agent.yaml").string()}, dir);
  CHECK(v.exit_code == 1);  // the agent's validate: 1 on a bad config
  CHECK_THAT(v.out, Catch::Contains("agent.yaml:6: agent.log_file: key 'max_size': 'lots' is not a size"));

  // Start time: the path is a dangling symlink, so opening it fails; the daemon says which
  // file and why, and does not start.
  fs::create_symlink(dir / "gone" / "agent.log", dir / "agent.log");
  write_file(dir / "agent.yaml", agent_config(dir, (dir / "agent.log").string()));
  auto r = run(kAgent, {"run", "-c", (dir / "agent.yaml").string()}, dir);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("agent.log_file: cannot open log file " + (dir / "agent.log").string() +
                                    ": No such file or directory"));
}

TEST_CASE("the collector logs to its log_file and reopens it on SIGHUP",
          "[integration][log_file]") {
  auto dir = scratch_dir("log-file-collector");
  CollectorProc collector(dir / "collector");
  const fs::path log = dir / "collector" / "xunjian.log";
  {
    std::string cfg = slurp(collector.config());
    const std::string at = "  log_level: debug\n";
    REQUIRE(cfg.find(at) != std::string::npos);
    cfg.replace(cfg.find(at), at.size(), at + "  log_file: {path: " + log.string() + ", keep: 3}\n");
    write_file(collector.config(), cfg);
  }
  // A bad one first: the line of log_file under collector: is 7.
  {
    std::string bad = slurp(collector.config());
    const std::string good = "  log_file: {path: " + log.string();
    bad.replace(bad.find(good), good.size(), "  log_file: {path: " + (dir / "nowhere" / "c.log").string());
    write_file(dir / "bad.yaml", bad);
    auto v = run(kCollector, {"validate", "-c", (dir / "bad.yaml").string()}, dir);
    CHECK(v.exit_code == 2);
    CHECK_THAT(v.out, Catch::Contains("bad.yaml:7: collector: key 'log_file': directory " +
                                      (dir / "nowhere").string()));
  }
  collector.start();
  CHECK(wait_until(10s, [&] { return count_of(slurp(log), "event=collector_started") == 1; }));
  CHECK(slurp(collector.log()).find("event=collector_started") == std::string::npos);

  const fs::path moved = dir / "moved.log";
  fs::rename(log, moved);
  collector.signal(SIGHUP);
  CHECK(wait_until(10s, [&] { return count_of(slurp(log), "event=log_reopened") == 1; }));
  CHECK(count_of(slurp(moved), "event=log_reopened") == 0);
  // SIGHUP no longer ends the collector: it still answers, and SIGTERM stops it cleanly.
  CHECK(collector.get("/healthz").status == 200);
  collector.signal(SIGTERM);
  CHECK(wait_until(15s, [&] { return !collector.running(); }));
  CHECK(count_of(slurp(log), "event=collector_stopped") == 1);
}
