#include "xj/agent/check_runner.hpp"

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "xj/common/duration.hpp"

namespace xj {

namespace {
struct PendingRun {
  explicit PendingRun(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  std::atomic<bool> cancelled{false};
  bool reported = false;  // touched on the io_context only
};
}  // namespace

CheckRunner::CheckRunner(boost::asio::io_context& io, std::size_t threads)
    : io_(io), pool_(threads == 0 ? 1 : threads) {}

CheckRunner::~CheckRunner() { pool_.join(); }

void CheckRunner::submit(std::shared_ptr<Check> check, std::chrono::milliseconds timeout,
                         std::filesystem::path state_dir,
                         std::function<void(Result, bool timed_out)> done,
                         std::function<void()> released) {
  auto pending = std::make_shared<PendingRun>(io_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pending->timer.expires_at(deadline);
  const std::int64_t submitted_ms = now_epoch_ms();
  pending->timer.async_wait([pending, check, timeout, done,
                             submitted_ms](const boost::system::error_code& ec) {
    if (ec || pending->reported) return;
    pending->reported = true;
    pending->cancelled = true;
    Result r = unknown_result(check->id(), check->kind(), "timed out after " + format_duration(timeout));
    r.ts_ms = submitted_ms;  // a result's ts is when its run started, like a normal result's
    r.duration_ms = timeout.count();
    done(std::move(r), true);
  });
  boost::asio::post(pool_, [this, pending, check, timeout, deadline, state_dir = std::move(state_dir),
                            done = std::move(done), released = std::move(released)]() mutable {
    RunContext ctx(timeout, state_dir, &pending->cancelled);
    ctx.deadline = deadline;
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
