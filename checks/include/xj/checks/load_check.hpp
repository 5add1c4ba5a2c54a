// `load`: system load averages from /proc/loadavg, normalised per CPU core.
#pragma once

#include <string_view>

#include "xj/common/expected.hpp"

namespace xj {

struct LoadAverage {
  double load1 = 0, load5 = 0, load15 = 0;
};

// Parses the text of /proc/loadavg ("0.52 0.48 0.40 1/123 4567").
Expected<LoadAverage> parse_loadavg(std::string_view text);

}  // namespace xj
