// Shipper: sends spooled results to the collector in batches and deletes them only after the
// collector's answer says they are stored (ack_seq). It never drops a result on its own:
//   - network errors, 5xx, 401/403 (token problems): retry with exponential backoff and
//     jitter; the results stay in the spool;
//   - 413 (batch too large): the batch is halved and sent again;
//   - 400 for a batch: halved until the refused result is alone; a single result the
//     collector refuses is moved to the spool's quarantine (kept, counted, never resent),
//     so one malformed result cannot block the queue forever.
// When there is nothing to send it posts an empty batch every `heartbeat` so the collector
// knows the host is alive. Gap records (results the spool cap dropped) go with each batch.
//
// The transport is a function, so the decisions above are tested without a network.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "xj/agent/spool.hpp"
#include "xj/common/expected.hpp"

namespace xj {

struct ShipperOptions {
  std::size_t max_batch_results = 500;
  std::size_t max_batch_bytes = 1u << 20;
  std::chrono::milliseconds heartbeat{30'000};
  std::chrono::milliseconds backoff_min{1'000};
  std::chrono::milliseconds backoff_max{60'000};
};

struct PostReply {
  int status = 0;
  std::string body;
};
// POSTs a JSON body to the collector's /api/v1/results; an error is a transport failure.
using PostFn = std::function<Expected<PostReply>(const std::string& body)>;

class Shipper {
 public:
  Shipper(Spool& spool, nlohmann::json agent, PostFn post, ShipperOptions options,
          std::uint32_t seed = std::random_device{}());

  enum class Outcome { kShipped, kHeartbeat, kIdle, kRetry, kSplit, kQuarantined };
  struct Step {
    Outcome outcome = Outcome::kIdle;
    std::chrono::milliseconds wait{0};  // how long to wait before the next step
    std::size_t acked = 0;              // results deleted from the spool
    std::string error;                  // why a retry or quarantine happened
  };

  // One attempt: ships at most one batch (or a heartbeat when one is due).
  Step step(std::chrono::steady_clock::time_point now);

  std::uint64_t failures() const { return failures_; }
  std::uint64_t shipped() const { return shipped_; }

 private:
  Step retry(std::string error);
  std::string body_of(const std::vector<SpoolEntry>& entries, const std::vector<SpoolGap>& gaps) const;

  Spool& spool_;
  nlohmann::json agent_;
  PostFn post_;
  ShipperOptions options_;
  std::mt19937 rng_;
  std::size_t batch_limit_;  // shrinks on 400/413, grows back after successes
  std::chrono::milliseconds backoff_{0};
  std::chrono::steady_clock::time_point last_contact_{};
  std::uint64_t failures_ = 0;
  std::uint64_t shipped_ = 0;
};

}  // namespace xj
