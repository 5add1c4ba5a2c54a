// The `alerts:` section of collector.yaml: rule timings, channels (secrets from *_file or the
// environment, never inline), routes by severity, retry policy. Validated at load; errors name
// file, line and key.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "xj/alerts/channel.hpp"
#include "xj/alerts/incident_tracker.hpp"
#include "xj/alerts/message_builder.hpp"
#include "xj/alerts/outbox_sender.hpp"
#include "xj/alerts/routing.hpp"
#include "xj/alerts/rule_engine.hpp"
#include "xj/alerts/silence.hpp"

namespace YAML {
class Node;
}

namespace xj {
class ConfigSection;
}

namespace xj::alerts {

struct AlertsConfig {
  bool enabled = false;  // true when the section is present and not `enabled: false`
  RuleOptions rules;
  MessageContext message;
  std::vector<ChannelConfig> channels;
  // Empty: every alert goes to every channel. Otherwise the first matching route (and later
  // ones while `continue` is set), else default_route, else every channel.
  std::vector<Route> routes;
  std::optional<Route> default_route;
  std::map<std::string, Person> people;  // alerts.people, by id
  DutyRoster duty;                       // alerts.duty
  SenderOptions sender;
  IncidentOptions incidents;  // alerts.incidents; deadlines from contract.deadlines
  std::set<std::string> holidays;
  // alerts.maintenance: windows planned in the file (from_config, author "collector.yaml"),
  // in force beside the ones made through the API.
  std::vector<Silence> maintenance;
  // A firing alert is announced again this often until it resolves or its incident is
  // acknowledged (alerts.repeat_interval, 0 = never).
  std::chrono::milliseconds repeat_interval{30 * 60'000};  // alerts.holidays: local dates "2026-10-01" (holiday calendar)
};

// Throws ConfigError. `alerts` may be empty (alerting off).
AlertsConfig parse_alerts_config(const ConfigSection& alerts);

// contract.deadlines: {P1: {respond: 30m, repair: 2h}, ...}; levels not given keep their
// defaults (default_deadlines()). Throws ConfigError.
ContractDeadlines parse_contract_deadlines(const ConfigSection& deadlines);

}  // namespace xj::alerts
