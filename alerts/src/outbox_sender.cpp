#include "xj/alerts/outbox_sender.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "xj/alerts/group_message.hpp"

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

bool alert_transition(std::string_view t) {
  return t == "firing" || t == "resolved" || t.substr(0, 6) == "repeat" || t.substr(0, 8) == "escalate";
}

namespace {

// The most rows one pass combines per channel: a digest of more still counts them all in the
// next one.
constexpr std::size_t kMaxPending = 10'000;

std::string field(const OutboxMessage& m, const std::string& name) {
  auto it = m.fields.find(name);
  return it == m.fields.end() ? std::string() : it->second;
}

}  // namespace

// What one pass found: the earliest moment a row it left pending may go.
struct OutboxSender::Pass {
  std::int64_t now = 0;
  std::optional<std::int64_t> wake;
  std::size_t finished = 0;  // rows delivered or given up: the next pass may find more
  void at(std::int64_t t) {
    if (!wake || t < *wake) wake = t;
  }
};

OutboxSender::OutboxSender(AlertStore& store, std::map<std::string, std::unique_ptr<Channel>> channels,
                           SenderOptions options, Clock clock, OnFailure on_failure)
    : store_(store), channels_(std::move(channels)), opt_(std::move(options)), clock_(std::move(clock)),
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

MessageContext OutboxSender::context_of(const Channel& ch) const {
  MessageContext ctx = opt_.message;
  if (!ch.config().locale.empty()) ctx.locale = ch.config().locale;
  ctx.style = text_style(ch.config().type);
  return ctx;
}

std::size_t OutboxSender::run_once() {
  std::size_t delivered = 0;
  wake_at_.reset();
  const std::int64_t start = clock_();
  // Windows and digests that no longer hold anything are forgotten.
  std::erase_if(group_sent_, [&](const auto& e) { return e.second + opt_.grouping.window.count() <= start; });
  std::erase_if(digest_sent_, [&](const auto& e) { return e.second + opt_.storm.interval.count() <= start; });
  for (std::size_t round = 0; round < opt_.batch; ++round) {
    Pass pass{clock_(), std::nullopt, 0};
    // The channels whose oldest pending message is due: one whose oldest failed waits for its
    // retry as a whole, so a recovery never overtakes its alert.
    const auto heads = store_.due_messages(pass.now);
    std::size_t sent = 0;
    for (const auto& head : heads) {
      auto it = channels_.find(head.channel);
      if (it == channels_.end()) {
        // The channel left the config: keep the message, say why, try again later.
        store_.record_attempt({head.id, pass.now, false, false, pass.now + opt_.backoff_max.count(),
                               "channel '" + head.channel + "' is not configured"});
        continue;
      }
      sent += work_channel(*it->second, store_.pending_messages(head.channel, kMaxPending), pass);
    }
    delivered += sent;
    wake_at_ = pass.wake;
    if (pass.finished == 0) return delivered;
  }
  wake_at_ = clock_();  // the batch ended with more to send
  return delivered;
}

std::optional<std::int64_t> OutboxSender::next_wakeup() {
  // A due row the last run held back (a window, a digest interval, the rate limit) is not a
  // reason to wake at once: wake_at_ says when it may go. New rows wake the sender anyway.
  std::optional<std::int64_t> best = wake_at_;
  if (auto due = store_.next_due(); due && (*due > clock_() || !best)) {
    if (!best || *due < *best) best = *due;
  }
  return best;
}

std::size_t OutboxSender::work_channel(Channel& ch, const std::vector<OutboxMessage>& pending, Pass& pass) {
  const std::int64_t now = pass.now;
  const std::string& name = ch.config().name;
  if (auto it = held_until_.find(name); it != held_until_.end() && now < it->second) {
    pass.at(it->second);
    return 0;
  }
  // Per recipient, in row order: the rows that may go now. A row not yet due (it failed and
  // waits for its retry) holds every later row of its alert.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const OutboxMessage*>> alert_rows, single_rows;
  std::set<std::string> waiting;
  for (const auto& m : pending) {
    if (!alert_rows.count(m.recipient) && !single_rows.count(m.recipient)) order.push_back(m.recipient);
    auto& list = alert_transition(m.transition) ? alert_rows[m.recipient] : single_rows[m.recipient];
    if (m.next_attempt_ms > now || waiting.count(m.fingerprint)) {
      waiting.insert(m.fingerprint);
      if (m.next_attempt_ms > now) pass.at(m.next_attempt_ms);
      continue;
    }
    list.push_back(&m);
  }
  std::size_t delivered = 0;
  bool ok = true;
  for (const auto& rcpt : order) {
    // Incident notices and reports: singly, in order.
    for (const OutboxMessage* m : single_rows[rcpt]) {
      delivered += deliver(ch, *m, {m}, pass, ok);
      if (!ok) return delivered;
    }
    auto& rows = alert_rows[rcpt];
    if (rows.empty()) continue;
    const std::string storm_key = name + "\n" + rcpt;
    // Storm: alert messages delivered in the last minute plus those waiting now.
    auto& recent = storm_[storm_key];
    while (!recent.empty() && recent.front().first <= now - 60'000) recent.pop_front();
    std::size_t load = group_members(rows).size();
    for (const auto& [t, n] : recent) load += n;
    if (opt_.storm.threshold > 0 && load > static_cast<std::size_t>(opt_.storm.threshold)) {
      auto last = digest_sent_.find(storm_key);
      if (last != digest_sent_.end() && now < last->second + opt_.storm.interval.count()) {
        pass.at(last->second + opt_.storm.interval.count());
        continue;
      }
      if (storming_.insert(storm_key).second) {
        spdlog::warn("event=alert_storm_started channel={} recipient={} load_per_min={} pending={}", name, rcpt,
                     load, rows.size());
      }
      const std::size_t n = send_rows(ch, rows, true, "", pass, ok);
      if (n > 0) digest_sent_[storm_key] = now;
      delivered += n;
      if (!ok) return delivered;
      continue;
    }
    if (storming_.erase(storm_key) > 0) {
      spdlog::info("event=alert_storm_ended channel={} recipient={} load_per_min={}", name, rcpt, load);
    }
    if (opt_.grouping.window.count() == 0) {
      for (const OutboxMessage* m : rows) {
        delivered += send_rows(ch, {m}, false, "", pass, ok);
        if (!ok) return delivered;
      }
      continue;
    }
    // Groups in the order of their oldest row.
    std::vector<std::string> groups;
    std::map<std::string, std::vector<const OutboxMessage*>> members;
    std::map<std::string, std::string> titles;
    for (const OutboxMessage* m : rows) {
      std::string key = storm_key, title;
      for (const auto& f : opt_.grouping.by) {
        const std::string v = field(*m, f);
        key += "\n" + v;
        title += (title.empty() ? "" : " ") + (v.empty() ? "-" : v);
      }
      if (!members.count(key)) groups.push_back(key);
      members[key].push_back(m);
      titles[key] = title;
    }
    for (const auto& g : groups) {
      auto last = group_sent_.find(g);
      if (last != group_sent_.end() && now < last->second + opt_.grouping.window.count()) {
        pass.at(last->second + opt_.grouping.window.count());  // held: goes when the window closes
        continue;
      }
      const std::size_t n = send_rows(ch, members[g], false, titles[g], pass, ok);
      if (n > 0) group_sent_[g] = now;
      delivered += n;
      if (!ok) return delivered;
    }
  }
  return delivered;
}

std::size_t OutboxSender::send_rows(Channel& ch, const std::vector<const OutboxMessage*>& rows, bool digest,
                                    const std::string& group, Pass& pass, bool& ok) {
  const auto members = group_members(rows);
  if (!digest && members.size() == 1) {
    // One alert: its own text, part by part, as it was written.
    std::size_t n = 0;
    for (const OutboxMessage* m : rows) {
      n += deliver(ch, *m, {m}, pass, ok);
      if (!ok) break;
    }
    return n;
  }
  OutboxMessage msg;
  msg.channel = ch.config().name;
  msg.recipient = rows.front()->recipient;
  msg.transition = digest ? "digest" : "group";
  msg.fingerprint = digest ? "digest" : group;
  msg.idempotency_key = combined_key(digest, rows);
  msg.text = render_combined(rows, digest, group, context_of(ch), ch.max_text_bytes(), ch.max_text_chars());
  msg.created_ms = rows.front()->created_ms;
  for (const OutboxMessage* m : rows) {
    msg.created_ms = std::min(msg.created_ms, m->created_ms);
    msg.members.push_back(m->idempotency_key);
  }
  // What personal channels put into their own formats: the most severe member's severity; the
  // host and system when the group has one.
  const auto top = std::min_element(members.begin(), members.end(),
                                    [](const auto& a, const auto& b) { return a.rank < b.rank; });
  msg.fields["severity"] = field(*top->row, "severity");
  for (const char* f : {"host", "system"}) {
    const std::string v = field(*rows.front(), f);
    if (std::all_of(rows.begin(), rows.end(), [&](const OutboxMessage* m) { return field(*m, f) == v; })) {
      msg.fields[f] = v;
    }
  }
  msg.fields["count"] = std::to_string(members.size());
  return deliver(ch, msg, rows, pass, ok);
}

std::size_t OutboxSender::deliver(Channel& ch, const OutboxMessage& msg, const std::vector<const OutboxMessage*>& rows,
                                  Pass& pass, bool& ok) {
  const std::string& name = ch.config().name;
  const std::int64_t now = clock_();
  std::int64_t free_at = 0;
  if (!rate_allows(ch, now, free_at)) {
    pass.at(free_at);
    ok = false;
    return 0;
  }
  sent_[name].push_back(now);
  SendOutcome o = ch.send(msg);
  const std::int64_t done = clock_();
  std::vector<AttemptRecord> recs;
  int tried = 0;  // a combined message is as old as its most tried member
  for (const OutboxMessage* r : rows) tried = std::max(tried, r->attempts);
  const int failed = tried + 1;
  const bool give_up = !o.delivered && (!o.retry || failed >= opt_.max_attempts);
  const std::int64_t next = o.delivered || give_up ? 0 : done + std::max(backoff_ms(failed), o.retry_after_ms);
  for (const OutboxMessage* r : rows) recs.push_back({r->id, done, o.delivered, give_up, next, o.error});
  const bool combined = !msg.members.empty();
  if (o.delivered || give_up) pass.finished += rows.size();
  if (o.delivered) {
    ok = true;
    if (alert_transition(rows.front()->transition)) {
      storm_[name + "\n" + msg.recipient].emplace_back(done, group_members(rows).size());
    }
    spdlog::info("event=alert_delivered channel={} key={} attempts={} latency_ms={}{}", name, msg.idempotency_key,
                 failed, done - msg.created_ms, combined ? " members=" + std::to_string(rows.size()) : "");
  } else {
    ok = false;
    // A failure holds the whole channel until the retry: what follows would meet the same
    // service, and a recovery must not overtake its alert.
    if (!give_up) {
      held_until_[name] = next;
      pass.at(next);
    } else if (o.retry_after_ms > 0) {
      held_until_[name] = done + o.retry_after_ms;
      pass.at(done + o.retry_after_ms);
    } else {
      ok = true;  // given up: it no longer holds what follows it
    }
    spdlog::warn("event=alert_send_failed channel={} key={} attempts={} give_up={} error=\"{}\"{}", name,
                 msg.idempotency_key, failed, give_up, o.error,
                 combined ? " members=" + std::to_string(rows.size()) : "");
    if (on_failure_) on_failure_(name, give_up);
  }
  auto r = recs.size() == 1 ? store_.record_attempt(recs.front()) : store_.record_attempts(recs);
  if (!r) spdlog::error("event=outbox_record_failed key={} error=\"{}\"", msg.idempotency_key, r.error());
  return o.delivered ? rows.size() : 0;
}

}  // namespace xj::alerts
