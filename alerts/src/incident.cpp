#include "xj/alerts/incident.hpp"

#include <cstdio>

namespace xj::alerts {

std::string_view to_string(IncidentLevel l) {
  switch (l) {
    case IncidentLevel::kP1: return "P1";
    case IncidentLevel::kP2: return "P2";
    case IncidentLevel::kP3: return "P3";
    case IncidentLevel::kP4: return "P4";
  }
  return "P4";
}

std::string_view to_string(IncidentState s) {
  switch (s) {
    case IncidentState::kOpen: return "open";
    case IncidentState::kAcknowledged: return "acknowledged";
    case IncidentState::kResolved: return "resolved";
    case IncidentState::kClosed: return "closed";
  }
  return "open";
}

std::optional<IncidentLevel> parse_incident_level(std::string_view s) {
  if (s == "P1" || s == "p1") return IncidentLevel::kP1;
  if (s == "P2" || s == "p2") return IncidentLevel::kP2;
  if (s == "P3" || s == "p3") return IncidentLevel::kP3;
  if (s == "P4" || s == "p4") return IncidentLevel::kP4;
  return std::nullopt;
}

std::optional<IncidentState> parse_incident_state(std::string_view s) {
  for (auto st : {IncidentState::kOpen, IncidentState::kAcknowledged, IncidentState::kResolved,
                  IncidentState::kClosed}) {
    if (s == to_string(st)) return st;
  }
  return std::nullopt;
}

ContractDeadlines default_deadlines() {
  using std::chrono::hours;
  using std::chrono::minutes;
  ContractDeadlines d;
  d[0] = {minutes(30), hours(2)};
  d[1] = {minutes(30), hours(3)};
  d[2] = {minutes(30), hours(12)};
  d[3] = {minutes(30), hours(12)};
  return d;
}

std::int64_t Incident::responded_ms() const {
  if (acknowledged_ms != 0 && (resolved_ms == 0 || acknowledged_ms <= resolved_ms)) return acknowledged_ms;
  return resolved_ms;
}

std::string incident_number(std::int64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "INC-%04lld", static_cast<long long>(id));
  return buf;
}

void set_deadlines(Incident& i, const ContractDeadlines& d) {
  const auto& l = d[static_cast<std::size_t>(static_cast<int>(i.level) - 1)];
  i.respond_due_ms = i.opened_ms + l.respond.count();
  i.repair_due_ms = i.opened_ms + l.repair.count();
}

}  // namespace xj::alerts
