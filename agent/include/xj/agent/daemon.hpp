// `xunjian-agent run`: the daemon. Loads the config, opens the spool, serves /metrics, runs
// the checks on their schedule into the spool, watches its own footprint; SIGHUP reloads
// (an invalid config is logged and the running one kept), SIGTERM/SIGINT stop cleanly.
#pragma once

#include <string>

#include "xj/agent/config.hpp"

namespace xj {

// Exit codes: 0 stopped by a signal, 1 could not start (spool, metrics port), 2 bad config.
int run_agent(const std::string& config_path, const AgentConfigOverrides& overrides = {});

}  // namespace xj
