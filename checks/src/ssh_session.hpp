// One libssh2 session on a non-blocking socket, every step bounded by a deadline. Private to
// xj_ssh (checks/src/ssh_*.cpp).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "xj/checks/ssh_host.hpp"

namespace xj {

class SshSession {
 public:
  using Clock = std::chrono::steady_clock;

  // Connects, checks the host key against known_hosts, authenticates. Never throws.
  static Expected<std::unique_ptr<SshSession>, SshError> open(const SshOptions& o,
                                                              SshSessionInfo& info);
  ~SshSession();
  SshSession(const SshSession&) = delete;
  SshSession& operator=(const SshSession&) = delete;

  // Runs a command line on an exec channel until it exits or the deadline passes. At the
  // deadline the channel is closed (the session stays usable when the close goes through) and
  // the outcome says timed_out. Error: the channel could not be opened or the session broke.
  Expected<HostCommandOutcome> exec(const std::string& command, Clock::time_point deadline,
                                    std::size_t max_output);

  bool broken() const { return broken_; }

 private:
  struct Impl;
  explicit SshSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  bool broken_ = false;
};

}  // namespace xj
