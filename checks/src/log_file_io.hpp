// File I/O of the log_scan check: reading a log in bounded blocks (here, or on an agentless
// target through HostAccess), finding a rotated file and writing the state file. Private to checks/; the pure half is in log_scan_check.hpp.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xj/checks/check.hpp"
#include "xj/checks/host_access.hpp"
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

// Remote reads fetch this much at a time (one command over the SSH session), so a run over a
// busy log is a few commands, not one per block.
inline constexpr std::size_t kRemoteWindowBytes = 1024 * 1024;

// One log file opened for a run: what it was when opened (identity, size, head), and reads by
// offset. On this machine an open descriptor; on an agentless target commands over its SSH
// session (HostAccess::stat_log / read_log), which refuse to read another inode than the one
// opened. Everything above this (plan, scan, rotation) is the same for both.
class LogFile {
 public:
  virtual ~LogFile() = default;
  const LogFileNow& now() const { return now_; }
  // Up to n bytes at offset; short only at end of file. The error names the file.
  virtual Expected<std::string> read_at(std::uint64_t offset, std::size_t n) = 0;

 protected:
  LogFileNow now_;
};

// Opens `path` here (host null) or on the target. The error is the run's reason as it stands:
// "cannot open /var/log/app.log: No such file or directory" (remote ones name the target).
Expected<std::unique_ptr<LogFile>> open_log_file(HostAccess* host, const std::string& path,
                                                 const RunContext& ctx);

// The start of the last line, complete or not, so a first run that skips history still
// sees the whole of a line that is being written.
std::uint64_t last_line_start(LogFile& file, std::uint64_t size);

// Finds the file the log was rotated to: the same device and inode, under `path.1` (logrotate's
// default) or any other name in the same directory (dated suffixes). A rotated file that was
// compressed is a new inode and is not found. Remote: an error when the target could not be
// asked at all.
Expected<std::optional<std::string>> find_rotated(HostAccess* host, const std::string& path,
                                                  const LogPosition& prev, const RunContext& ctx);

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

  // Scans [from, to) of the file. `final`: the file will not grow, its last line counts even
  // without a newline.
  Outcome read(LogFile& file, std::uint64_t from, std::uint64_t to, bool final);

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
