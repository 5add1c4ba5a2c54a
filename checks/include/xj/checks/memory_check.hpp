// `memory`: available memory and swap use from /proc/meminfo.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "xj/common/expected.hpp"

namespace xj {

// /proc/meminfo as name -> value; "kB" values converted to bytes, unit-less counts
// (HugePages_Total) kept as written.
using MemInfo = std::map<std::string, std::uint64_t>;

// Lines that do not read "Name: number [kB]" are skipped; an input without a single such
// line is an error.
Expected<MemInfo> parse_meminfo(std::string_view text);

struct MemoryUsage {
  std::uint64_t total_bytes = 0;
  std::uint64_t available_bytes = 0;
  double available_pct = 0;  // MemAvailable / MemTotal
  std::uint64_t swap_total_bytes = 0;
  std::uint64_t swap_used_bytes = 0;
  double swap_used_pct = 0;  // 0 when there is no swap
};

// Needs MemTotal and MemAvailable. MemAvailable is the kernel's own estimate of what can be
// allocated without swapping (since Linux 3.14); without it there is no honest number, so
// this is an error rather than a guess from MemFree.
Expected<MemoryUsage> compute_memory_usage(const MemInfo& info);

}  // namespace xj
