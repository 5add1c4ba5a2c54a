// `xunjian-collector serve`: the daemon. HTTP(S) server, ingest, liveness sweeps and store
// housekeeping until SIGTERM/SIGINT.
#pragma once

#include <string>

namespace xj {

// Exit codes: 0 stopped by a signal, 1 could not start (store, listen address), 2 bad config.
int run_collector(const std::string& config_path);

}  // namespace xj
