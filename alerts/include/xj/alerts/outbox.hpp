// The persistent outbox: every message to send is a row written in the same transaction as the
// alert state change that caused it, so a collector killed at any moment neither loses a
// message (it is there after restart) nor makes one twice (the idempotency key is unique).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace xj::alerts {

// kSuppressed: written but not to be sent (a silence or maintenance window matched the alert);
// kept so reports count it, and released to pending if the silence ends while the alert fires.
enum class DeliveryStatus { kPending, kDelivered, kFailed, kSuppressed };
std::string_view to_string(DeliveryStatus s);

struct OutboxMessage {
  std::int64_t id = 0;          // assigned by the store
  // (alert, transition, channel, recipient) plus the part number when a text was split:
  // "<fingerprint>/<since_ms>/firing/<channel>/<recipient>#1".
  std::string idempotency_key;
  std::string fingerprint;
  std::string transition;       // "firing", "resolved"
  std::string channel;          // the configured channel's name
  std::string recipient;        // "" for a group robot; a phone number or address otherwise
  std::string text;             // the rendered message, already within the channel's limit
  // What personal channels put into their own formats (SMS body templates, the e-mail
  // subject): severity, host, check, system, subject.
  std::map<std::string, std::string> fields;
  std::int64_t created_ms = 0;
  std::int64_t next_attempt_ms = 0;
  int attempts = 0;
  DeliveryStatus status = DeliveryStatus::kPending;
  std::string last_error;
  std::int64_t delivered_ms = 0;
  std::int64_t latency_ms = 0;  // created -> delivered
  // A message the sender combined from several outbox rows (a group, a storm digest): the
  // idempotency keys of its members. Never stored: each member is its own row.
  std::vector<std::string> members;
};

// Transitions of alerts (firing, resolved, repeatN, escalateN): the rows the sender may group
// and digest. Anything else (incident notices, reports) always goes out as its own message.
bool alert_transition(std::string_view transition);

std::string idempotency_key(std::string_view fingerprint, std::int64_t since_ms,
                            std::string_view transition, std::string_view channel,
                            std::string_view recipient, int part);

}  // namespace xj::alerts
