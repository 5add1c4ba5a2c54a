// An AlertStore in memory for the engine and sender tests (the SQLite one is tested in
// sqlite_alert_store_test.cpp). Same semantics: unique idempotency keys, per-channel heads.
#pragma once

#include <algorithm>
#include <map>

#include "xj/alerts/alert_store.hpp"

namespace xj::alerts::test {

class MemoryAlertStore final : public AlertStore {
 public:
  std::map<std::string, Alert> alerts;
  std::vector<OutboxMessage> outbox;
  int commits = 0;

  Expected<bool> commit(const std::vector<Alert>& changed,
                        const std::vector<OutboxMessage>& messages) override {
    ++commits;
    for (const auto& a : changed) alerts[a.fingerprint] = a;
    for (auto m : messages) {
      bool dup = std::any_of(outbox.begin(), outbox.end(),
                             [&](const auto& o) { return o.idempotency_key == m.idempotency_key; });
      if (dup) continue;
      m.id = static_cast<std::int64_t>(outbox.size()) + 1;
      outbox.push_back(m);
    }
    return true;
  }
  std::vector<Alert> active_alerts() override {
    std::vector<Alert> out;
    for (const auto& [fp, a] : alerts) {
      if (a.state != AlertState::kResolved) out.push_back(a);
    }
    return out;
  }
  std::vector<OutboxMessage> due_messages(std::int64_t now_ms) override {
    std::map<std::string, const OutboxMessage*> heads;
    for (const auto& m : outbox) {
      if (m.status == DeliveryStatus::kPending && !heads.count(m.channel)) heads[m.channel] = &m;
    }
    std::vector<OutboxMessage> out;
    for (const auto& [ch, m] : heads) {
      if (m->next_attempt_ms <= now_ms) out.push_back(*m);
    }
    return out;
  }
  std::optional<std::int64_t> next_due() override {
    std::optional<std::int64_t> best;
    std::map<std::string, bool> seen;
    for (const auto& m : outbox) {
      if (m.status != DeliveryStatus::kPending || seen[m.channel]) continue;
      seen[m.channel] = true;
      if (!best || m.next_attempt_ms < *best) best = m.next_attempt_ms;
    }
    return best;
  }
  Expected<bool> record_attempt(const AttemptRecord& a) override {
    OutboxMessage& m = outbox.at(static_cast<std::size_t>(a.id - 1));
    ++m.attempts;
    m.last_error = a.error;
    m.next_attempt_ms = a.next_attempt_ms;
    if (a.delivered) {
      m.status = DeliveryStatus::kDelivered;
      m.delivered_ms = a.at_ms;
      m.latency_ms = a.at_ms - m.created_ms;
    } else if (a.give_up) {
      m.status = DeliveryStatus::kFailed;
    }
    return true;
  }
  Expected<bool> postpone(std::int64_t id, std::int64_t next) override {
    outbox.at(static_cast<std::size_t>(id - 1)).next_attempt_ms = next;
    return true;
  }
  std::vector<OutboxMessage> messages(std::int64_t after_id, std::size_t limit) override {
    std::vector<OutboxMessage> out;
    for (const auto& m : outbox) {
      if (m.id > after_id && out.size() < limit) out.push_back(m);
    }
    return out;
  }
};

}  // namespace xj::alerts::test
