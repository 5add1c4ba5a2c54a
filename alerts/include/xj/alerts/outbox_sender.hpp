// OutboxSender: works the persistent outbox. Each due message goes to its channel; a failure
// is retried with exponential backoff (or after the wait the service asked for), and every
// attempt is recorded in the store (attempts, last error, latency). A per-channel rate limit
// (a sliding minute) keeps robots from being throttled: a message over the limit is postponed,
// not counted as a failed attempt.
//
// run_once() is called by one thread (serve's sender thread, or a test with its clock).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "xj/alerts/alert_store.hpp"
#include "xj/alerts/channel.hpp"

namespace xj::alerts {

struct SenderOptions {
  std::chrono::milliseconds backoff_initial{2'000};
  std::chrono::milliseconds backoff_max{600'000};
  // After this many failed attempts a message is marked failed (kept, counted in reports).
  int max_attempts = 50;
  std::size_t batch = 50;  // rounds per run_once (each sends at most one per channel)
};

class OutboxSender {
 public:
  using Clock = std::function<std::int64_t()>;  // epoch ms
  // Called after every failed attempt: channel name and whether it was the last one.
  using OnFailure = std::function<void(const std::string& channel, bool gave_up)>;

  OutboxSender(AlertStore& store, std::map<std::string, std::unique_ptr<Channel>> channels,
               SenderOptions options, Clock clock, OnFailure on_failure = {});

  // Sends what is due now. Returns how many messages were delivered.
  std::size_t run_once();
  // When run_once should next be called (earliest due message or rate-limit slot).
  std::optional<std::int64_t> next_wakeup();

  // The delay before attempt n+1 after n failed attempts.
  std::int64_t backoff_ms(int failed_attempts) const;

 private:
  std::size_t send_heads(const std::vector<OutboxMessage>& due, std::size_t& finished);
  bool rate_allows(const Channel& ch, std::int64_t now, std::int64_t& free_at);

  AlertStore& store_;
  std::map<std::string, std::unique_ptr<Channel>> channels_;
  SenderOptions opt_;
  Clock clock_;
  OnFailure on_failure_;
  std::map<std::string, std::deque<std::int64_t>> sent_;  // per channel: send times, last minute
  std::map<std::string, std::int64_t> held_until_;        // the service asked us to wait
};

}  // namespace xj::alerts
