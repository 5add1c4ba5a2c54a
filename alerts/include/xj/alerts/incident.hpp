// Incident (故障单): one fault as the contract counts it, with a level P1-P4 (一级-四级故障),
// a response and a repair deadline taken from the contract, a state open -> acknowledged ->
// resolved -> closed, and a timeline of everything that happened to it (linked alerts,
// notes, state changes: who and when). Opened from P1/P2 alerts automatically or by an
// operator; the fault report (故障报告) is rendered from it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xj/checks/result.hpp"

namespace xj::alerts {

enum class IncidentLevel { kP1 = 1, kP2 = 2, kP3 = 3, kP4 = 4 };
enum class IncidentState { kOpen, kAcknowledged, kResolved, kClosed };

std::string_view to_string(IncidentLevel l);  // "P1"
std::string_view to_string(IncidentState s);  // "open", "acknowledged", ...
std::optional<IncidentLevel> parse_incident_level(std::string_view s);
std::optional<IncidentState> parse_incident_state(std::string_view s);

// The contract's deadlines for one level. Response ends at acknowledgement, repair at
// resolution (whichever of the two comes first also ends the response clock: a fault that
// is repaired needs no separate response).
struct LevelDeadlines {
  std::chrono::milliseconds respond{30 * 60'000};
  std::chrono::milliseconds repair{2 * 3'600'000};
};

// Per level, index 0 = P1. Defaults from the contracts (REQUIREMENTS.md): respond 30 min for
// every level; repair 一级 2 h, 二级 3 h; 三级 and 四级 12 h ("复杂故障 12 小时内解决", the
// longest deadline the contracts state).
using ContractDeadlines = std::array<LevelDeadlines, 4>;
ContractDeadlines default_deadlines();

// An alert linked to an incident: one episode (fingerprint + since) of one alert.
struct IncidentAlert {
  std::string fingerprint;
  std::int64_t since_ms = 0;
  std::string host, check;
  std::int64_t linked_ms = 0;
  std::int64_t resolved_ms = 0;  // 0: still firing
};

// One line of the timeline.
struct TimelineEntry {
  std::int64_t id = 0;  // assigned by the store
  std::int64_t incident = 0;
  std::int64_t ts_ms = 0;
  // opened, alert_firing, alert_resolved, acknowledged, note, resolved, closed, level_raised,
  // respond_warning, repair_warning, respond_breached, repair_breached
  std::string kind;
  std::string actor;  // "collector", "api:alice"
  std::string text;
};

struct Incident {
  std::int64_t id = 0;  // the incident number; shown as incident_number(id)
  std::string title;
  IncidentLevel level = IncidentLevel::kP1;
  IncidentState state = IncidentState::kOpen;
  std::string source;  // "alert" or "operator"
  std::string host;    // "" when an operator opened it without one
  std::string system;  // the host's `system` label, or the operator's
  std::string opened_by, acknowledged_by, resolved_by, closed_by;
  std::int64_t opened_ms = 0, acknowledged_ms = 0, resolved_ms = 0, closed_ms = 0;
  std::int64_t respond_due_ms = 0, repair_due_ms = 0;
  bool respond_warned = false, repair_warned = false;    // the 80 % notice went out
  bool respond_breached = false, repair_breached = false;
  // For the fault report; set when resolving or closing.
  std::string description, impact, cause, handling;
  std::vector<IncidentAlert> alerts;

  bool active() const { return state == IncidentState::kOpen || state == IncidentState::kAcknowledged; }
  // When the response clock stopped (ack or resolve), 0 while it runs.
  std::int64_t responded_ms() const;
};

// "INC-0042": what messages, reports and people call incident 42.
std::string incident_number(std::int64_t id);

// Deadlines from the opening time and the level.
void set_deadlines(Incident& i, const ContractDeadlines& d);

}  // namespace xj::alerts
