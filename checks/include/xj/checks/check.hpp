// The Check interface. One check kind is one .cpp file: its key declaration (CheckSpec),
// its pure parsers and its run().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "xj/checks/result.hpp"

namespace xj {

// What a run may use. The deadline is cooperative: a check passes it on to whatever can time
// out (connect, curl, a child process) and returns by then; the scheduler reports a run that
// does not return in time as unknown "timed out after ...".
struct RunContext {
  RunContext() = default;
  // Deadline = now + timeout.
  explicit RunContext(std::chrono::milliseconds timeout, std::filesystem::path state_dir = {},
                      const std::atomic<bool>* cancelled = nullptr)
      : deadline(std::chrono::steady_clock::now() + timeout),
        timeout(timeout),
        state_dir(std::move(state_dir)),
        cancelled(cancelled) {}

  std::chrono::steady_clock::time_point deadline;
  std::chrono::milliseconds timeout{10'000};
  std::filesystem::path state_dir;  // per-agent state (log offsets, ...); may be empty
  const std::atomic<bool>* cancelled = nullptr;
  // Nonzero: the scheduler's round this run belongs to (checks of one interval start together,
  // see agent/.../scheduler.hpp). Runs of one round may share what they read of the host, such
  // as the process table; 0 (a lone run: `check`, tests) shares nothing.
  std::uint64_t round = 0;

  std::chrono::milliseconds remaining() const;
  bool expired() const { return remaining().count() <= 0; }
};

class Check {
 public:
  Check(std::string id, std::string kind) : id_(std::move(id)), kind_(std::move(kind)) {}
  virtual ~Check() = default;
  Check(const Check&) = delete;
  Check& operator=(const Check&) = delete;

  const std::string& id() const { return id_; }
  const std::string& kind() const { return kind_; }

  // Never throws. Runs are never concurrent for one check object, so a check may keep state
  // between runs (previous counters for rates, previous pids for restarts).
  virtual Result run(const RunContext& ctx) = 0;

 protected:
  // A result pre-filled with this check's id and kind and the current time.
  Result make_result() const;
  Result unknown(std::string reason) const;

 private:
  std::string id_;
  std::string kind_;
};

// Runs check.run() and turns any escaping exception into unknown, filling ts/duration.
Result run_guarded(Check& check, const RunContext& ctx);

}  // namespace xj
