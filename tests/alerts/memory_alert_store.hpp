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

  std::map<std::int64_t, Incident> incident_rows;
  std::vector<TimelineEntry> timeline_rows;
  bool fail_next = false;  // the next commit fails (a full disk, a locked file)

  using AlertStore::commit;
  Expected<bool> commit(const AlertChanges& c) override {
    if (fail_next) {
      fail_next = false;
      return make_error("memory store: refused for the test");
    }
    const auto& changed = c.alerts;
    const auto& messages = c.messages;
    ++commits;
    for (const auto& i : c.incidents.incidents) incident_rows[i.id] = i;
    for (auto e : c.incidents.timeline) {
      e.id = static_cast<std::int64_t>(timeline_rows.size()) + 1;
      timeline_rows.push_back(e);
    }
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
  std::vector<OutboxMessage> pending_messages(const std::string& channel, std::size_t limit) override {
    std::vector<OutboxMessage> out;
    for (const auto& m : outbox) {
      if (m.status == DeliveryStatus::kPending && m.channel == channel && out.size() < limit) out.push_back(m);
    }
    return out;
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
  std::vector<Incident> incidents(const IncidentFilter& f) override {
    std::vector<Incident> out;
    for (auto it = incident_rows.rbegin(); it != incident_rows.rend(); ++it) {
      const Incident& i = it->second;
      if (f.active_only && !i.active()) continue;
      if (f.state && i.state != *f.state) continue;
      if (!f.host.empty() && i.host != f.host) continue;
      out.push_back(i);
    }
    return out;
  }
  std::optional<Incident> incident(std::int64_t id) override {
    auto it = incident_rows.find(id);
    if (it == incident_rows.end()) return std::nullopt;
    return it->second;
  }
  std::vector<TimelineEntry> timeline(std::int64_t id) override {
    std::vector<TimelineEntry> out;
    for (const auto& e : timeline_rows) {
      if (e.incident == id) out.push_back(e);
    }
    return out;
  }
  std::int64_t max_incident_id() override { return incident_rows.empty() ? 0 : incident_rows.rbegin()->first; }

  std::vector<Silence> silence_rows;  // oldest first
  Expected<std::int64_t> add_silence(const Silence& s) override {
    silence_rows.push_back(s);
    silence_rows.back().id = static_cast<std::int64_t>(silence_rows.size());
    return silence_rows.back().id;
  }
  Expected<bool> end_silence(std::int64_t id, std::int64_t at) override {
    silence_rows.at(static_cast<std::size_t>(id - 1)).ended_ms = at;
    return true;
  }
  std::vector<Silence> silences() override { return {silence_rows.rbegin(), silence_rows.rend()}; }
  static std::string firing_prefix(const std::string& fp, std::int64_t since) {
    return fp + "/" + std::to_string(since) + "/firing/";
  }
  std::vector<std::pair<std::string, std::int64_t>> suppressed_firing() override {
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (const auto& m : outbox) {
      if (m.status != DeliveryStatus::kSuppressed || m.transition != "firing") continue;
      const auto since = std::stoll(m.idempotency_key.substr(m.fingerprint.size() + 1));
      out.emplace_back(m.fingerprint, since);
    }
    return out;
  }
  Expected<bool> release_suppressed(const std::string& fp, std::int64_t since, std::int64_t now) override {
    for (auto& m : outbox) {
      if (m.status == DeliveryStatus::kSuppressed && m.idempotency_key.rfind(firing_prefix(fp, since), 0) == 0) {
        m.status = DeliveryStatus::kPending;
        m.next_attempt_ms = now;
        m.last_error.clear();
      }
    }
    return true;
  }

  bool has_message(const std::string& key) override {
    return std::any_of(outbox.begin(), outbox.end(), [&](const auto& m) { return m.idempotency_key == key; });
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
