// Self-limits: the agent must not hurt the server it watches. Every 10 s the SelfMonitor
// reads the agent's own RSS (/proc/self/status VmRSS) and CPU (/proc/self/stat utime+stime),
// publishes them as metrics, and hands them to the SelfLimiter, which decides:
//
// - over a limit (max_rss, or max_cpu = % of one core averaged over the last minute): warn
//   once per episode, count every sample over, and back off the most expensive check (the
//   highest average run duration) by doubling its interval, up to 8x. One more backoff at
//   most per minute, because the CPU figure is a one-minute average and needs that long to
//   show the effect of the last one.
// - back under every limit for restore_after (5 min): halve the interval factor of the most
//   backed-off check, one step per period, until all are back to their configured interval.
//
// The parsers and the SelfLimiter are pure (tested on fixtures and made-up readings); only
// SelfMonitor touches /proc and the io_context.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xj/agent/config.hpp"
#include "xj/agent/scheduler.hpp"
#include "xj/common/expected.hpp"

namespace xj {

class AgentMetrics;

// VmRSS of /proc/<pid>/status text, in bytes.
Expected<std::uint64_t> parse_vm_rss(std::string_view proc_status);

struct CpuTicks {
  std::uint64_t utime = 0;
  std::uint64_t stime = 0;
};
// utime and stime (clock ticks) of /proc/<pid>/stat text; the command name in parentheses
// may itself contain spaces and parentheses.
Expected<CpuTicks> parse_stat_cpu_ticks(std::string_view proc_stat);

// CPU seconds sampled over time -> average % of one core over the last `window`.
class CpuWindow {
 public:
  explicit CpuWindow(std::chrono::seconds window = std::chrono::seconds(60)) : window_(window) {}
  void add(std::chrono::steady_clock::time_point t, double cpu_seconds);
  // Over the samples within the window (from the oldest kept); 0 with fewer than two.
  double average_pct() const;

 private:
  std::chrono::seconds window_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, double>> samples_;
};

struct SelfUsage {
  std::uint64_t rss_bytes = 0;
  double cpu_pct = 0;  // of one core, one-minute average
};

struct LimitDecision {
  std::vector<std::string> exceeded;  // "rss", "cpu": over the limit in this sample
  bool episode_started = false;       // first sample over: warn
  bool episode_ended = false;         // first sample back under: say so
  std::optional<std::pair<std::string, int>> backoff;  // check id, new interval factor
  std::optional<std::pair<std::string, int>> restore;  // check id, new interval factor
};

struct SelfLimiterOptions {
  std::chrono::milliseconds backoff_every{60'000};
  std::chrono::milliseconds restore_after{300'000};
  int max_factor = 8;
};

// The check to back off: highest average duration among those below max_factor.
std::optional<std::string> pick_backoff(const std::vector<CheckRunStats>& checks, int max_factor);
// The check to restore one step: highest factor, the cheapest of those first.
std::optional<std::string> pick_restore(const std::vector<CheckRunStats>& checks);

class SelfLimiter {
 public:
  explicit SelfLimiter(AgentLimits limits, SelfLimiterOptions options = {})
      : limits_(limits), options_(options) {}
  void set_limits(AgentLimits limits) { limits_ = limits; }
  LimitDecision evaluate(std::chrono::steady_clock::time_point now, const SelfUsage& usage,
                         const std::vector<CheckRunStats>& checks);

 private:
  AgentLimits limits_;
  SelfLimiterOptions options_;
  bool over_ = false;
  std::optional<std::chrono::steady_clock::time_point> last_backoff_;
  std::optional<std::chrono::steady_clock::time_point> calm_since_;
};

// Samples /proc/self on a timer and applies the SelfLimiter's decisions to the Scheduler.
class SelfMonitor {
 public:
  struct Options {
    std::chrono::milliseconds period{10'000};
    std::filesystem::path proc_self = "/proc/self";
    SelfLimiterOptions limiter;
  };
  // metrics may be null.
  SelfMonitor(boost::asio::io_context& io, Scheduler& scheduler, AgentMetrics* metrics,
              AgentLimits limits, Options options);
  ~SelfMonitor();
  SelfMonitor(const SelfMonitor&) = delete;
  SelfMonitor& operator=(const SelfMonitor&) = delete;

  void start();  // samples at once, then every period
  void stop();
  void set_limits(AgentLimits limits);
  // Reads the process now; the error names the file.
  Expected<SelfUsage> sample();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace xj
