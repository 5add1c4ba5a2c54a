// `cpu`: CPU utilisation over the interval between two runs, per mode, from the counters
// of the aggregate "cpu " line of /proc/stat.
#pragma once

#include <cstdint>
#include <string_view>

#include "xj/common/expected.hpp"

namespace xj {

// Cumulative CPU time of all cores, in USER_HZ ticks, as /proc/stat counts it. Columns an
// older kernel does not write (steal before 2.6.11, guest before 2.6.24) stay 0.
struct CpuTimes {
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                steal = 0;
  // Time spent running guests; already counted in user and nice, so never added to a total.
  std::uint64_t guest = 0, guest_nice = 0;
};

// Parses the "cpu " line of /proc/stat text (needs at least user, nice, system, idle).
Expected<CpuTimes> parse_proc_stat_cpu(std::string_view text);

// Share of each mode in the CPU time that passed between two samples, in percent.
struct CpuUsage {
  std::uint64_t total_ticks = 0;  // 0: the counters did not advance, every share is 0
  double user_pct = 0, nice_pct = 0, system_pct = 0, idle_pct = 0, iowait_pct = 0, irq_pct = 0,
         softirq_pct = 0, steal_pct = 0;
  double usage_pct = 0;  // 100 - idle - iowait: time the CPUs were doing something
};

// A counter that went backwards (iowait does on some NO_HZ kernels; any counter after a
// wrap or a CPU going offline) contributes 0 rather than a huge unsigned difference.
CpuUsage compute_cpu_usage(const CpuTimes& before, const CpuTimes& after);

}  // namespace xj
