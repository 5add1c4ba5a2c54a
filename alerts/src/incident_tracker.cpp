#include "xj/alerts/incident_tracker.hpp"

#include <algorithm>

namespace xj::alerts {

std::string_view to_string(ActionKind k) {
  switch (k) {
    case ActionKind::kAcknowledge: return "ack";
    case ActionKind::kNote: return "note";
    case ActionKind::kResolve: return "resolve";
    case ActionKind::kClose: return "close";
  }
  return "note";
}

IncidentLevel level_for(const IncidentOptions& o, const Alert& a) {
  for (const auto& r : o.levels) {
    if (!r.severities.empty() && !r.severities.count(a.severity)) continue;
    if (!r.check.empty() && r.check != a.check) continue;
    bool labels_match = true;
    for (const auto& [k, v] : r.labels) {
      auto it = a.labels.find(k);
      labels_match = labels_match && it != a.labels.end() && it->second == v;
    }
    if (labels_match) return r.level;
  }
  switch (a.severity) {
    case Status::kCritical: return IncidentLevel::kP1;
    case Status::kUnknown: return IncidentLevel::kP3;
    default: return IncidentLevel::kP4;
  }
}

namespace {

std::string alert_text(const Alert& a) {
  std::string s = a.host + " " + a.check;
  if (!a.summary.empty()) s += ": " + a.summary;
  return s;
}

std::string system_of(const Alert& a) {
  auto it = a.labels.find("system");
  return it == a.labels.end() ? std::string() : it->second;
}

void upsert(std::vector<Incident>& list, const Incident& i) {
  for (auto& x : list) {
    if (x.id == i.id) {
      x = i;
      return;
    }
  }
  list.push_back(i);
}

}  // namespace

IncidentTracker::IncidentTracker(IncidentOptions options, Clock clock)
    : opt_(std::move(options)), clock_(std::move(clock)) {}

void IncidentTracker::restore(const std::vector<Incident>& active, std::int64_t max_id) {
  active_.clear();
  max_id_ = max_id;
  for (const auto& i : active) {
    max_id_ = std::max(max_id_, i.id);
    if (i.active()) active_[i.id] = i;
  }
}

TimelineEntry IncidentTracker::line(const Incident& i, std::string kind, std::string actor,
                                    std::string text) const {
  TimelineEntry e;
  e.incident = i.id;
  e.ts_ms = clock_();
  e.kind = std::move(kind);
  e.actor = std::move(actor);
  e.text = std::move(text);
  return e;
}

Incident* IncidentTracker::active_for_host(const std::string& host) {
  for (auto& [id, i] : active_) {
    if (i.host == host && i.source == "alert") return &i;
  }
  return nullptr;
}

void IncidentTracker::resolve_by_collector(Incident& i, std::int64_t at, IncidentChanges& out) {
  i.state = IncidentState::kResolved;
  i.resolved_ms = at;
  i.resolved_by = "collector";
  out.timeline.push_back(line(i, "resolved", "collector", ""));
}

std::optional<Incident> IncidentTracker::on_alert(const Alert& a, Transition t, IncidentChanges& out) {
  if (!opt_.enabled) return std::nullopt;
  const std::int64_t now = clock_();
  if (t == Transition::kResolved) {
    for (auto it = active_.begin(); it != active_.end(); ++it) {
      Incident& i = it->second;
      auto link = std::find_if(i.alerts.begin(), i.alerts.end(), [&](const IncidentAlert& l) {
        return l.fingerprint == a.fingerprint && l.since_ms == a.since_ms;
      });
      if (link == i.alerts.end()) continue;
      link->resolved_ms = a.resolved_ms != 0 ? a.resolved_ms : now;
      out.timeline.push_back(line(i, "alert_resolved", "collector", alert_text(a)));
      const bool all = std::all_of(i.alerts.begin(), i.alerts.end(),
                                   [](const IncidentAlert& l) { return l.resolved_ms != 0; });
      if (all && opt_.auto_resolve) resolve_by_collector(i, now, out);
      Incident copy = i;
      upsert(out.incidents, copy);
      if (!i.active()) active_.erase(it);
      return copy;
    }
    return std::nullopt;
  }
  const IncidentLevel level = level_for(opt_, a);
  if (!opt_.open_levels.count(level)) return std::nullopt;
  IncidentAlert link{a.fingerprint, a.since_ms, a.host, a.check, now, 0};
  if (Incident* i = active_for_host(a.host)) {
    for (const auto& l : i->alerts) {
      if (l.fingerprint == a.fingerprint && l.since_ms == a.since_ms) return *i;  // replayed
    }
    i->alerts.push_back(link);
    out.timeline.push_back(line(*i, "alert_firing", "collector", alert_text(a)));
    if (static_cast<int>(level) < static_cast<int>(i->level)) {
      // A worse alert joined: the incident takes its level; deadlines still run from opening.
      out.timeline.push_back(line(*i, "level_raised", "collector",
                                  std::string(to_string(i->level)) + " -> " + std::string(to_string(level))));
      i->level = level;
      set_deadlines(*i, opt_.deadlines);
    }
    upsert(out.incidents, *i);
    return *i;
  }
  Incident i;
  i.id = ++max_id_;
  i.title = a.host + " " + a.check;
  i.level = level;
  i.source = "alert";
  i.host = a.host;
  i.system = system_of(a);
  i.opened_by = "collector";
  i.opened_ms = now;
  i.description = a.summary;
  i.alerts.push_back(link);
  set_deadlines(i, opt_.deadlines);
  out.timeline.push_back(line(i, "opened", "collector", std::string(to_string(level))));
  out.timeline.push_back(line(i, "alert_firing", "collector", alert_text(a)));
  active_[i.id] = i;
  upsert(out.incidents, i);
  return i;
}

void IncidentTracker::tick(IncidentChanges& out, std::vector<IncidentNotice>& notices) {
  if (!opt_.enabled) return;
  const std::int64_t now = clock_();
  for (auto& [id, i] : active_) {
    bool changed = false;
    auto check = [&](bool running, std::int64_t due, bool& warned, bool& breached, const char* warn_kind,
                     const char* breach_kind) {
      if (!running) return;
      const auto span = due - i.opened_ms;
      const auto warn_at = i.opened_ms + static_cast<std::int64_t>(static_cast<double>(span) * opt_.warn_at);
      if (!warned && !breached && now >= warn_at && now < due) {
        warned = true;
        changed = true;
        out.timeline.push_back(line(i, warn_kind, "collector", ""));
        notices.push_back({i, warn_kind, now});
      }
      if (!breached && now >= due) {
        breached = true;
        warned = true;
        changed = true;
        out.timeline.push_back(line(i, breach_kind, "collector", ""));
        notices.push_back({i, breach_kind, now});
      }
    };
    check(i.responded_ms() == 0, i.respond_due_ms, i.respond_warned, i.respond_breached, "respond_warning",
          "respond_breached");
    check(i.resolved_ms == 0, i.repair_due_ms, i.repair_warned, i.repair_breached, "repair_warning",
          "repair_breached");
    if (changed) {
      for (auto& n : notices) {
        if (n.incident.id == i.id) n.incident = i;  // the notice carries the flags it set
      }
      upsert(out.incidents, i);
    }
  }
}

Expected<Incident, ActionError> IncidentTracker::act(const Incident& current, const IncidentAction& a,
                                                     IncidentChanges& out) const {
  const std::int64_t now = clock_();
  Incident i = current;
  const std::string number = incident_number(i.id);
  auto refuse = [&](const std::string& why) {
    return ActionError{409, number + " is " + std::string(to_string(i.state)) + ": " + why};
  };
  if (i.state == IncidentState::kClosed) return refuse("a closed incident takes no more changes");
  switch (a.kind) {
    case ActionKind::kAcknowledge:
      if (i.state != IncidentState::kOpen) return refuse("only an open incident can be acknowledged");
      i.state = IncidentState::kAcknowledged;
      i.acknowledged_ms = now;
      i.acknowledged_by = a.actor;
      // The flag records the fact, whatever the tick saw: late is late.
      if (i.resolved_ms == 0 && now > i.respond_due_ms) i.respond_breached = true;
      out.timeline.push_back(line(i, "acknowledged", a.actor, a.text));
      break;
    case ActionKind::kNote:
      if (a.text.empty()) return ActionError{400, "a note needs its text"};
      out.timeline.push_back(line(i, "note", a.actor, a.text));
      break;
    case ActionKind::kResolve:
      if (!i.active()) return refuse("only an open or acknowledged incident can be resolved");
      i.state = IncidentState::kResolved;
      i.resolved_ms = now;
      i.resolved_by = a.actor;
      if (now > i.repair_due_ms) i.repair_breached = true;
      if (i.acknowledged_ms == 0 && now > i.respond_due_ms) i.respond_breached = true;
      out.timeline.push_back(line(i, "resolved", a.actor, a.text));
      break;
    case ActionKind::kClose:
      if (i.state != IncidentState::kResolved) return refuse("resolve it before closing it");
      i.state = IncidentState::kClosed;
      i.closed_ms = now;
      i.closed_by = a.actor;
      out.timeline.push_back(line(i, "closed", a.actor, a.text));
      break;
  }
  if (!a.impact.empty()) i.impact = a.impact;
  if (!a.cause.empty()) i.cause = a.cause;
  if (!a.handling.empty()) i.handling = a.handling;
  upsert(out.incidents, i);
  return i;
}

Expected<Incident, ActionError> IncidentTracker::open(const NewIncident& n, IncidentChanges& out,
                                                      std::vector<IncidentNotice>& notices) {
  if (n.title.empty()) return ActionError{400, "an incident needs a title"};
  Incident i;
  i.id = max_id_ + 1;  // taken for good in applied()
  i.title = n.title;
  i.level = n.level;
  i.source = "operator";
  i.host = n.host;
  i.system = n.system;
  i.description = n.description;
  i.opened_by = n.actor;
  i.opened_ms = clock_();
  set_deadlines(i, opt_.deadlines);
  out.timeline.push_back(line(i, "opened", n.actor, std::string(to_string(n.level))));
  upsert(out.incidents, i);
  notices.push_back({i, "opened", i.opened_ms});
  return i;
}

void IncidentTracker::applied(const Incident& i) {
  max_id_ = std::max(max_id_, i.id);
  if (i.active()) {
    active_[i.id] = i;
  } else {
    active_.erase(i.id);
  }
}

std::vector<Incident> IncidentTracker::active() const {
  std::vector<Incident> out;
  for (const auto& [id, i] : active_) out.push_back(i);
  return out;
}

std::optional<Incident> IncidentTracker::incident_of(const Alert& a) const {
  for (const auto& [id, i] : active_) {
    for (const auto& l : i.alerts) {
      if (l.fingerprint == a.fingerprint && l.since_ms == a.since_ms) return i;
    }
  }
  return std::nullopt;
}

bool IncidentTracker::acknowledged(const Alert& a) const {
  auto i = incident_of(a);
  return i && i->state == IncidentState::kAcknowledged;
}

std::optional<Incident> IncidentTracker::find_active(std::int64_t id) const {
  auto it = active_.find(id);
  if (it == active_.end()) return std::nullopt;
  return it->second;
}

}  // namespace xj::alerts
