// What the benchmark reads about a process from /proc: CPU time and memory.
#pragma once

#include <optional>
#include <string>

namespace xj::bench {

struct ProcSample {
  double cpu_s = 0;      // utime + stime of all its threads
  double rss_mib = 0;    // VmRSS
  double hwm_mib = 0;    // VmHWM: peak resident set since it started
  int threads = 0;
  // From /proc/PID/task/*/schedstat, summed over threads: time running, and time runnable
  // but waiting for a CPU. On a shared machine the second says how much others held us back.
  double sched_run_s = 0, sched_wait_s = 0;
};

std::optional<ProcSample> sample_process(int pid);

}  // namespace xj::bench
