// Scheduler: runs every configured check on its interval, on Boost.Asio timers, through the
// CheckRunner (bounded thread pool + timeouts), and hands each result to a sink.
//
// - First run after a random splay in [0, min(interval, max_splay)), so checks of many agents
//   restarted together do not all run in the same second; then every interval, measured
//   start to start (a slow check does not shift its schedule). The splay is drawn once per
//   interval, not per check: one agent's checks of one interval run together, in one round
//   (as Telegraf collects its inputs), so the process checks share one reading of /proc, the
//   results go to the spool in one transaction and the agent wakes once per round instead of
//   once per check. The runner's bounded pool keeps a round from loading the host more than
//   `threads` checks at a time, and a check's timeout counts from when it gets a thread.
// - Never two runs of one check id at once: a tick that finds the previous run still holding
//   its thread (past its timeout, even) is skipped and counted. This holds across start()
//   calls too, so a reload cannot start a new log_scan over an old one still running.
// - The self-monitor may stretch a check's interval (backoff factor 1..8).
//
// Labels: the wire batch carries the agent's labels once; a check with labels of its own
// (`labels:` in its config block) sends its full effective label set — agent labels merged
// with its own, already done by config loading — in the result's details under "labels".
// The collector routes on labels (system, role, chain, ...), so it takes details.labels when
// present and the agent's labels otherwise. Result has no labels field of its own; details
// is the free part of the contract made for this kind of extra.
//
// All methods and hooks run on the io_context's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xj/agent/config.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace xj {

class CheckRunner;

// What the scheduler knows of one check's runs; the self-monitor picks its victim from this.
struct CheckRunStats {
  std::string id;
  std::string kind;
  std::chrono::milliseconds interval{0};  // as configured
  int backoff = 1;                        // current interval multiplier
  std::uint64_t runs = 0;                 // results delivered
  std::uint64_t failures = 0;             // unknown results, timeouts included
  std::uint64_t timeouts = 0;
  std::uint64_t skipped = 0;   // ticks skipped because the last run was still going
  double avg_duration_ms = 0;  // moving average (EWMA, alpha 0.3) of run durations
};

struct SchedulerOptions {
  std::optional<std::uint64_t> seed;  // splay randomness; unset = random
  std::chrono::milliseconds max_splay{10'000};
};

class Scheduler {
 public:
  struct Hooks {
    // Every result, exactly once per run (the daemon spools it).
    std::function<void(const ScheduledCheck&, Result, bool timed_out)> result;
    // A tick skipped because the previous run has not finished; consecutive counts the streak.
    std::function<void(const ScheduledCheck&, std::uint64_t consecutive)> skipped;
  };

  Scheduler(boost::asio::io_context& io, CheckRunner& runner, std::filesystem::path state_dir,
            Hooks hooks, SchedulerOptions options = {});
  // Cancels the timers; results of runs still in progress are then dropped, not delivered.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Schedules this set of checks, replacing any previous set (whose runs in progress still
  // deliver their results).
  void start(std::vector<ScheduledCheck> checks, const Labels& agent_labels);
  // Cancels every timer; on_stopped is posted once every run in progress has delivered its
  // result (bounded by the timeouts). Runs that overran may still hold a thread then.
  void stop(std::function<void()> on_stopped);

  // Stretches a check's interval to interval * factor (1..8); false if no such check.
  bool set_backoff(const std::string& id, int factor);
  std::vector<CheckRunStats> stats() const;
  std::size_t undelivered() const;  // runs whose result has not come yet
  std::size_t unreleased() const;   // runs whose thread has not returned yet

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace xj
