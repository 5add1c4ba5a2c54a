// Running one child process for a check, bounded by a deadline. Private to checks/.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "xj/common/expected.hpp"

namespace xj {

struct ChildSpec {
  std::vector<std::string> argv;  // argv[0] is the absolute path run, no PATH search, no shell
  std::map<std::string, std::string> env;  // the child's whole environment
  std::string cwd;                         // empty: the agent's
  std::size_t stdout_cap = 64 * 1024;      // bytes kept; the rest is read and dropped
  std::size_t stderr_cap = 8 * 1024;
  std::chrono::steady_clock::time_point deadline;
  const std::atomic<bool>* cancelled = nullptr;
  std::chrono::milliseconds kill_grace{200};  // between SIGTERM and SIGKILL
};

struct ChildOutcome {
  pid_t pid = -1;
  bool timed_out = false;  // the deadline passed; the process group was killed
  bool cancelled = false;  // *cancelled became true; the process group was killed
  bool exited = false;     // normal exit with exit_code
  int exit_code = -1;
  int signal = 0;  // killed by this signal (when !exited)
  std::string out, err;
  bool out_truncated = false;
};

// Starts argv in its own process group with stdin from /dev/null, no inherited descriptors
// and default signal dispositions, collects stdout/stderr, and reaps it. At the deadline (or
// on cancel) the group gets SIGTERM, then SIGKILL after a short grace. Error only when the
// process could not be started; the message names the command and the cause.
Expected<ChildOutcome> run_child(const ChildSpec& spec);

}  // namespace xj
