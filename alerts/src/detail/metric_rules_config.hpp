// alerts.rules of collector.yaml (metric_rules_config.cpp).
#pragma once

#include "xj/alerts/alerts_config.hpp"

namespace xj::alerts::detail {

// Reads alerts.rules into cfg.rules.metric_rules (alerts.recover_for already read: it is the
// rules' default). Throws ConfigError naming file, line and key, and for an expression the
// column in it.
void parse_metric_rules(const ConfigSection& a, AlertsConfig& cfg);

}  // namespace xj::alerts::detail
