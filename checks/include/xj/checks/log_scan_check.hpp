// `log_scan`: counts lines matching a regex among the lines appended to a log file since the
// last run. Where it stopped (device, inode, offset, a hash of the file's first bytes) is kept
// in the agent's state dir, so an agent restart neither loses nor double counts lines, and a
// rotated (renamed, truncated or copy-truncated) file is noticed and read again from its start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "xj/common/expected.hpp"

namespace xj {

// std::regex recurses once per character on patterns like `.*x`, so a long line could
// overflow the stack; only this many bytes at the start of each line are matched.
inline constexpr std::size_t kLogMatchBytes = 4096;
// A sample line in the details is cut to this many bytes (at a UTF-8 character boundary).
inline constexpr std::size_t kLogSampleBytes = 300;
// A line longer than this is scanned in pieces, so memory stays bounded on a binary file.
inline constexpr std::size_t kLogMaxLineBytes = 64 * 1024;
// How much of the file's start is hashed to recognise a file that was copied and truncated.
inline constexpr std::size_t kLogHeadBytes = 256;

// Decides whether one log line counts: `pattern` matches and `exclude` (if any) does not.
class LogMatcher {
 public:
  // ECMAScript syntax, as KeyType::kRegex validates it. The error names the bad expression.
  static Expected<LogMatcher> compile(const std::string& pattern, const std::string& exclude,
                                      bool ignore_case);
  bool matches(std::string_view line) const;

 private:
  std::regex pattern_;
  std::optional<std::regex> exclude_;
};

// What scanning one chunk of newly appended bytes found.
struct LogChunkScan {
  std::uint64_t consumed = 0;  // bytes up to and including the last complete line
  std::uint64_t lines = 0;
  std::uint64_t matches = 0;
  std::vector<std::string> samples;  // the first matching lines, clipped, valid UTF-8
};

// Scans the complete lines of `chunk` (the bytes after the saved offset). A trailing line
// without its newline is left unconsumed, to be read whole next time, unless `final` says the
// file will not grow any more. "\r\n" endings are accepted.
LogChunkScan scan_log_chunk(std::string_view chunk, const LogMatcher& matcher,
                            std::size_t max_samples, bool final);

// Where the previous run left a log file; persisted as JSON between runs.
struct LogPosition {
  std::uint64_t dev = 0;
  std::uint64_t inode = 0;
  std::uint64_t offset = 0;    // the next unread byte; always at a line start
  std::uint64_t head_len = 0;  // bytes of the file's start covered by head_hash
  std::uint64_t head_hash = 0;

  bool operator==(const LogPosition&) const = default;
};

nlohmann::json to_json(const LogPosition& p);
Expected<LogPosition> log_position_from_json(const nlohmann::json& j);

// FNV-1a, 64 bit: stable across builds and machines, which std::hash is not.
std::uint64_t fnv1a64(std::string_view bytes);

// The log file as it is now.
struct LogFileNow {
  std::uint64_t dev = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::string head;  // its first kLogHeadBytes bytes (fewer if it is shorter)
};

// Where this run starts reading, and why.
struct LogReadPlan {
  enum class Reason {
    kFirstRun,   // no saved position: start at the end, or at 0 with from_start
    kContinue,   // same file, grown or unchanged
    kTruncated,  // same file, now shorter than the saved offset
    kReplaced,   // same inode, but its first bytes changed (copytruncate and written again)
    kRotated,    // another inode at the path: finish the old file first, if it can be found
  };
  Reason reason = Reason::kFirstRun;
  std::uint64_t offset = 0;  // in the current file
};

LogReadPlan plan_log_read(const std::optional<LogPosition>& prev, const LogFileNow& now,
                          bool from_start);
std::string_view to_string(LogReadPlan::Reason r);

// State file name for a check id: unsafe characters become '_', long ids are shortened with
// a hash so the name stays unique and fits in NAME_MAX.
std::string log_state_file_name(std::string_view check_id);

}  // namespace xj
