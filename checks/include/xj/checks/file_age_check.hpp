// `file_age`: backup freshness. The newest regular file matching a glob must be younger than
// `max_age` and at least `min_size`; no match at all is critical (the backup is missing).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "xj/checks/result.hpp"

namespace xj {

// One regular file that matched the pattern.
struct FileInfo {
  std::string path;
  std::chrono::system_clock::time_point mtime;
  std::uint64_t size = 0;
};

// The thresholds of a file_age check, already parsed from its keys.
struct FileAgeRules {
  std::optional<Range> warn_age;   // seconds, on age_s
  std::optional<Range> crit_age;   // seconds, on age_s (`max_age`)
  std::optional<Range> min_size;   // bytes, on size_bytes of the newest file; critical
  std::optional<Range> min_count;  // on count; critical
};

// What glob(3) found: the regular files, and the directories it could not read.
struct GlobScan {
  std::vector<FileInfo> files;
  std::vector<std::string> errors;  // "/backup: Permission denied"
  bool unreadable = false;  // a directory could not be read for a reason other than not existing
};

// Expands the pattern with glob(3) (`*`, `?`, `[...]`, `{a,b}`; `**` is not recursive) and
// stats each match, keeping regular files (symlinks are followed).
GlobScan scan_glob(const std::string& pattern);

// Picks the newest file by mtime and evaluates it against the rules at `now`. Fills status,
// summary, metrics and details; the caller adds the check id, kind and timestamps.
Result evaluate_file_age(const std::string& pattern, std::vector<FileInfo> files,
                         std::chrono::system_clock::time_point now, const FileAgeRules& rules);

// "2026-11-21T03:12:00Z"
std::string iso8601_utc(std::chrono::system_clock::time_point t);

// Age for people: "42s", "12m5s", "3h12m", "1d6h" (precision drops as the age grows).
std::string format_age(std::chrono::seconds age);

}  // namespace xj
