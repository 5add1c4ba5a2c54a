// Where a host check reads the machine it inspects when that machine is not the one it runs
// on. The agent's checks read their own host directly (CheckEnv::host is null); the
// collector's agentless targets hand the same checks an SshHost (xj/checks/ssh_host.hpp) that
// runs standard commands (`cat`, `stat`, `getconf`, `dd`) over one SSH session. What comes back goes
// through the same pure parsers and the same evaluation: one parser, two transports.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "xj/checks/check.hpp"
#include "xj/checks/disk_check.hpp"
#include "xj/checks/file_age_check.hpp"
#include "xj/checks/log_scan_check.hpp"
#include "xj/common/expected.hpp"

namespace xj {

// What a command run on the host did.
struct HostCommandOutcome {
  std::string out, err;
  bool exited = false;  // false: killed by a signal or timed out
  int exit_code = -1;
  int signal = 0;  // the signal that ended it (when !exited and !timed_out), 0 if not known
  bool timed_out = false;
  bool out_truncated = false;
};

// The process table of a host as raw /proc text, taken in one go (a remote host cannot be
// asked per process). The process check parses it exactly as it parses its own /proc.
struct ProcessEntry {
  int pid = 0;
  std::string stat, status;  // /proc/PID/stat and /proc/PID/status
  std::string cmdline;       // /proc/PID/cmdline: arguments ended by NUL
  std::string exe;           // readlink of /proc/PID/exe; empty when it cannot be read
  std::optional<std::size_t> open_fds;  // entries of /proc/PID/fd; nullopt: not readable
};

struct ProcessSnapshot {
  std::string proc_stat;      // /proc/stat (its btime line)
  double clock_ticks = 100;   // USER_HZ of the host
  std::vector<int> own_pids;  // the processes that took the snapshot (never a match)
  std::map<std::uint32_t, std::string> users;  // uid -> name (the host's /etc/passwd)
  std::vector<ProcessEntry> processes;
};

class HostAccess {
 public:
  virtual ~HostAccess() = default;

  // "ssh web-01 (10.0.0.5:22)": which host the data came from, for messages.
  virtual std::string describe() const = 0;

  // A whole file (a /proc file, a mount table). The error names the host and the path.
  virtual Expected<std::string> read_file(const std::string& path, const RunContext& ctx) = 0;
  // Online CPUs of the host.
  virtual Expected<int> cpu_count(const RunContext& ctx) = 0;
  // statvfs of each path, in order: the stats or why that path could not be measured. The
  // whole call fails (timeout, lost session) only when no answer at all came back.
  virtual Expected<std::vector<Expected<FsStats>>> statvfs(const std::vector<std::string>& paths,
                                                           const RunContext& ctx) = 0;
  // Regular files matching a glob pattern, as scan_glob() finds them locally.
  virtual Expected<GlobScan> scan_glob(const std::string& pattern, const RunContext& ctx) = 0;
  // Every process of the host.
  virtual Expected<ProcessSnapshot> processes(const RunContext& ctx) = 0;
  // log_scan: the log file at path, opened once: device, inode, size and its first
  // kLogHeadBytes bytes. Errors as the local check words them ("cannot open P: No such file
  // or directory", "...: not a regular file"), prefixed with the host.
  virtual Expected<LogFileNow> stat_log(const std::string& path, const RunContext& ctx) = 0;
  // Up to n bytes at offset of the file at path, only while it is still inode `inode` (a file
  // replaced in between is an error, never bytes of another file); short only at its end.
  virtual Expected<std::string> read_log(const std::string& path, std::uint64_t inode,
                                         std::uint64_t offset, std::size_t n,
                                         const RunContext& ctx) = 0;
  // A regular file in path's directory with this device and inode, `path.1` tried first
  // (where a rotated log went); nullopt when there is none.
  virtual Expected<std::optional<std::string>> find_log_inode(const std::string& path,
                                                              std::uint64_t dev,
                                                              std::uint64_t inode,
                                                              const RunContext& ctx) = 0;
  // Runs argv (no shell interpretation of the arguments) with env added, in cwd when given.
  virtual Expected<HostCommandOutcome> run_command(const std::vector<std::string>& argv,
                                                   const std::map<std::string, std::string>& env,
                                                   const std::string& cwd,
                                                   const RunContext& ctx) = 0;
};

}  // namespace xj
