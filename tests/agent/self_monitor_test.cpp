#include "xj/agent/self_monitor.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "agent_test_util.hpp"
#include "xj/agent/agent_metrics.hpp"
#include "xj/agent/check_runner.hpp"
#include "xj/checks/io_util.hpp"

using namespace xj;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::string fixture(const std::string& name) {
  auto text = read_text_file(std::string(XJ_SOURCE_DIR) + "/tests/fixtures/agent/" + name);
  REQUIRE(text.ok());
  return *text;
}

CheckRunStats cost(std::string id, double avg_ms, int backoff = 1) {
  CheckRunStats s;
  s.id = std::move(id);
  s.kind = "fake";
  s.interval = 10s;
  s.avg_duration_ms = avg_ms;
  s.backoff = backoff;
  s.runs = 5;
  return s;
}

AgentLimits limits(std::uint64_t rss, double cpu) {
  AgentLimits l;
  l.max_rss_bytes = rss;
  l.max_cpu_pct = cpu;
  return l;
}

}  // namespace

TEST_CASE("VmRSS is read from /proc/self/status text in bytes", "[self_monitor]") {
  auto rss = parse_vm_rss(fixture("proc_self_status.txt"));
  REQUIRE(rss.ok());
  CHECK(*rss == 7436ull * 1024);
}

TEST_CASE("status text without a sane VmRSS line is an error saying so", "[self_monitor]") {
  CHECK_THAT(parse_vm_rss("Name:\tkthreadd\nState:\tS\n").error(), Catch::Contains("no VmRSS"));
  CHECK_THAT(parse_vm_rss("VmRSS:\t 12 MB\n").error(), Catch::Contains("VmRSS"));
  CHECK_FALSE(parse_vm_rss("").ok());
}

TEST_CASE("utime and stime are read after a command name holding spaces and parentheses",
          "[self_monitor]") {
  auto t = parse_stat_cpu_ticks(fixture("proc_self_stat.txt"));
  REQUIRE(t.ok());
  CHECK(t->utime == 1234);
  CHECK(t->stime == 567);
}

TEST_CASE("truncated or garbled stat text is an error", "[self_monitor]") {
  CHECK_FALSE(parse_stat_cpu_ticks("123 (agent S 1 2").ok());
  CHECK_THAT(parse_stat_cpu_ticks("123 (agent) S 1 2 3").error(), Catch::Contains("too few"));
  CHECK_FALSE(parse_stat_cpu_ticks("1 (a) S 1 1 1 0 -1 4 2 0 0 0 x1 567 0 0 20 0 7 0 1 2 3").ok());
}

TEST_CASE("the real /proc/self of this test reads as a plausible footprint", "[self_monitor]") {
  auto status = read_text_file("/proc/self/status");
  auto stat = read_text_file("/proc/self/stat");
  REQUIRE(status.ok());
  REQUIRE(stat.ok());
  auto rss = parse_vm_rss(*status);
  REQUIRE(rss.ok());
  CHECK(*rss > 512 * 1024);
  CHECK(*rss < 4ull * 1024 * 1024 * 1024);
  CHECK(parse_stat_cpu_ticks(*stat).ok());
}

TEST_CASE("CPU percent is averaged over the last minute only", "[self_monitor]") {
  CpuWindow w(60s);
  const auto t0 = Clock::time_point{} + 1000s;
  CHECK(w.average_pct() == 0);
  w.add(t0, 10.0);
  CHECK(w.average_pct() == 0);  // one sample: no rate yet
  w.add(t0 + 30s, 13.0);        // 3 s of CPU in 30 s
  CHECK(w.average_pct() == Approx(10.0));
  w.add(t0 + 60s, 13.0);
  CHECK(w.average_pct() == Approx(5.0));
  // An idle minute later, the busy first half-minute has left the window.
  w.add(t0 + 90s, 13.0);
  w.add(t0 + 120s, 13.0);
  CHECK(w.average_pct() == Approx(0.0));
}

TEST_CASE("the most expensive check that is not yet at 8x is the one backed off",
          "[self_monitor]") {
  std::vector<CheckRunStats> checks{cost("disk", 20), cost("http", 900), cost("exec", 400)};
  CHECK(pick_backoff(checks, 8) == "http");
  checks[1].backoff = 8;
  CHECK(pick_backoff(checks, 8) == "exec");
  for (auto& c : checks) c.backoff = 8;
  CHECK_FALSE(pick_backoff(checks, 8));
}

TEST_CASE("restoring starts with the most backed-off check, the cheapest of those first",
          "[self_monitor]") {
  std::vector<CheckRunStats> checks{cost("a", 900, 4), cost("b", 100, 4), cost("c", 50, 2)};
  CHECK(pick_restore(checks) == "b");
  CHECK_FALSE(pick_restore({cost("x", 1), cost("y", 2)}));
}

TEST_CASE("over a limit: warn once per episode, back off at most once per period, up to 8x",
          "[self_monitor]") {
  SelfLimiter limiter(limits(10 << 20, 1.0), {60s, 300s, 8});
  std::vector<CheckRunStats> checks{cost("cheap", 5), cost("costly", 800)};
  const auto t0 = Clock::time_point{} + 1000s;
  const SelfUsage over{20 << 20, 0.2};

  auto d = limiter.evaluate(t0, over, checks);
  CHECK(d.exceeded == std::vector<std::string>{"rss"});
  CHECK(d.episode_started);
  REQUIRE(d.backoff);
  CHECK(*d.backoff == std::pair<std::string, int>{"costly", 2});
  checks[1].backoff = 2;

  d = limiter.evaluate(t0 + 10s, over, checks);  // still over, too soon for another step
  CHECK_FALSE(d.episode_started);
  CHECK(d.exceeded.size() == 1);
  CHECK_FALSE(d.backoff);

  d = limiter.evaluate(t0 + 60s, over, checks);
  CHECK(*d.backoff == std::pair<std::string, int>{"costly", 4});
  checks[1].backoff = 8;
  d = limiter.evaluate(t0 + 120s, SelfUsage{1 << 20, 3.0}, checks);  // now CPU is the problem
  CHECK(d.exceeded == std::vector<std::string>{"cpu"});
  CHECK(*d.backoff == std::pair<std::string, int>{"cheap", 2});
}

TEST_CASE("back under the limits, intervals are restored one step per calm period",
          "[self_monitor]") {
  SelfLimiter limiter(limits(10 << 20, 1.0), {60s, 300s, 8});
  std::vector<CheckRunStats> checks{cost("costly", 800, 4)};
  const auto t0 = Clock::time_point{} + 1000s;
  limiter.evaluate(t0, {20 << 20, 0}, checks);  // an episode
  const SelfUsage calm{1 << 20, 0.1};
  auto d = limiter.evaluate(t0 + 10s, calm, checks);
  CHECK(d.episode_ended);
  CHECK_FALSE(d.restore);
  d = limiter.evaluate(t0 + 200s, calm, checks);
  CHECK_FALSE(d.episode_ended);
  CHECK_FALSE(d.restore);  // not calm for long enough yet
  d = limiter.evaluate(t0 + 310s, calm, checks);
  REQUIRE(d.restore);
  CHECK(*d.restore == std::pair<std::string, int>{"costly", 2});
  checks[0].backoff = 2;
  d = limiter.evaluate(t0 + 400s, calm, checks);
  CHECK_FALSE(d.restore);  // the next step waits another full period
  d = limiter.evaluate(t0 + 611s, calm, checks);
  CHECK(*d.restore == std::pair<std::string, int>{"costly", 1});
}

namespace {
class NapCheck : public Check {
 public:
  NapCheck(std::string id, std::chrono::milliseconds nap)
      : Check(std::move(id), "fake"), nap_(nap) {}
  Result run(const RunContext&) override {
    std::this_thread::sleep_for(nap_);
    return make_result();
  }

 private:
  std::chrono::milliseconds nap_;
};
}  // namespace

TEST_CASE("over a tiny RSS limit the agent backs off its most expensive check and counts it",
          "[self_monitor]") {
  boost::asio::io_context io;
  CheckRunner runner(io, 2);
  SchedulerOptions so;
  so.seed = 1;
  so.max_splay = 1ms;
  Scheduler scheduler(io, runner, {}, {[](const ScheduledCheck&, Result, bool) {}, {}}, so);
  auto sc = [](std::string id, std::chrono::milliseconds nap) {
    ScheduledCheck c;
    c.check = std::make_shared<NapCheck>(std::move(id), nap);
    c.interval = 1s;
    c.timeout = 1s;
    return c;
  };
  scheduler.start({sc("cheap", 0ms), sc("costly", 300ms)}, {});
  io.run_for(500ms);  // both have run once: their costs are known
  auto metrics = AgentMetrics::start("127.0.0.1:0");
  REQUIRE(metrics.ok());
  SelfMonitor::Options mo;
  mo.period = 100ms;
  mo.limiter.backoff_every = 10s;
  SelfMonitor monitor(io, scheduler, metrics->get(), limits(1 << 20, 100), mo);
  monitor.start();
  io.restart();
  io.run_for(350ms);
  monitor.stop();
  for (const auto& s : scheduler.stats()) {
    CHECK(s.backoff == (s.id == "costly" ? 2 : 1));
  }
  auto body = test::http_get("http://127.0.0.1:" + std::to_string((*metrics)->port()) + "/metrics");
  REQUIRE(body.code == 200);
  auto hits =
      test::metric_value(body.body, R"(xunjian_agent_limit_exceeded_total{resource="rss"})");
  REQUIRE(hits);
  CHECK(*hits >= 3);  // one per sample over the limit, not one per episode
  CHECK(test::metric_value(body.body, "xunjian_agent_rss_bytes") > 1 << 20);
  CHECK(test::metric_value(body.body,
                           R"(xunjian_check_interval_seconds{check="costly",kind="fake"})") == 2.0);
  scheduler.stop([] {});
  io.restart();
  io.run_for(500ms);
}
