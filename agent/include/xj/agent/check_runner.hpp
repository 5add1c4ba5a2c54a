// CheckRunner: runs checks on a small bounded thread pool (DB drivers and exec block) and
// enforces each run's timeout, counted from when the run gets a thread. The result is
// delivered exactly once on the io_context: the check's own result, unknown "timed out after
// 10s" when the timeout passes first, or unknown "not started within 10s: all 4 check threads
// were busy" when no thread came free within the timeout (the run is then skipped). A run
// that overran keeps its thread until it returns; `released` tells when, so the scheduler
// never starts a second run of the same check over it. `done` learns which of the two
// happened (timed_out), for the timeout counter.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>

#include "xj/checks/check.hpp"

namespace xj {

class CheckRunner {
 public:
  CheckRunner(boost::asio::io_context& io, std::size_t threads);
  ~CheckRunner();  // waits for runs in progress (they honour their deadlines)
  CheckRunner(const CheckRunner&) = delete;
  CheckRunner& operator=(const CheckRunner&) = delete;

  void submit(std::shared_ptr<Check> check, std::chrono::milliseconds timeout,
              std::filesystem::path state_dir, std::function<void(Result, bool timed_out)> done,
              std::function<void()> released = {}, std::uint64_t round = 0);

 private:
  boost::asio::io_context& io_;
  boost::asio::thread_pool pool_;
  std::size_t threads_;
};

}  // namespace xj
