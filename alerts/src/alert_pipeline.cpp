#include "xj/alerts/alert_pipeline.hpp"

#include <spdlog/spdlog.h>

#include "xj/alerts/message_builder.hpp"

namespace xj::alerts {

AlertPipeline::AlertPipeline(AlertStore& store, AlertsConfig config,
                             std::map<std::string, std::size_t> max_text_bytes, Clock clock)
    : store_(store), cfg_(std::move(config)), max_bytes_(std::move(max_text_bytes)),
      clock_(clock), engine_(cfg_.rules, clock), incidents_(cfg_.incidents, clock), silences_(cfg_.maintenance) {
  routing_.routes = cfg_.routes;
  routing_.default_route = cfg_.default_route;
  routing_.people = cfg_.people;
  routing_.duty = cfg_.duty;
  for (const auto& c : cfg_.channels) routing_.channel_types[c.name] = c.type;
}

void AlertPipeline::restore() {
  std::lock_guard lock(mu_);
  engine_.restore(store_.active_alerts());
  IncidentFilter f;
  f.active_only = true;
  f.limit = 100'000;
  incidents_.restore(store_.incidents(f), store_.max_incident_id());
  silences_ = store_.silences();
  silences_.insert(silences_.end(), cfg_.maintenance.begin(), cfg_.maintenance.end());
  suppressed_.clear();
  for (auto& k : store_.suppressed_firing()) suppressed_.insert(std::move(k));
}

std::vector<Alert> AlertPipeline::active() {
  std::lock_guard lock(mu_);
  return engine_.active();
}

std::vector<Delivery> AlertPipeline::deliveries_for(const Alert& a, std::int64_t now) const {
  const std::int64_t at = a.fired_ms != 0 ? a.fired_ms : now;
  std::vector<Delivery> out;
  for (const Route* r : routing_.routes_for(a, at, cfg_.holidays)) {
    for (auto& d : routing_.deliveries(r->target(), at, cfg_.holidays)) {
      if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(std::move(d));
    }
  }
  if (out.empty() && routing_.routes_for(a, at, cfg_.holidays).empty()) {
    // No routes, or none matched and no default route: every channel, never nobody.
    Target all{{}, {}};
    for (const auto& c : cfg_.channels) all.channels.push_back(c.name);
    if (cfg_.duty.configured()) all.people.push_back(kOnDuty);
    out = routing_.deliveries(all, at, cfg_.holidays);
  }
  return out;
}

std::vector<Delivery> AlertPipeline::incident_deliveries(std::int64_t now) const {
  Target t{cfg_.incidents.channels, {}};
  if (t.channels.empty()) {
    for (const auto& c : cfg_.channels) t.channels.push_back(c.name);
  }
  if (cfg_.duty.configured()) t.people.push_back(kOnDuty);
  return routing_.deliveries(t, now, cfg_.holidays);
}

namespace {

std::map<std::string, std::string> alert_fields(const Alert& a, const Incident* incident) {
  std::map<std::string, std::string> f{{"severity", std::string(xj::to_string(a.severity))},
                                       {"host", a.host},
                                       {"check", a.check}};
  // The one line a group or digest lists for the alert (OutboxSender).
  if (!a.summary.empty()) f["summary"] = a.summary;
  if (auto sys = a.labels.find("system"); sys != a.labels.end()) f["system"] = sys->second;
  if (incident != nullptr) f["incident"] = incident_number(incident->id);
  return f;
}

std::map<std::string, std::string> incident_fields(const Incident& i) {
  return {{"incident", incident_number(i.id)}, {"level", std::string(to_string(i.level))},
          {"host", i.host}, {"system", i.system}};
}

}  // namespace

void AlertPipeline::enqueue(std::vector<OutboxMessage>& out, const Render& render,
                            const std::map<std::string, std::string>& fields, const std::string& subject,
                            std::int64_t since, const std::string& transition,
                            const std::vector<Delivery>& deliveries, std::int64_t now,
                            const Recipients* recipients) const {
  std::map<std::pair<std::string, TextStyle>, std::string> texts;
  for (const auto& d : deliveries) {
    const std::string& ch = d.channel;
    const ChannelConfig* cc = nullptr;
    for (const auto& c : cfg_.channels) {
      if (c.name == ch) cc = &c;
    }
    MessageContext ctx = cfg_.message;
    if (cc != nullptr) {
      if (!cc->locale.empty()) ctx.locale = cc->locale;
      ctx.style = text_style(cc->type);
    }
    auto [it, fresh] = texts.try_emplace({ctx.locale, ctx.style});
    if (fresh) it->second = render(ctx);
    const std::string& text = it->second;
    auto lim = max_bytes_.find(ch);
    const std::size_t bytes = lim == max_bytes_.end() ? 4096 : lim->second;
    const std::size_t chars = cc != nullptr ? cc->max_chars : 0;
    const auto parts = cc != nullptr && cc->truncate ? std::vector<std::string>{truncate_utf8(text, bytes, chars)}
                                                     : split_utf8(text, bytes, chars);
    // A route names the person (d.recipient); a personal channel reached without one falls
    // back to the recipients given for it, else its own `to:` list.
    std::vector<std::string> to{d.recipient};
    if (cc != nullptr && personal_channel_type(cc->type) && d.recipient.empty()) {
      auto r = recipients != nullptr ? recipients->find(ch) : Recipients::const_iterator{};
      to = recipients != nullptr && r != recipients->end() ? r->second : cc->to;
      if (to.empty()) spdlog::warn("event=alert_no_recipients channel={} subject={}", ch, subject);
    }
    for (const auto& rcpt : to) {
      for (std::size_t i = 0; i < parts.size(); ++i) {
        OutboxMessage m;
        m.idempotency_key = idempotency_key(subject, since, transition, ch, rcpt, static_cast<int>(i + 1));
        m.fingerprint = subject;
        m.transition = transition;
        m.channel = ch;
        m.recipient = rcpt;
        m.text = parts[i];
        m.fields = fields;
        m.created_ms = now;
        m.next_attempt_ms = now;
        out.push_back(std::move(m));
      }
    }
  }
}

const Silence* AlertPipeline::muting(const Alert& a, std::int64_t now, bool maintenance_only) const {
  for (const auto& s : silences_) {
    if (maintenance_only && !s.maintenance) continue;
    if (s.matches(a) && s.active_at(now, cfg_.holidays)) return &s;
  }
  return nullptr;
}

std::size_t AlertPipeline::release_unmuted(std::int64_t now) {
  std::size_t released = 0;
  for (const auto& a : engine_.active()) {
    const std::pair key{a.fingerprint, a.since_ms};
    if (a.state != AlertState::kFiring || !suppressed_.count(key) || muting(a, now, false)) continue;
    if (auto r = store_.release_suppressed(a.fingerprint, a.since_ms, now); !r) {
      spdlog::error("event=alert_release_failed fingerprint={} error=\"{}\"", a.fingerprint, r.error());
      continue;
    }
    suppressed_.erase(key);
    ++released;
    spdlog::info("event=alert_released host={} check={} fingerprint={}", a.host, a.check, a.fingerprint);
  }
  return released;
}

std::size_t AlertPipeline::apply(const std::vector<AlertEvent>& events, std::vector<IncidentNotice> notices,
                                 IncidentChanges changes) {
  AlertChanges c;
  c.incidents = std::move(changes);
  const std::int64_t now = clock_();
  std::vector<std::pair<std::string, std::int64_t>> muted, unmuted;
  std::size_t suppressed = 0;
  for (const auto& ev : events) {
    c.alerts.push_back(ev.alert);
    if (!ev.transition) continue;
    const bool firing = *ev.transition == Transition::kFiring;
    const std::pair key{ev.alert.fingerprint, ev.alert.since_ms};
    // Muted now, or a recovery whose alert was never announced: never "recovered" alone.
    const Silence* mute = muting(ev.alert, now, false);
    std::string reason = mute ? "muted by " + mute->label() : "";
    if (!firing && reason.empty() && suppressed_.count(key)) reason = "its alert message was suppressed";
    // Planned work is not a fault: no incident is opened during a maintenance window.
    const bool maintenance = firing && muting(ev.alert, now, true) != nullptr;
    // The incident first: the alert's message names its number.
    const auto incident = maintenance ? std::nullopt : incidents_.on_alert(ev.alert, *ev.transition, c.incidents);
    const Incident* inc = incident ? &*incident : nullptr;
    const Render text = [&](const MessageContext& ctx) {
      return render_message(ev.alert, *ev.transition, ctx, inc);
    };
    const std::string tr(to_string(*ev.transition));
    const std::size_t first = c.messages.size();
    enqueue(c.messages, text, alert_fields(ev.alert, inc), ev.alert.fingerprint, ev.alert.since_ms, tr,
            deliveries_for(ev.alert, now), now);
    if (!reason.empty()) {
      for (std::size_t i = first; i < c.messages.size(); ++i) {
        c.messages[i].status = DeliveryStatus::kSuppressed;
        c.messages[i].last_error = reason;
        ++suppressed;
      }
      if (firing) muted.push_back(key);
    }
    if (!firing) unmuted.push_back(key);
    spdlog::info("event=alert_{} rule={} host={} check={} severity={} fingerprint={} incident={}{}", tr,
                 ev.alert.rule, ev.alert.host, ev.alert.check, xj::to_string(ev.alert.severity),
                 ev.alert.fingerprint, incident ? incident_number(incident->id) : "-",
                 reason.empty() ? "" : " suppressed=\"" + reason + "\"");
  }
  for (const auto& n : notices) {
    enqueue(c.messages, [&](const MessageContext& ctx) { return render_incident_notice(n, ctx); },
            incident_fields(n.incident), incident_number(n.incident.id), 0, n.kind, incident_deliveries(now), now);
    spdlog::info("event=incident_{} incident={} level={}", n.kind, incident_number(n.incident.id),
                 to_string(n.incident.level));
  }
  if (c.alerts.empty() && c.messages.empty() && c.incidents.empty()) return 0;
  if (auto r = store_.commit(c); !r) {
    // The engine has moved on; the next result of the check re-evaluates against it, but these
    // messages are lost. Loud, and counted. The incidents are read back as the store has them.
    spdlog::error("event=alert_commit_failed alerts={} messages={} error=\"{}\"", c.alerts.size(),
                  c.messages.size(), r.error());
    IncidentFilter f;
    f.active_only = true;
    f.limit = 100'000;
    incidents_.restore(store_.incidents(f), store_.max_incident_id());
    if (on_store_error_) on_store_error_();
    return 0;
  }
  for (auto& k : unmuted) suppressed_.erase(k);
  for (auto& k : muted) suppressed_.insert(std::move(k));
  if (c.messages.size() > suppressed && on_enqueued_) on_enqueued_();
  return c.messages.size() - suppressed;
}

std::size_t AlertPipeline::on_results(const Subject& subject, const std::vector<Result>& results) {
  std::lock_guard lock(mu_);
  std::vector<AlertEvent> events;
  for (const auto& r : results) {
    auto ev = engine_.on_result(subject, r);
    events.insert(events.end(), std::make_move_iterator(ev.begin()), std::make_move_iterator(ev.end()));
  }
  return apply(events, {}, {});
}

std::size_t AlertPipeline::on_external(const std::vector<ExternalAlert>& alerts) {
  std::lock_guard lock(mu_);
  std::vector<AlertEvent> events;
  for (const auto& x : alerts) {
    auto ev = engine_.on_external(x);
    events.insert(events.end(), std::make_move_iterator(ev.begin()), std::make_move_iterator(ev.end()));
  }
  return apply(events, {}, {});
}

std::size_t AlertPipeline::tick() {
  std::lock_guard lock(mu_);
  IncidentChanges changes;
  std::vector<IncidentNotice> notices;
  incidents_.tick(changes, notices);
  const std::size_t released =
      release_unmuted(clock_()) + repeat_unacknowledged(clock_()) + escalate_unacknowledged(clock_());
  if (released > 0 && on_enqueued_) on_enqueued_();
  return released + apply(engine_.tick(), std::move(notices), std::move(changes));
}

std::size_t AlertPipeline::repeat_unacknowledged(std::int64_t now) {
  const std::int64_t every = cfg_.repeat_interval.count();
  if (every <= 0) return 0;
  AlertChanges c;
  std::vector<std::pair<std::pair<std::string, std::int64_t>, std::int64_t>> done;
  for (const auto& a : engine_.active()) {
    if (a.state != AlertState::kFiring || a.fired_ms == 0) continue;
    const std::pair key{a.fingerprint, a.since_ms};
    // The n-th reminder is due n intervals after firing; its number is part of its key, so a
    // reminder replayed after a restart is never enqueued twice.
    const std::int64_t n = (now - a.fired_ms) / every;
    auto last = repeats_.find(key);
    if (n < 1 || (last != repeats_.end() && last->second >= n)) continue;
    if (suppressed_.count(key) || muting(a, now, false) || incidents_.acknowledged(a)) continue;
    auto incident = incidents_.incident_of(a);
    const Incident* inc = incident ? &*incident : nullptr;
    const Render text = [&](const MessageContext& ctx) {
      return render_message(a, Transition::kFiring, ctx, inc, static_cast<int>(n));
    };
    enqueue(c.messages, text, alert_fields(a, inc), a.fingerprint, a.since_ms, "repeat" + std::to_string(n),
            deliveries_for(a, now), now);
    done.emplace_back(key, n);
  }
  if (c.messages.empty()) return 0;
  if (auto r = store_.commit(c); !r) {
    spdlog::error("event=alert_repeat_failed messages={} error=\"{}\"", c.messages.size(), r.error());
    if (on_store_error_) on_store_error_();
    return 0;
  }
  for (const auto& [key, n] : done) {
    repeats_[key] = n;
    spdlog::info("event=alert_repeat fingerprint={} n={}", key.first, n);
  }
  return c.messages.size();
}

std::size_t AlertPipeline::escalate_unacknowledged(std::int64_t now) {
  AlertChanges c;
  std::vector<std::string> done;
  for (const auto& a : engine_.active()) {
    if (a.state != AlertState::kFiring || a.fired_ms == 0) continue;
    const std::pair episode{a.fingerprint, a.since_ms};
    if (suppressed_.count(episode) || muting(a, now, false) || incidents_.acknowledged(a)) continue;
    for (const Route* r : routing_.routes_for(a, a.fired_ms, cfg_.holidays)) {
      for (std::size_t i = 0; i < r->escalate.size(); ++i) {
        const EscalationLevel& level = r->escalate[i];
        const std::int64_t due = a.fired_ms + level.after.count();
        const int n = static_cast<int>(i) + 2;  // level 1 is the route itself
        const std::string mark = a.fingerprint + "/" + std::to_string(a.since_ms) + "/" + r->name + "/" + std::to_string(n);
        if (now < due || escalated_.count(mark)) continue;
        const auto to = routing_.deliveries(level.target, due, cfg_.holidays);
        const std::string tr = "escalate" + std::to_string(n);
        // Enqueued before a restart: the outbox has it (its key is unique); not again, and no
        // second timeline line.
        if (to.empty() || store_.has_message(idempotency_key(a.fingerprint, a.since_ms, tr, to[0].channel,
                                                             to[0].recipient, 1))) {
          escalated_.insert(mark);
          continue;
        }
        std::string names;
        for (const auto& d : to) {
          auto p = routing_.people.find(d.person);
          names += (names.empty() ? "" : "、") + (p != routing_.people.end() ? p->second.name + "（" + d.channel + "）" : d.channel);
        }
        const EscalationInfo info{n, now - a.fired_ms, names};
        const auto incident = incidents_.incident_of(a);
        const Incident* inc = incident ? &*incident : nullptr;
        const Render text = [&](const MessageContext& ctx) {
          return render_message(a, Transition::kFiring, ctx, inc, 0, &info);
        };
        enqueue(c.messages, text, alert_fields(a, inc), a.fingerprint, a.since_ms, tr, to, now);
        if (incident) {
          c.incidents.timeline.push_back(TimelineEntry{0, incident->id, now, "escalated", "collector",
                                                       a.host + " " + a.check + "：第 " + std::to_string(n) +
                                                           " 级，" + names});
        }
        done.push_back(mark);
      }
    }
  }
  if (c.messages.empty()) return 0;
  if (auto r = store_.commit(c); !r) {
    spdlog::error("event=alert_escalate_failed messages={} error=\"{}\"", c.messages.size(), r.error());
    if (on_store_error_) on_store_error_();
    return 0;
  }
  for (auto& mark : done) {
    spdlog::info("event=alert_escalated level={}", mark);
    escalated_.insert(std::move(mark));
  }
  return c.messages.size();
}

Expected<Silence, ActionError> AlertPipeline::add_silence(Silence s) {
  if (s.matchers.empty()) return ActionError{400, "a silence needs at least one matcher (it would match everything)"};
  if (!s.recurrence && (s.starts_ms == 0 || s.ends_ms == 0)) {
    return ActionError{400, "a one-off silence needs its start and end"};
  }
  if (s.ends_ms != 0 && s.ends_ms <= s.starts_ms) return ActionError{400, "the end is not after the start"};
  std::lock_guard lock(mu_);
  s.created_ms = clock_();
  if (s.starts_ms == 0) s.starts_ms = s.created_ms;
  auto id = store_.add_silence(s);
  if (!id) return ActionError{500, id.error()};
  s.id = *id;
  silences_.insert(silences_.begin(), s);
  spdlog::info("event=silence_added id={} author={} matchers={}", s.label(), s.author, s.matchers.size());
  return s;
}

Expected<Silence, ActionError> AlertPipeline::end_silence(std::int64_t id) {
  std::lock_guard lock(mu_);
  const std::int64_t now = clock_();
  for (auto& s : silences_) {
    if (s.id != id) continue;
    if (s.from_config) {
      return ActionError{409, s.label() + " is defined in collector.yaml (alerts.maintenance); change it there"};
    }
    if (s.ended_ms != 0 || (s.ends_ms != 0 && now >= s.ends_ms)) {
      return ActionError{409, s.label() + " has already ended"};
    }
    if (auto r = store_.end_silence(id, now); !r) return ActionError{500, r.error()};
    s.ended_ms = now;
    spdlog::info("event=silence_ended id={}", s.label());
    return s;
  }
  return ActionError{404, "no silence or maintenance window " + std::to_string(id)};
}

std::vector<Silence> AlertPipeline::silences() {
  std::lock_guard lock(mu_);
  return silences_;
}

Expected<Incident, ActionError> AlertPipeline::act(std::int64_t id, const IncidentAction& action) {
  std::lock_guard lock(mu_);
  auto current = incidents_.find_active(id);
  if (!current) current = store_.incident(id);
  if (!current) return ActionError{404, "no incident " + incident_number(id)};
  AlertChanges c;
  auto next = incidents_.act(*current, action, c.incidents);
  if (!next) return next;
  if (auto r = store_.commit(c); !r) return ActionError{500, r.error()};
  incidents_.applied(*next);
  spdlog::info("event=incident_{} incident={} actor={} state={}", to_string(action.kind), incident_number(id),
               action.actor, to_string(next->state));
  return next;
}

Expected<Incident, ActionError> AlertPipeline::open_incident(const NewIncident& n) {
  std::lock_guard lock(mu_);
  AlertChanges c;
  std::vector<IncidentNotice> notices;
  auto opened = incidents_.open(n, c.incidents, notices);
  if (!opened) return opened;
  const std::int64_t now = clock_();
  for (const auto& notice : notices) {
    enqueue(c.messages, [&](const MessageContext& ctx) { return render_incident_notice(notice, ctx); },
            incident_fields(notice.incident), incident_number(notice.incident.id), 0, notice.kind,
            incident_deliveries(now), now);
  }
  if (auto r = store_.commit(c); !r) return ActionError{500, r.error()};
  incidents_.applied(*opened);
  spdlog::info("event=incident_opened incident={} level={} actor={}", incident_number(opened->id),
               to_string(opened->level), n.actor);
  if (!c.messages.empty() && on_enqueued_) on_enqueued_();
  return opened;
}

}  // namespace xj::alerts
