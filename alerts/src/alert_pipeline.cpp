#include "xj/alerts/alert_pipeline.hpp"

#include <spdlog/spdlog.h>

#include "xj/alerts/message_builder.hpp"

namespace xj::alerts {

AlertPipeline::AlertPipeline(AlertStore& store, AlertsConfig config,
                             std::map<std::string, std::size_t> max_text_bytes, Clock clock)
    : store_(store), cfg_(std::move(config)), max_bytes_(std::move(max_text_bytes)),
      clock_(clock), engine_(cfg_.rules, clock) {}

void AlertPipeline::restore() {
  std::lock_guard lock(mu_);
  engine_.restore(store_.active_alerts());
}

std::vector<Alert> AlertPipeline::active() {
  std::lock_guard lock(mu_);
  return engine_.active();
}

std::vector<std::string> AlertPipeline::channels_for(const Alert& a) const {
  std::vector<std::string> out;
  auto add = [&out](const std::string& name) {
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  };
  if (cfg_.routes.empty()) {
    for (const auto& c : cfg_.channels) add(c.name);
    return out;
  }
  for (const auto& r : cfg_.routes) {
    if (!r.severities.empty() && !r.severities.count(a.severity)) continue;
    for (const auto& c : r.channels) add(c);
  }
  return out;
}

std::size_t AlertPipeline::apply(const std::vector<AlertEvent>& events) {
  if (events.empty()) return 0;
  std::vector<Alert> changed;
  std::vector<OutboxMessage> messages;
  const std::int64_t now = clock_();
  for (const auto& ev : events) {
    changed.push_back(ev.alert);
    if (!ev.transition) continue;
    const std::string text = render_message(ev.alert, *ev.transition, cfg_.message);
    const std::string tr(to_string(*ev.transition));
    for (const auto& ch : channels_for(ev.alert)) {
      auto lim = max_bytes_.find(ch);
      const auto parts = split_utf8(text, lim == max_bytes_.end() ? 4096 : lim->second);
      for (std::size_t i = 0; i < parts.size(); ++i) {
        OutboxMessage m;
        m.idempotency_key = idempotency_key(ev.alert.fingerprint, ev.alert.since_ms, tr, ch, "",
                                            static_cast<int>(i + 1));
        m.fingerprint = ev.alert.fingerprint;
        m.transition = tr;
        m.channel = ch;
        m.text = parts[i];
        m.created_ms = now;
        m.next_attempt_ms = now;
        messages.push_back(std::move(m));
      }
    }
    spdlog::info("event=alert_{} rule={} host={} check={} severity={} fingerprint={}", tr,
                 ev.alert.rule, ev.alert.host, ev.alert.check, xj::to_string(ev.alert.severity),
                 ev.alert.fingerprint);
  }
  if (auto r = store_.commit(changed, messages); !r) {
    // The engine has moved on; the next result of the check re-evaluates against it, but these
    // messages are lost. Loud, and counted.
    spdlog::error("event=alert_commit_failed alerts={} messages={} error=\"{}\"", changed.size(),
                  messages.size(), r.error());
    if (on_store_error_) on_store_error_();
    return 0;
  }
  if (!messages.empty() && on_enqueued_) on_enqueued_();
  return messages.size();
}

std::size_t AlertPipeline::on_results(const Subject& subject, const std::vector<Result>& results) {
  std::lock_guard lock(mu_);
  std::vector<AlertEvent> events;
  for (const auto& r : results) {
    auto ev = engine_.on_result(subject, r);
    events.insert(events.end(), std::make_move_iterator(ev.begin()), std::make_move_iterator(ev.end()));
  }
  return apply(events);
}

std::size_t AlertPipeline::tick() {
  std::lock_guard lock(mu_);
  return apply(engine_.tick());
}

}  // namespace xj::alerts
