// Rendering of a Report: standalone HTML (inline CSS, print styles, inline SVG charts) and a
// Markdown summary that fits one WeChat Work markdown message, both from the Mustache templates
// in templates/reports/ (compiled in), in the report's locale (zh-CN default, en).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "xj/common/expected.hpp"
#include "xj/reports/report_model.hpp"

namespace xj::reports {

// WeChat Work's markdown message limit (bytes of UTF-8).
inline constexpr std::size_t kMarkdownLimit = 4096;

Expected<std::string> render_html(const Report& report);
// `link`: where the full report is (the archive URL); "" leaves the link out.
Expected<std::string> render_markdown(const Report& report, const std::string& link);

// Renders Mustache `text` with the JSON `view` (empty strings, empty lists and null are false in
// sections); `html` escapes {{values}}. `name` names the template in errors. The console's pages
// use it too, so kainjow-mustache stays in this one translation unit.
Expected<std::string> render_mustache(const std::string& name, std::string_view text,
                                      const nlohmann::json& view, bool html);

// The file name of a rendered report: "xunjian-month-2026-03.zh-CN.html".
std::string report_file_name(const Report& report, const std::string& extension);

}  // namespace xj::reports
