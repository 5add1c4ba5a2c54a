// File I/O of the log_scan check: reading a log in bounded blocks, finding a rotated file and
// writing the state file. Private to checks/; the pure half is in log_scan_check.hpp.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "xj/checks/check.hpp"
#include "xj/checks/log_scan_check.hpp"
#include "xj/common/expected.hpp"

// A namespace of its own: these short names must not meet another kind's helpers at link time.
namespace xj::log_io {

// Logs are read in blocks of this size; with at most one partial line carried over, memory
// per run stays near two blocks.
inline constexpr std::size_t kLogBlockBytes = 64 * 1024;

// An open file descriptor, closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// O_NONBLOCK so that a FIFO at the path cannot hang the run; it has no effect on files.
int open_log(const std::string& path);

// Reads up to n bytes at offset; short only at end of file.
Expected<std::string> read_at(int fd, std::uint64_t offset, std::size_t n);

// Identity, size and head of an open log file; an error for anything but a regular file.
Expected<LogFileNow> describe_log(int fd);

// The start of the last line, complete or not, so a first run that skips history still
// sees the whole of a line that is being written.
std::uint64_t last_line_start(int fd, std::uint64_t size);

// Finds the file the log was rotated to: the same device and inode, under `path.1` (logrotate's
// default) or any other name in the same directory (dated suffixes). A rotated file that was
// compressed is a new inode and is not found.
std::optional<std::string> find_rotated(const std::string& path, const LogPosition& prev);

// Writes the state file so that a crash leaves either the old or the new one, never half.
// Returns the error, naming the file and the cause.
std::optional<std::string> write_atomically(const std::filesystem::path& file,
                                            const std::string& text);

// Reads [from, to) of one file block by block and scans it, within the run's byte budget and
// deadline; memory stays at about two blocks whatever the file size.
class LogReader {
 public:
  LogReader(const LogMatcher& matcher, std::size_t max_samples, std::uint64_t budget,
            const RunContext& ctx)
      : matcher_(matcher), max_samples_(max_samples), budget_(budget), ctx_(ctx) {}

  struct Outcome {
    std::uint64_t end = 0;  // the new offset: after the last line scanned
    bool stopped = false;   // budget or deadline reached before `to`
    std::string error;
  };

  // Scans [from, to) of fd. `final`: the file will not grow, its last line counts even without
  // a newline.
  Outcome read(int fd, std::uint64_t from, std::uint64_t to, bool final);

  std::uint64_t lines = 0, matches = 0, bytes = 0;
  std::vector<std::string> samples;
  bool capped = false;       // stopped by the byte budget
  bool out_of_time = false;  // stopped by the deadline or cancellation

 private:
  std::size_t room() const { return max_samples_ - samples.size(); }

  void add(LogChunkScan s, std::string& buf, std::uint64_t& end) {
    lines += s.lines;
    matches += s.matches;
    bytes += s.consumed;
    for (auto& line : s.samples) samples.push_back(std::move(line));
    buf.erase(0, s.consumed);
    end += s.consumed;
  }

  const LogMatcher& matcher_;
  std::size_t max_samples_;
  std::uint64_t budget_;
  const RunContext& ctx_;
};

}  // namespace xj::log_io
