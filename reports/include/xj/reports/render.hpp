// Rendering of a Report: standalone HTML (inline CSS, print styles, inline SVG charts) and a
// Markdown summary that fits one WeChat Work markdown message, both from the Mustache templates
// in templates/reports/ (compiled in), in the report's locale (zh-CN default, en).
#pragma once

#include <cstddef>
#include <string>

#include "xj/common/expected.hpp"
#include "xj/reports/report_model.hpp"

namespace xj::reports {

// WeChat Work's markdown message limit (bytes of UTF-8).
inline constexpr std::size_t kMarkdownLimit = 4096;

Expected<std::string> render_html(const Report& report);
// `link`: where the full report is (the archive URL); "" leaves the link out.
Expected<std::string> render_markdown(const Report& report, const std::string& link);

// The file name of a rendered report: "xunjian-month-2026-03.zh-CN.html".
std::string report_file_name(const Report& report, const std::string& extension);

}  // namespace xj::reports
