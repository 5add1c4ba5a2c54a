#include "xj/agent/check_runner.hpp"

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "xj/common/duration.hpp"

namespace xj {

namespace {
enum RunState : int { kQueued, kRunning, kExpiredInQueue };

struct PendingRun {
  explicit PendingRun(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  std::atomic<bool> cancelled{false};
  std::atomic<int> state{kQueued};
  std::atomic<std::int64_t> started_ns{0};  // steady clock, set by the pool thread
  bool reported = false;                    // touched on the io_context only
};

std::int64_t steady_ns(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
}  // namespace

CheckRunner::CheckRunner(boost::asio::io_context& io, std::size_t threads)
    : io_(io), pool_(threads == 0 ? 1 : threads), threads_(threads == 0 ? 1 : threads) {}

CheckRunner::~CheckRunner() { pool_.join(); }

// The timeout counts from when the run gets a thread, not from submit: the scheduler starts
// the checks of one interval together (see scheduler.hpp), and a check queued behind slow
// ones must not be reported as timed out for time it spent waiting. A run that gets no thread
// within its timeout (every thread held by runs that overran) is reported as not started, and
// skipped when a thread frees up: the result comes within the timeout either way.
void CheckRunner::submit(std::shared_ptr<Check> check, std::chrono::milliseconds timeout,
                         std::filesystem::path state_dir,
                         std::function<void(Result, bool timed_out)> done,
                         std::function<void()> released, std::uint64_t round) {
  auto pending = std::make_shared<PendingRun>(io_);
  pending->timer.expires_after(timeout);
  const std::int64_t submitted_ms = now_epoch_ms();
  auto report_timeout = [pending, check, done, submitted_ms, timeout](std::string why) {
    pending->reported = true;
    pending->cancelled = true;
    Result r = unknown_result(check->id(), check->kind(), std::move(why));
    r.ts_ms = submitted_ms;  // a result's ts is when its run started, like a normal result's
    r.duration_ms = timeout.count();
    done(std::move(r), true);
  };
  pending->timer.async_wait(
      [pending, timeout, threads = threads_, report_timeout](const boost::system::error_code& ec) {
        if (ec || pending->reported) return;
        int queued = kQueued;
        if (pending->state.compare_exchange_strong(queued, kExpiredInQueue)) {
          report_timeout("not started within " + format_duration(timeout) + ": all " +
                         std::to_string(threads) + " check threads were busy");
          return;
        }
        const auto deadline = std::chrono::steady_clock::time_point(
                                  std::chrono::nanoseconds(pending->started_ns.load())) +
                              timeout;
        auto expired = [pending, timeout, report_timeout](const boost::system::error_code& e) {
          if (e || pending->reported) return;
          report_timeout("timed out after " + format_duration(timeout));
        };
        if (deadline <= std::chrono::steady_clock::now()) return expired({});
        // Started after it was queued: wait out the rest of its own timeout.
        pending->timer.expires_at(deadline);
        pending->timer.async_wait(expired);
      });
  boost::asio::post(pool_, [this, pending, check, timeout, round, state_dir = std::move(state_dir),
                            done = std::move(done), released = std::move(released)]() mutable {
    const auto started = std::chrono::steady_clock::now();
    pending->started_ns = steady_ns(started);
    int queued = kQueued;
    if (!pending->state.compare_exchange_strong(queued, kRunning)) {
      // Reported as not started already; give the thread back at once.
      boost::asio::post(io_, [released = std::move(released)]() {
        if (released) released();
      });
      return;
    }
    RunContext ctx(timeout, state_dir, &pending->cancelled);
    ctx.deadline = started + timeout;
    ctx.round = round;
    Result r = run_guarded(*check, ctx);
    boost::asio::post(io_, [pending, r = std::move(r), done = std::move(done),
                            released = std::move(released)]() mutable {
      if (!pending->reported) {
        pending->reported = true;
        pending->timer.cancel();
        done(std::move(r), false);
      }
      if (released) released();
    });
  });
}

}  // namespace xj
