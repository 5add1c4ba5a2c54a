// `process`: processes matched by name, cmdline regex, user or pidfile — how many there are,
// their memory, CPU, uptime and open files, and whether they were restarted between runs.
// The parsers of /proc text are pure functions so tests run them on fixture text.
#pragma once

#include <algorithm>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xj/common/expected.hpp"

namespace xj {

// The fields of /proc/PID/stat the process check uses.
struct ProcStat {
  int pid = 0;
  std::string comm;  // at most 15 bytes; may itself contain spaces and ')'
  char state = '?';  // R, S, D, Z, ...
  int ppid = 0;
  std::uint64_t utime_ticks = 0;
  std::uint64_t stime_ticks = 0;
  std::uint64_t start_ticks = 0;  // clock ticks after boot
};

// Parses one /proc/PID/stat line. The comm field is read up to the LAST ')' because a
// process may name itself "a) b".
Expected<ProcStat> parse_proc_stat(std::string_view text);

// The fields of /proc/PID/status the process check uses.
struct ProcStatus {
  std::uint32_t real_uid = 0;
  std::uint32_t effective_uid = 0;
  std::optional<std::uint64_t> rss_bytes;  // VmRSS; absent for kernel threads and zombies
};

Expected<ProcStatus> parse_proc_status(std::string_view text);

// The "btime" line of /proc/stat: boot time in seconds since the epoch.
Expected<std::int64_t> parse_boot_time(std::string_view proc_stat_text);

// /proc/PID/cmdline (arguments separated and ended by NUL) as one line joined with spaces.
std::string join_cmdline(std::string_view raw);

// A pidfile's content: one positive pid, surrounding whitespace allowed, nothing else.
Expected<int> parse_pidfile(std::string_view text);

// The literal text every match of an ECMAScript regex anchored with '^' must start with
// ("^java -jar app" -> "java -jar app", "^/usr/bin/pg.*" -> "/usr/bin/pg", "^ab?c" -> "a"),
// or "" when there is none or the pattern has alternatives ('|'). A cheap pre-filter before
// std::regex_search on every process's command line; never rejects a real match.
std::string anchored_literal_prefix(std::string_view pattern);

// A process across runs: a pid alone is not enough because pids are reused.
struct ProcessIdentity {
  int pid = 0;
  std::uint64_t start_ticks = 0;
  auto operator<=>(const ProcessIdentity&) const = default;
};

// Processes of the previous set that are gone, and processes that were not in it.
struct RestartChange {
  std::vector<int> gone;
  std::vector<int> started;
  // How many processes were replaced: a pool that only grew or only shrank has none.
  std::size_t restarts() const { return std::min(gone.size(), started.size()); }
};

// A restart is a previously matching process gone and a new one present. nullopt when there
// was no previous set or nothing was replaced.
std::optional<RestartChange> detect_restart(const std::vector<ProcessIdentity>& previous,
                                            const std::vector<ProcessIdentity>& current);

}  // namespace xj
