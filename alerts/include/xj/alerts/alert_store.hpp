// AlertStore: the storage the alert engine needs, declared here and implemented by the
// collector (SQLite), so alerts/ never includes the server.
#pragma once

#include <cstdint>
#include <vector>

#include "xj/alerts/alert.hpp"
#include "xj/alerts/incident_tracker.hpp"
#include "xj/alerts/outbox.hpp"
#include "xj/alerts/silence.hpp"
#include "xj/common/expected.hpp"

namespace xj::alerts {

// What one attempt to deliver a message came to.
struct AttemptRecord {
  std::int64_t id = 0;
  std::int64_t at_ms = 0;
  bool delivered = false;
  bool give_up = false;          // failed for good: no more attempts
  std::int64_t next_attempt_ms = 0;  // when not delivered and not given up
  std::string error;             // "" when delivered
};

// What one evaluation step changed, committed as one.
struct AlertChanges {
  std::vector<Alert> alerts;
  std::vector<OutboxMessage> messages;
  IncidentChanges incidents;
};

struct IncidentFilter {
  std::optional<IncidentState> state;
  bool active_only = false;  // open or acknowledged
  std::string host;          // "" any
  std::int64_t from_ms = 0;  // opened in [from, to); 0 = unbounded
  std::int64_t to_ms = 0;
  std::size_t limit = 500;
};

class AlertStore {
 public:
  virtual ~AlertStore() = default;

  // In ONE transaction: the alerts' new states (upsert by fingerprint), the messages those
  // changes cause, and the incidents they open or change (upsert by number, links upserted,
  // timeline lines appended). A message whose idempotency key is already stored is skipped,
  // not doubled.
  virtual Expected<bool> commit(const AlertChanges& changes) = 0;
  Expected<bool> commit(const std::vector<Alert>& changed, const std::vector<OutboxMessage>& messages) {
    return commit(AlertChanges{changed, messages, {}});
  }
  // Pending and firing alerts, to restore the engine after a restart.
  virtual std::vector<Alert> active_alerts() = 0;
  // Per channel, the oldest pending message, if its next attempt is due at now_ms. A channel
  // delivers in order: a recovery never overtakes the alert it recovers from.
  virtual std::vector<OutboxMessage> due_messages(std::int64_t now_ms) = 0;
  // The earliest next attempt of any pending message, if there is one.
  virtual std::optional<std::int64_t> next_due() = 0;
  // Pending messages of one channel, oldest first, due or not (the sender groups them).
  virtual std::vector<OutboxMessage> pending_messages(const std::string& channel, std::size_t limit) = 0;
  // Counts an attempt (attempts + 1, last error, or delivered with its latency).
  virtual Expected<bool> record_attempt(const AttemptRecord& attempt) = 0;
  // The attempt of one combined message, recorded for each of its member rows as one: a
  // crash never leaves a group half delivered. The SQLite store does it in one transaction.
  virtual Expected<bool> record_attempts(const std::vector<AttemptRecord>& attempts) {
    for (const auto& a : attempts) {
      if (auto r = record_attempt(a); !r) return r;
    }
    return true;
  }
  // Moves a message's next attempt without counting an attempt (rate limit reached).
  virtual Expected<bool> postpone(std::int64_t id, std::int64_t next_attempt_ms) = 0;
  // True when a message with this idempotency key is stored (any status).
  virtual bool has_message(const std::string& idempotency_key) = 0;
  // For the API, reports and tests.
  virtual std::vector<OutboxMessage> messages(std::int64_t after_id, std::size_t limit) = 0;

  // Incidents, newest first, each with its linked alerts.
  virtual std::vector<Incident> incidents(const IncidentFilter& filter) = 0;
  virtual std::optional<Incident> incident(std::int64_t id) = 0;
  virtual std::vector<TimelineEntry> timeline(std::int64_t incident_id) = 0;
  // The highest incident number ever given (0: none), so numbers are never reused.
  virtual std::int64_t max_incident_id() = 0;

  // Silences and maintenance windows (ids assigned by the store), all of them, newest first.
  virtual Expected<std::int64_t> add_silence(const Silence& s) = 0;
  virtual Expected<bool> end_silence(std::int64_t id, std::int64_t at_ms) = 0;
  virtual std::vector<Silence> silences() = 0;
  // The alert episodes (fingerprint, since) whose firing messages are suppressed.
  virtual std::vector<std::pair<std::string, std::int64_t>> suppressed_firing() = 0;
  // Their firing messages become pending, due now (the silence ended while the alert fires).
  virtual Expected<bool> release_suppressed(const std::string& fingerprint, std::int64_t since_ms,
                                            std::int64_t now_ms) = 0;
};

}  // namespace xj::alerts
