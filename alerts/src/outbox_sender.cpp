#include "xj/alerts/outbox_sender.hpp"

#include <spdlog/spdlog.h>

namespace xj::alerts {

std::string_view to_string(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::kPending: return "pending";
    case DeliveryStatus::kDelivered: return "delivered";
    case DeliveryStatus::kFailed: return "failed";
    case DeliveryStatus::kSuppressed: return "suppressed";
  }
  return "pending";
}

std::string idempotency_key(std::string_view fingerprint, std::int64_t since_ms,
                            std::string_view transition, std::string_view channel,
                            std::string_view recipient, int part) {
  return std::string(fingerprint) + "/" + std::to_string(since_ms) + "/" + std::string(transition) +
         "/" + std::string(channel) + "/" + std::string(recipient) + "#" + std::to_string(part);
}

OutboxSender::OutboxSender(AlertStore& store, std::map<std::string, std::unique_ptr<Channel>> channels,
                           SenderOptions options, Clock clock, OnFailure on_failure)
    : store_(store), channels_(std::move(channels)), opt_(options), clock_(std::move(clock)),
      on_failure_(std::move(on_failure)) {}

std::int64_t OutboxSender::backoff_ms(int failed_attempts) const {
  std::int64_t d = opt_.backoff_initial.count();
  for (int i = 1; i < failed_attempts && d < opt_.backoff_max.count(); ++i) d *= 2;
  return std::min<std::int64_t>(d, opt_.backoff_max.count());
}

bool OutboxSender::rate_allows(const Channel& ch, std::int64_t now, std::int64_t& free_at) {
  const std::string& name = ch.config().name;
  if (auto it = held_until_.find(name); it != held_until_.end() && now < it->second) {
    free_at = it->second;
    return false;
  }
  auto& q = sent_[name];
  while (!q.empty() && q.front() <= now - 60'000) q.pop_front();
  const int limit = ch.config().rate_per_minute;
  if (limit > 0 && static_cast<int>(q.size()) >= limit) {
    free_at = q.front() + 60'000 + 1;
    return false;
  }
  return true;
}

std::size_t OutboxSender::run_once() {
  std::size_t delivered = 0;
  // Each round sends the head of every channel's queue; a channel whose head failed or is
  // rate limited drops out of the next round, since its head is then no longer due.
  for (std::size_t round = 0; round < opt_.batch; ++round) {
    const auto due = store_.due_messages(clock_());
    if (due.empty()) break;
    // A head that was delivered or given up uncovers the next message of its channel.
    std::size_t finished = 0;
    delivered += send_heads(due, finished);
    if (finished == 0) break;
  }
  return delivered;
}

std::size_t OutboxSender::send_heads(const std::vector<OutboxMessage>& due, std::size_t& finished) {
  std::size_t delivered = 0;
  for (const auto& m : due) {
    const std::int64_t now = clock_();
    auto it = channels_.find(m.channel);
    if (it == channels_.end()) {
      // The channel left the config: keep the message, say why, try again later.
      store_.record_attempt({m.id, now, false, false, now + opt_.backoff_max.count(),
                             "channel '" + m.channel + "' is not configured"});
      continue;
    }
    Channel& ch = *it->second;
    std::int64_t free_at = 0;
    if (!rate_allows(ch, now, free_at)) {
      store_.postpone(m.id, free_at);
      continue;
    }
    sent_[m.channel].push_back(now);
    SendOutcome o = ch.send(m);
    const std::int64_t done = clock_();
    AttemptRecord rec{m.id, done, o.delivered, false, 0, o.error};
    if (o.delivered) {
      ++delivered;
      ++finished;
      spdlog::info("event=alert_delivered channel={} key={} attempts={} latency_ms={}", m.channel,
                   m.idempotency_key, m.attempts + 1, done - m.created_ms);
    } else {
      const int failed = m.attempts + 1;
      rec.give_up = !o.retry || failed >= opt_.max_attempts;
      if (rec.give_up) ++finished;
      rec.next_attempt_ms = done + std::max(backoff_ms(failed), o.retry_after_ms);
      if (o.retry_after_ms > 0) held_until_[m.channel] = done + o.retry_after_ms;
      spdlog::warn("event=alert_send_failed channel={} key={} attempts={} give_up={} error=\"{}\"",
                   m.channel, m.idempotency_key, failed, rec.give_up, o.error);
      if (on_failure_) on_failure_(m.channel, rec.give_up);
    }
    if (auto r = store_.record_attempt(rec); !r) {
      spdlog::error("event=outbox_record_failed id={} error=\"{}\"", m.id, r.error());
    }
  }
  return delivered;
}

std::optional<std::int64_t> OutboxSender::next_wakeup() { return store_.next_due(); }

}  // namespace xj::alerts
