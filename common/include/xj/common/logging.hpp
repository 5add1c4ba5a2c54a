// Logging setup shared by both daemons: spdlog to stderr (journald picks it up), one line
// per event, key=value fields.
#pragma once

#include <string>

namespace xj {

// level: trace, debug, info, warn, error. Unknown levels fall back to info.
void setup_logging(const std::string& level);

}  // namespace xj
