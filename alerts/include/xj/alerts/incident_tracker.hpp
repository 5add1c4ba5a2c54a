// IncidentTracker: the incident rules. Alerts whose level (from severity and labels) is one
// of `open_levels` open an incident, or join the active incident of their host; when every
// linked alert has resolved the incident resolves itself (`auto_resolve`). Deadlines come
// from the contract; at 80 % of a running deadline a notice goes out once, at 100 % the
// breach is flagged (and announced). Operators acknowledge, note, resolve and close.
//
// Pure logic with an injected clock: it returns what changed and what to announce; the
// AlertPipeline commits that together with the alert changes. Not thread-safe (the
// pipeline's mutex serialises it).
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "xj/alerts/alert.hpp"
#include "xj/alerts/incident.hpp"
#include "xj/common/expected.hpp"

namespace xj::alerts {

// First matching rule gives an alert its level; without a match: critical P1, unknown P3
// (a check that cannot measure, no data), warning P4 — the design's severity mapping.
struct LevelRule {
  std::set<Status> severities;  // empty: any
  Labels labels;                // every one must match the alert's host labels
  std::string check;            // "" any; else the check id ("host:alive", "proc:nginx")
  IncidentLevel level = IncidentLevel::kP1;
};

struct IncidentOptions {
  bool enabled = true;
  std::set<IncidentLevel> open_levels{IncidentLevel::kP1, IncidentLevel::kP2};
  std::vector<LevelRule> levels;
  bool auto_resolve = true;
  double warn_at = 0.8;               // share of a deadline at which the notice goes out
  std::vector<std::string> channels;  // for incident notices; empty: every channel
  ContractDeadlines deadlines = default_deadlines();
};

IncidentLevel level_for(const IncidentOptions& o, const Alert& a);

// What one step changed: incidents in their full new state, and new timeline lines.
struct IncidentChanges {
  std::vector<Incident> incidents;
  std::vector<TimelineEntry> timeline;
  bool empty() const { return incidents.empty() && timeline.empty(); }
};

// Something to tell the people on duty about an incident (not an alert message).
struct IncidentNotice {
  Incident incident;
  // opened (by an operator), respond_warning, repair_warning, respond_breached, repair_breached
  std::string kind;
  std::int64_t at_ms = 0;  // when it was raised
};

enum class ActionKind { kAcknowledge, kNote, kResolve, kClose };
std::string_view to_string(ActionKind k);  // "ack", "note", "resolve", "close"

struct IncidentAction {
  ActionKind kind = ActionKind::kNote;
  std::string actor;  // "api:alice"
  std::string text;   // the note (required for kNote, optional otherwise)
  std::string impact, cause, handling;  // resolve / close: for the fault report
};

struct NewIncident {
  std::string title;  // required
  IncidentLevel level = IncidentLevel::kP3;
  std::string host, system, description;
  std::string actor;
};

// 400 bad request, 404 no such incident, 409 not possible in its state.
struct ActionError {
  int status = 400;
  std::string message;
};

class IncidentTracker {
 public:
  using Clock = std::function<std::int64_t()>;
  IncidentTracker(IncidentOptions options, Clock clock);

  // Active incidents from the store and the highest number ever given.
  void restore(const std::vector<Incident>& active, std::int64_t max_id);

  // An alert went firing or resolved. Returns the incident it belongs to (after the change),
  // so its message can name the incident number.
  std::optional<Incident> on_alert(const Alert& a, Transition t, IncidentChanges& out);
  // Deadline notices and breaches due now.
  void tick(IncidentChanges& out, std::vector<IncidentNotice>& notices);

  // An operator action on `current` (the stored incident). Returns the incident after it and
  // adds the changes; the tracker takes the new state only through `applied()`, once the
  // changes are committed.
  Expected<Incident, ActionError> act(const Incident& current, const IncidentAction& action,
                                      IncidentChanges& out) const;
  Expected<Incident, ActionError> open(const NewIncident& n, IncidentChanges& out, std::vector<IncidentNotice>& notices);
  // Takes a committed incident state (after act/open) into the active set.
  void applied(const Incident& i);

  const IncidentOptions& options() const { return opt_; }
  std::vector<Incident> active() const;
  std::optional<Incident> find_active(std::int64_t id) const;
  // True when the alert episode belongs to an active incident someone acknowledged.
  bool acknowledged(const Alert& a) const;
  // The active incident the alert episode belongs to, if any.
  std::optional<Incident> incident_of(const Alert& a) const;

 private:
  Incident* active_for_host(const std::string& host);
  TimelineEntry line(const Incident& i, std::string kind, std::string actor, std::string text) const;
  void resolve_by_collector(Incident& i, std::int64_t at, IncidentChanges& out);

  IncidentOptions opt_;
  Clock clock_;
  std::int64_t max_id_ = 0;
  std::map<std::int64_t, Incident> active_;
};

}  // namespace xj::alerts
