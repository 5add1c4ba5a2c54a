// alerts.people, alerts.duty, alerts.routes and alerts.default_route of collector.yaml
// (routing_config.cpp), and the helpers the alerts: parser shares with it.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "xj/alerts/alerts_config.hpp"

namespace xj::alerts {

// `key`: a list of critical, warning, unknown. Throws ConfigError.
std::set<Status> severities(const ConfigSection& s, const std::string& key);
// Every name is a configured channel, else a ConfigError on `channels`.
void check_channels(const ConfigSection& s, const std::vector<std::string>& names,
                    const std::vector<ChannelConfig>& channels);

namespace detail {
// Reads people, duty, routes and default_route of `a` into cfg (its channels and holidays
// already read). Throws ConfigError naming file, line and key.
void parse_routing(const ConfigSection& a, AlertsConfig& cfg);
}  // namespace detail

}  // namespace xj::alerts
