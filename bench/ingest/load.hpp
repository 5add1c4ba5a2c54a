// The HTTP load of the ingest benchmark: simulated agents posting real batches to
// POST /api/v1/results over keep-alive connections. Boost.Beast stays in load_http.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace xj::bench {

struct LoadOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::vector<std::string> tokens;  // tokens[i] belongs to agent_id(i)
  std::size_t checks = 20;          // results per batch: one round of every check of an agent
  std::size_t concurrency = 64;     // keep-alive connections, one request in flight on each
  double warmup_s = 10;             // at least this long, and until every agent posted once
  double warmup_max_s = 600;        // give up waiting for the first round after this long
  double duration_s = 60;           // the measured window
  // Called at the start and the end of the measured window (to sample /proc).
  std::function<void()> on_window_start, on_window_end;
};

struct LoadStats {
  // Everything, warm-up included: what the store must hold afterwards.
  std::uint64_t requests = 0, accepted = 0, duplicates = 0, sent_results = 0;
  std::uint64_t failed_requests = 0;        // no 200 after the retries
  std::uint64_t retries = 0;                // transport errors retried on a new connection
  std::uint64_t bad_acks = 0;               // 200 whose ack_seq or accepted was not as sent
  std::map<std::string, std::uint64_t> failures;  // reason -> count (first words)
  // The measured window only.
  std::uint64_t window_requests = 0, window_results = 0;
  double window_s = 0, warmup_s = 0;
  std::vector<double> latencies_ms;  // of requests completed in the window
  std::uint64_t body_bytes = 0, window_body_bytes = 0;
  bool warmup_timed_out = false;
};

// Runs the load on the calling thread (one io_context; coroutines, one per connection) and
// returns when the window is over and every request in flight has finished.
LoadStats run_load(const LoadOptions& options);

}  // namespace xj::bench
