// The table `xunjian-agent check` prints: status, check, summary, duration.
#pragma once

#include <string>
#include <vector>

#include "xj/checks/result.hpp"

namespace xj {

// Columns are aligned by display width (CJK characters count as two).
std::string format_check_table(const std::vector<Result>& results, bool color);

// Worst status over all results (ok when empty), by severity_rank.
Status worst_status(const std::vector<Result>& results);

}  // namespace xj
