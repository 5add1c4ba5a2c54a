#include "xj/agent/scheduler.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <mutex>
#include <thread>

#include "agent_test_util.hpp"
#include "xj/agent/check_runner.hpp"

using namespace xj;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Counts how many runs of it are inside run() at once, across all instances sharing `probe`.
struct Probe {
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  std::atomic<int> started{0};
  std::mutex mu;
  std::vector<Clock::time_point> starts;
};

// A check that sleeps a fixed time, ignoring its deadline like a stuck driver would.
class SleepCheck : public Check {
 public:
  SleepCheck(std::string id, std::chrono::milliseconds sleep, Probe& probe)
      : Check(std::move(id), "fake"), sleep_(sleep), probe_(probe) {}
  Result run(const RunContext&) override {
    int now = ++probe_.inside;
    int prev = probe_.max_inside.load();
    while (now > prev && !probe_.max_inside.compare_exchange_weak(prev, now)) {
    }
    ++probe_.started;
    {
      std::lock_guard lock(probe_.mu);
      probe_.starts.push_back(Clock::now());
    }
    std::this_thread::sleep_for(sleep_);
    --probe_.inside;
    Result r = make_result();
    r.summary = "slept " + std::to_string(sleep_.count()) + "ms";
    return r;
  }

 private:
  std::chrono::milliseconds sleep_;
  Probe& probe_;
};

ScheduledCheck scheduled(std::shared_ptr<Check> c, std::chrono::milliseconds interval,
                         std::chrono::milliseconds timeout, Labels labels = {}) {
  ScheduledCheck sc;
  sc.check = std::move(c);
  sc.interval = interval;
  sc.timeout = timeout;
  sc.labels = std::move(labels);
  sc.source = "test";
  return sc;
}

struct Delivered {
  std::vector<Result> results;
  std::vector<bool> timed_out;
  int skipped = 0;
};

// io_context + runner + scheduler, wired to record what is delivered.
struct Rig {
  explicit Rig(SchedulerOptions o = {}) : runner(io, 4), scheduler(io, runner, {}, hooks(), o) {}
  Scheduler::Hooks hooks() {
    return {[this](const ScheduledCheck&, Result r, bool t) {
              got.results.push_back(std::move(r));
              got.timed_out.push_back(t);
            },
            [this](const ScheduledCheck&, std::uint64_t) { ++got.skipped; }};
  }
  void run_for(std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
  }
  boost::asio::io_context io;
  CheckRunner runner;
  Delivered got;
  Scheduler scheduler;
};

// Fixed randomness and a short splay, so the first run comes at once.
SchedulerOptions seeded() {
  SchedulerOptions o;
  o.seed = 42;
  o.max_splay = 50ms;
  return o;
}

}  // namespace

TEST_CASE("a check runs every interval measured start to start", "[scheduler]") {
  Probe probe;
  Rig rig(seeded());
  // Runs take 400 ms; start to start must stay 1 s, not 1.4 s.
  rig.scheduler.start({scheduled(std::make_shared<SleepCheck>("slowish", 400ms, probe), 1s, 1s)},
                      {});
  rig.run_for(4200ms);
  std::lock_guard lock(probe.mu);
  REQUIRE(probe.starts.size() >= 4);
  for (std::size_t i = 1; i < probe.starts.size(); ++i) {
    auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(probe.starts[i] -
                                                                     probe.starts[i - 1]);
    CHECK(gap.count() > 800);
    CHECK(gap.count() < 1300);
  }
  CHECK(rig.got.skipped == 0);
}

TEST_CASE("a check slower than its interval never runs twice at once", "[scheduler]") {
  Probe probe;
  Rig rig(seeded());
  rig.scheduler.start({scheduled(std::make_shared<SleepCheck>("stuck", 2500ms, probe), 1s, 1s)},
                      {});
  rig.run_for(5500ms);
  CHECK(probe.max_inside == 1);
  CHECK(probe.started >= 2);  // it does run again once the overrun ends
  CHECK(rig.got.skipped >= 2);
  auto stats = rig.scheduler.stats();
  REQUIRE(stats.size() == 1);
  CHECK(stats[0].skipped == static_cast<std::uint64_t>(rig.got.skipped));
  rig.scheduler.stop([] {});
  rig.run_for(3s);  // let the last run return before the pool is joined
}

TEST_CASE("a check that sleeps past its timeout yields unknown 'timed out after 1s'",
          "[scheduler]") {
  Probe probe;
  Rig rig(seeded());
  rig.scheduler.start({scheduled(std::make_shared<SleepCheck>("sleepy", 1500ms, probe), 2s, 1s)},
                      {});
  rig.run_for(2300ms);
  REQUIRE(rig.got.results.size() >= 1);
  const Result& r = rig.got.results.front();
  CHECK(r.status == Status::kUnknown);
  CHECK(r.summary == "timed out after 1s");
  CHECK(r.check == "sleepy");
  CHECK(rig.got.timed_out.front());
  auto stats = rig.scheduler.stats();
  CHECK(stats[0].timeouts == 1);
  CHECK(stats[0].failures == 1);
  rig.run_for(1s);
}

TEST_CASE("the first run comes after a splay below min(interval, max_splay), fixed by the seed",
          "[scheduler]") {
  auto first_run_delay = [](std::uint64_t seed) {
    Probe probe;
    SchedulerOptions o;
    o.seed = seed;
    o.max_splay = 600ms;
    Rig rig(o);
    const auto t0 = Clock::now();
    rig.scheduler.start({scheduled(std::make_shared<SleepCheck>("c", 0ms, probe), 30s, 1s)}, {});
    rig.run_for(900ms);
    std::lock_guard lock(probe.mu);
    REQUIRE(probe.starts.size() == 1);  // 30 s interval: no second run
    return std::chrono::duration_cast<std::chrono::milliseconds>(probe.starts[0] - t0).count();
  };
  auto a = first_run_delay(7);
  auto b = first_run_delay(7);
  CHECK(a < 700);
  CHECK(std::abs(a - b) < 60);
}

TEST_CASE("stop waits for the run in progress to deliver, then no more runs start", "[scheduler]") {
  Probe probe;
  Rig rig(seeded());
  rig.scheduler.start({scheduled(std::make_shared<SleepCheck>("c", 500ms, probe), 1s, 1s)}, {});
  while (probe.started == 0) rig.run_for(10ms);
  bool stopped = false;
  std::size_t delivered_when_stopped = 0;
  rig.scheduler.stop([&] {
    stopped = true;
    delivered_when_stopped = rig.got.results.size();
  });
  CHECK(rig.scheduler.undelivered() == 1);
  rig.run_for(2500ms);
  CHECK(stopped);
  CHECK(delivered_when_stopped == 1);
  CHECK(rig.got.results.size() == 1);
  CHECK(probe.started == 1);
}

TEST_CASE("a new check set replaces the old one without overlapping a run still going",
          "[scheduler]") {
  Probe probe;
  Rig rig(seeded());
  rig.scheduler.start({scheduled(std::make_shared<SleepCheck>("same-id", 1800ms, probe), 1s, 1s)},
                      {});
  while (probe.started == 0) rig.run_for(10ms);
  // Reload: a new object with the same id, quick this time, on a fast schedule.
  rig.scheduler.start(
      {scheduled(std::make_shared<SleepCheck>("same-id", 0ms, probe), 200ms, 200ms)}, {});
  rig.run_for(3s);
  CHECK(probe.max_inside == 1);
  CHECK(rig.got.skipped >= 1);  // ticks of the new set while the old run held its thread
  CHECK(probe.started >= 4);    // and the new set runs once the old run returned
}

TEST_CASE("a check with labels of its own sends them in details.labels, and others add nothing",
          "[scheduler]") {
  Probe probe;
  Rig rig(seeded());
  Labels agent{{"system", "evidence"}};
  Labels own{{"system", "evidence"}, {"chain", "fisco"}};
  rig.scheduler.start({scheduled(std::make_shared<SleepCheck>("plain", 0ms, probe), 1s, 1s, agent),
                       scheduled(std::make_shared<SleepCheck>("chain", 0ms, probe), 1s, 1s, own)},
                      agent);
  rig.run_for(1100ms);
  REQUIRE(rig.got.results.size() >= 2);
  for (const auto& r : rig.got.results) {
    if (r.check == "plain") CHECK_FALSE(r.details.contains("labels"));
    if (r.check == "chain") CHECK(r.details["labels"] == nlohmann::json(own));
  }
}

TEST_CASE("a backoff factor stretches the check's interval", "[scheduler]") {
  Probe fast_probe, slowed_probe;
  SchedulerOptions o = seeded();
  o.max_splay = 1ms;
  Rig rig(o);
  rig.scheduler.start(
      {scheduled(std::make_shared<SleepCheck>("fast", 0ms, fast_probe), 200ms, 200ms),
       scheduled(std::make_shared<SleepCheck>("slowed", 0ms, slowed_probe), 200ms, 200ms)},
      {});
  REQUIRE(rig.scheduler.set_backoff("slowed", 4));
  CHECK_FALSE(rig.scheduler.set_backoff("no-such-check", 2));
  rig.run_for(2100ms);
  CHECK(fast_probe.started >= 9);
  CHECK(slowed_probe.started <= 4);  // every 800 ms
  for (const auto& s : rig.scheduler.stats()) {
    CHECK(s.backoff == (s.id == "slowed" ? 4 : 1));
  }
}

TEST_CASE("checks of one interval start together in one round after one splay", "[scheduler]") {
  Probe probe;
  SchedulerOptions o;
  o.seed = 7;
  o.max_splay = 600ms;
  Rig rig(o);
  std::vector<ScheduledCheck> checks;
  for (int i = 0; i < 6; ++i) {
    checks.push_back(
        scheduled(std::make_shared<SleepCheck>("c" + std::to_string(i), 0ms, probe), 30s, 1s));
  }
  rig.scheduler.start(std::move(checks), {});
  rig.run_for(900ms);
  std::lock_guard lock(probe.mu);
  REQUIRE(probe.starts.size() == 6);
  const auto [lo, hi] = std::minmax_element(probe.starts.begin(), probe.starts.end());
  CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(*hi - *lo).count() < 100);
  CHECK(rig.got.results.size() == 6);
}

// The runner directly: submit order is the order the pool hands out its threads.
struct RunnerRig {
  boost::asio::io_context io;
  CheckRunner runner{io, 4};
  Delivered got;
  void submit(std::shared_ptr<Check> c, std::chrono::milliseconds timeout) {
    runner.submit(std::move(c), timeout, {}, [this](Result r, bool t) {
      got.results.push_back(std::move(r));
      got.timed_out.push_back(t);
    });
  }
  void run_for(std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
  }
};

TEST_CASE("a run queued behind busy threads gets its whole timeout once it starts",
          "[scheduler]") {
  // Four threads held 700 ms by slow checks; the fifth check waits for one, then runs 500 ms
  // with a 1 s timeout. Counted from submit it would time out (1.2 s); from its start it does not.
  Probe slow, queued;
  RunnerRig rig;
  for (int i = 0; i < 4; ++i) {
    rig.submit(std::make_shared<SleepCheck>("slow" + std::to_string(i), 700ms, slow), 2s);
  }
  rig.submit(std::make_shared<SleepCheck>("queued", 500ms, queued), 1s);
  rig.run_for(2500ms);
  REQUIRE(rig.got.results.size() == 5);
  for (std::size_t i = 0; i < rig.got.results.size(); ++i) {
    INFO(rig.got.results[i].check << ": " << rig.got.results[i].summary);
    CHECK(rig.got.results[i].status == Status::kOk);
    CHECK_FALSE(rig.got.timed_out[i]);
  }
  CHECK(rig.got.results.back().check == "queued");
}

TEST_CASE("a run that gets no thread within its timeout is reported as not started",
          "[scheduler]") {
  Probe slow, starved;
  RunnerRig rig;
  for (int i = 0; i < 4; ++i) {
    rig.submit(std::make_shared<SleepCheck>("stuck" + std::to_string(i), 1500ms, slow), 3s);
  }
  rig.submit(std::make_shared<SleepCheck>("starved", 0ms, starved), 500ms);
  rig.run_for(1000ms);
  REQUIRE(rig.got.results.size() == 1);
  const Result& r = rig.got.results.front();
  CHECK(r.check == "starved");
  CHECK(r.status == Status::kUnknown);
  CHECK(r.summary == "not started within 500ms: all 4 check threads were busy");
  CHECK(rig.got.timed_out.front());
  rig.run_for(1500ms);  // the stuck ones return; the starved run is skipped, never started
  CHECK(starved.started == 0);
  CHECK(rig.got.results.size() == 5);
}
