// The files of templates/reports/, compiled in: report.html.mustache, summary.md.mustache and
// the strings of each locale (<locale>.json).
#pragma once

#include <string_view>

namespace xj::reports::detail {

// The file's text; empty when there is no such file.
std::string_view builtin_report_file(std::string_view name);

}  // namespace xj::reports::detail
