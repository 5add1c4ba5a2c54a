// OutboxSender: works the persistent outbox. Each due message goes to its channel; a failure
// is retried with exponential backoff (or after the wait the service asked for), and every
// attempt is recorded in the store (attempts, last error, latency). A per-channel rate limit
// (a sliding minute) keeps robots from being throttled: a message over the limit waits, and is
// not counted as a failed attempt.
//
// Grouping and the storm digest happen here, when the outbox is worked, never when it is
// written: every message stays its own row (its own idempotency key, its own latency), and the
// sender combines due alert rows of one (channel, recipient, group) into one message:
// - the first alert of a quiet group goes out at once (with whatever of its group is pending
//   at that instant); alerts of the group arriving within `grouping.window` after a message
//   of the group are held and go out together when the window closes;
// - more than `storm.threshold` alert messages within a minute on one (channel, recipient)
//   switch it to digest mode: everything pending goes out as one digest (counts by severity,
//   system and host, the most severe listed first) at most every `storm.interval`, until the
//   storm subsides.
// Rows that are not alert transitions (incident notices, reports) always go singly.
//
// run_once() is called by one thread (serve's sender thread, or a test with its clock).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "xj/alerts/alert_store.hpp"
#include "xj/alerts/channel.hpp"
#include "xj/alerts/message_builder.hpp"

namespace xj::alerts {

// alerts.grouping: which fields make a group, and how long a group's window stays open.
struct GroupingOptions {
  std::vector<std::string> by{"host"};  // of host, system, check
  std::chrono::milliseconds window{10'000};  // 0: grouping off, every alert its own message
};

// alerts.storm: when a channel gets digests instead of messages.
struct StormOptions {
  int threshold = 20;  // alert messages per minute per channel and recipient; 0: never digest
  std::chrono::milliseconds interval{10'000};  // at most one digest this often
};

struct SenderOptions {
  std::chrono::milliseconds backoff_initial{2'000};
  std::chrono::milliseconds backoff_max{600'000};
  // After this many failed attempts a message is marked failed (kept, counted in reports).
  int max_attempts = 50;
  std::size_t batch = 50;  // passes per run_once
  GroupingOptions grouping;
  StormOptions storm;
  // Locale and console link of the combined texts (a channel's own locale overrides it).
  MessageContext message;
};

class OutboxSender {
 public:
  using Clock = std::function<std::int64_t()>;  // epoch ms
  // Called after every failed attempt: channel name and whether it was the last one.
  using OnFailure = std::function<void(const std::string& channel, bool gave_up)>;

  OutboxSender(AlertStore& store, std::map<std::string, std::unique_ptr<Channel>> channels,
               SenderOptions options, Clock clock, OnFailure on_failure = {});

  // Sends what is due now. Returns how many outbox rows were delivered.
  std::size_t run_once();
  // When run_once should next be called (a held group's window closing, the next digest, a
  // rate-limit slot, a retry); nullopt: nothing pending.
  std::optional<std::int64_t> next_wakeup();

  // The delay before attempt n+1 after n failed attempts.
  std::int64_t backoff_ms(int failed_attempts) const;

 private:
  struct Pass;
  // One pass over a channel's pending rows; returns rows delivered.
  std::size_t work_channel(Channel& ch, const std::vector<OutboxMessage>& pending, Pass& pass);
  // Sends `rows` as one message (or singly when they are one alert's parts). Returns rows
  // delivered; false in `ok` when the channel must stop for this pass (failed, rate limited).
  std::size_t send_rows(Channel& ch, const std::vector<const OutboxMessage*>& rows, bool digest,
                        const std::string& group, Pass& pass, bool& ok);
  std::size_t deliver(Channel& ch, const OutboxMessage& msg, const std::vector<const OutboxMessage*>& rows,
                      Pass& pass, bool& ok);
  bool rate_allows(const Channel& ch, std::int64_t now, std::int64_t& free_at);
  MessageContext context_of(const Channel& ch) const;

  AlertStore& store_;
  std::map<std::string, std::unique_ptr<Channel>> channels_;
  SenderOptions opt_;
  Clock clock_;
  OnFailure on_failure_;
  std::map<std::string, std::deque<std::int64_t>> sent_;  // per channel: send times, last minute
  std::map<std::string, std::int64_t> held_until_;        // the service asked us to wait / failed
  std::map<std::string, std::int64_t> group_sent_;        // per group: its last message
  // Per channel and recipient: (time, alert messages delivered), the last minute; and the
  // last digest.
  std::map<std::string, std::deque<std::pair<std::int64_t, std::size_t>>> storm_;
  std::map<std::string, std::int64_t> digest_sent_;
  std::set<std::string> storming_;  // in digest mode now (logged when it starts and ends)
  std::optional<std::int64_t> wake_at_;  // set by run_once: the earliest held row's moment
};

}  // namespace xj::alerts
