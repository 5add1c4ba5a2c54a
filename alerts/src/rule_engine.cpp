#include "xj/alerts/rule_engine.hpp"

namespace xj::alerts {

RuleEngine::RuleEngine(RuleOptions options, Clock clock)
    : opt_(options), clock_(std::move(clock)) {}

void RuleEngine::restore(const std::vector<Alert>& active) {
  for (const auto& a : active) {
    if (a.state == AlertState::kResolved) continue;
    if (a.kind == AlertKind::kMetric) {
      restore_metric_alert(a);
    } else {
      active_[a.fingerprint] = a;
    }
  }
}

std::vector<Alert> RuleEngine::active() const {
  std::vector<Alert> out;
  for (const auto& [fp, a] : active_) out.push_back(a);
  return out;
}

std::chrono::milliseconds RuleEngine::hold_for(const std::string& check, Status s) const {
  if (check == kHostAliveCheck && s == Status::kCritical) return opt_.for_host_down;
  switch (s) {
    case Status::kCritical: return opt_.for_critical;
    case Status::kWarning: return opt_.for_warning;
    default: return opt_.for_unknown;
  }
}

Alert* RuleEngine::find(AlertKind kind, const std::string& host, const std::string& check) {
  // Labels are part of the fingerprint, so look up by identity fields instead: a host whose
  // labels changed keeps its active alerts.
  for (auto& [fp, a] : active_) {
    if (a.kind == kind && a.host == host && a.check == check) return &a;
  }
  return nullptr;
}

Alert& RuleEngine::alert_for(AlertKind kind, const CheckTrack& t, const std::string& check) {
  Alert a;
  a.kind = kind;
  a.rule = std::string(to_string(kind));
  a.host = t.subject.host;
  a.check = check;
  a.labels = t.subject.labels;
  a.fingerprint = fingerprint(a.rule, a.host, a.check, a.labels);
  return active_[a.fingerprint] = std::move(a);
}

void RuleEngine::resolve(Alert& a, std::int64_t at, std::vector<AlertEvent>& out) {
  const bool was_firing = a.state == AlertState::kFiring;
  a.state = AlertState::kResolved;
  a.resolved_ms = at;
  // A pending alert that goes away was never announced: record it, send nothing.
  out.push_back({a, was_firing ? std::optional(Transition::kResolved) : std::nullopt});
  const std::string fp = a.fingerprint;  // `a` lives in the map: copy the key before erasing
  active_.erase(fp);
}

std::vector<AlertEvent> RuleEngine::on_result(const Subject& subject, const Result& r) {
  std::vector<AlertEvent> out;
  CheckTrack& t = tracks_[{subject.host, r.check}];
  // A retried batch or a backfilled old result must not move the state back in time.
  if (t.seen && r.ts_ms <= t.last_ts) return out;
  t.subject = subject;
  if (t.seen) {
    t.interval.add_gap(r.ts_ms - t.last_ts);
    if (r.status != t.last_status) t.changes.push_back(r.ts_ms);
  }
  t.last_ts = r.ts_ms;
  t.last_arrival = clock_();
  t.last_status = r.status;
  t.seen = true;

  if (Alert* nd = find(AlertKind::kNoData, subject.host, r.check)) resolve(*nd, t.last_arrival, out);
  evaluate_flapping(t, r, out);
  // While a check flaps its status alert is frozen: the one flapping alert speaks for it.
  if (find(AlertKind::kFlapping, subject.host, r.check) == nullptr) {
    auto ev = evaluate_status(t, r);
    out.insert(out.end(), ev.begin(), ev.end());
  }
  evaluate_metrics(t, r, out);
  return out;
}

void RuleEngine::evaluate_flapping(CheckTrack& t, const Result& r, std::vector<AlertEvent>& out) {
  while (!t.changes.empty() && t.changes.front() <= r.ts_ms - opt_.flap_window.count()) {
    t.changes.pop_front();
  }
  const int n = static_cast<int>(t.changes.size());
  Alert* flap = find(AlertKind::kFlapping, t.subject.host, r.check);
  if (flap == nullptr) {
    if (opt_.flap_changes <= 0 || n < opt_.flap_changes) return;
    // A pending status alert would only add noise; a firing one stays, frozen, so its
    // recovery can still be announced once the check settles.
    if (Alert* st = find(AlertKind::kStatus, t.subject.host, r.check);
        st != nullptr && st->state == AlertState::kPending) {
      resolve(*st, r.ts_ms, out);
    }
    Alert& a = alert_for(AlertKind::kFlapping, t, r.check);
    a.state = AlertState::kFiring;
    a.severity = Status::kWarning;
    a.since_ms = t.changes.front();
    a.fired_ms = r.ts_ms;
    a.summary = r.summary;
    a.metrics = r.metrics;
    a.changes = n;
    out.push_back({a, Transition::kFiring});
    return;
  }
  flap->changes = std::max(flap->changes, n);
  flap->summary = r.summary;
  // Settled: no change for a whole window since it fired.
  if (n == 0 && r.ts_ms - flap->fired_ms >= opt_.flap_window.count()) {
    resolve(*flap, r.ts_ms, out);
    t.ok_since = 0;
  }
}

std::vector<AlertEvent> RuleEngine::evaluate_status(CheckTrack& t, const Result& r) {
  std::vector<AlertEvent> out;
  Alert* a = find(AlertKind::kStatus, t.subject.host, r.check);
  if (r.status == Status::kOk) {
    if (a == nullptr) return out;
    if (a->state == AlertState::kPending) {
      resolve(*a, r.ts_ms, out);
      return out;
    }
    if (t.ok_since == 0) t.ok_since = r.ts_ms;
    if (r.ts_ms - t.ok_since >= opt_.recover_for.count()) {
      a->summary = r.summary;
      // The problem lasted until the check first came back, not until hysteresis agreed.
      const std::int64_t back = t.ok_since;
      t.ok_since = 0;
      resolve(*a, back, out);
    }
    return out;
  }

  t.ok_since = 0;
  bool changed = false;
  if (a == nullptr) {
    a = &alert_for(AlertKind::kStatus, t, r.check);
    a->since_ms = r.ts_ms;
    a->severity = r.status;
    changed = true;
  }
  if (severity_rank(r.status) > severity_rank(a->severity)) {
    a->severity = r.status;
    changed = true;
  }
  a->summary = r.summary;
  if (a->state == AlertState::kPending) {
    a->metrics = r.metrics;
    if (r.ts_ms - a->since_ms >= hold_for(r.check, r.status).count()) {
      a->state = AlertState::kFiring;
      a->fired_ms = r.ts_ms;
      out.push_back({*a, Transition::kFiring});
      return out;
    }
  }
  if (changed) out.push_back({*a, std::nullopt});
  return out;
}

std::vector<AlertEvent> RuleEngine::on_external(const ExternalAlert& x) {
  std::vector<AlertEvent> out;
  const std::string fp = fingerprint(x.source, x.host, x.check, {{"fingerprint", x.source_fingerprint}});
  const std::int64_t now = clock_();
  auto it = active_.find(fp);
  if (!x.firing) {
    if (it != active_.end()) resolve(it->second, x.ends_ms != 0 ? x.ends_ms : now, out);
    return out;
  }
  if (it != active_.end()) {
    Alert& a = it->second;
    const bool changed = a.summary != x.summary || severity_rank(x.severity) > severity_rank(a.severity);
    a.summary = x.summary;
    if (severity_rank(x.severity) > severity_rank(a.severity)) a.severity = x.severity;
    if (changed) out.push_back({a, std::nullopt});
    return out;
  }
  Alert a;
  a.kind = AlertKind::kExternal;
  a.rule = x.source;
  a.fingerprint = fp;
  a.host = x.host;
  a.check = x.check;
  a.labels = x.labels;
  a.state = AlertState::kFiring;
  a.severity = x.severity;
  a.since_ms = x.starts_ms != 0 ? x.starts_ms : now;
  a.fired_ms = now;
  a.summary = x.summary;
  out.push_back({a, Transition::kFiring});
  active_[fp] = std::move(a);
  return out;
}

std::vector<AlertEvent> RuleEngine::tick() {
  std::vector<AlertEvent> out;
  const std::int64_t now = clock_();
  for (auto& a : retired_) {
    // Neither recovered nor still true: recorded as resolved, nothing sent.
    a.state = AlertState::kResolved;
    a.resolved_ms = now;
    out.push_back({std::move(a), std::nullopt});
  }
  retired_.clear();
  for (auto& [key, t] : tracks_) {
    const auto& [host, check] = key;
    // host:alive is written only when it changes, and a down host's checks are all silent:
    // the one host-down alert speaks for them.
    if (!t.seen || check == kHostAliveCheck) continue;
    if (find(AlertKind::kNoData, host, check) != nullptr) continue;
    if (Alert* down = find(AlertKind::kStatus, host, kHostAliveCheck)) {
      if (down->state != AlertState::kResolved) continue;
    }
    const std::int64_t interval =
        t.interval.ms() > 0 ? t.interval.ms() : opt_.default_interval.count();
    if (now - t.last_arrival <= interval * opt_.no_data_intervals) continue;
    Alert& a = alert_for(AlertKind::kNoData, t, check);
    a.state = AlertState::kFiring;
    a.severity = Status::kUnknown;
    a.since_ms = t.last_arrival;
    a.fired_ms = now;
    a.summary = "no result for " + std::to_string((now - t.last_arrival) / 1000) + "s";
    out.push_back({a, Transition::kFiring});
  }
  return out;
}

}  // namespace xj::alerts
