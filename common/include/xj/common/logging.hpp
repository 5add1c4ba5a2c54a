// Logging setup shared by both daemons: spdlog, one line per event, key=value fields. By default
// to stderr (journald picks it up); with `log_file:` to a file of our own with size-based
// rotation (FILE -> FILE.1 -> ... -> FILE.<keep>, the oldest dropped), reopened on SIGHUP so
// logrotate or an administrator may move the file away.
#pragma once

#include <cstdint>
#include <string>

namespace xj {

class ConfigSection;

struct LogFileOptions {
  std::string path;                     // empty: log to stderr
  std::uint64_t max_bytes = 10ull << 20;  // rotate before a line would make the file bigger
  int keep = 5;                         // rotated files kept besides the current one
  bool operator==(const LogFileOptions&) const = default;
};

// Reads `key` of `section`: either a path (`log_file: /var/log/xunjian/agent.log`) or a map
// {path, max_size, keep}. The path must be absolute and its directory must exist; errors name
// file, line and key. Absent: stderr.
LogFileOptions parse_log_file(const ConfigSection& section, const std::string& key);

// level: trace, debug, info, warn, error. Unknown levels fall back to info. Sets the
// destination too; when the file cannot be opened the previous destination is kept and the
// error ("cannot open log file /x/agent.log: Permission denied") returned. "" on success.
std::string setup_logging(const std::string& level, const LogFileOptions& file = {});

// Closes and reopens the log file at its path (creating it), for SIGHUP. No-op on stderr.
// "" on success, else the error (the old file stays in use).
std::string reopen_log_file();

}  // namespace xj
