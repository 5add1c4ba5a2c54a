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
// `link`: where the full report is (the archive URL); "" leaves the link out. At most
// `max_bytes`: fewer abnormal items are listed until it fits, then the text is cut at a line
// end (never inside a UTF-8 character) with the link kept as its last line; never refused.
Expected<std::string> render_markdown(const Report& report, const std::string& link,
                                      std::size_t max_bytes = kMarkdownLimit);
// One line for an SMS: "【巡检】运维服务月报 2026-03-01 — 2026-03-31 已生成：总体结论 异常，异常项 3 项",
// then the link on its own line.
Expected<std::string> render_notice(const Report& report, const std::string& link);
// `head` + `tail` in at most `max_bytes`: head cut at a character boundary (a line end when in
// reach) and marked "…", tail kept whole when it fits at all.
std::string fit_keeping_tail(std::string_view head, std::string_view tail, std::size_t max_bytes);
// A string of the report texts (templates/reports/<locale>.json) with "{v}" filled in.
std::string report_string(const std::string& locale, const std::string& key, const std::string& v = "");

// Renders Mustache `text` with the JSON `view` (empty strings, empty lists and null are false in
// sections); `html` escapes {{values}}. `name` names the template in errors. The console's pages
// use it too, so kainjow-mustache stays in this one translation unit.
Expected<std::string> render_mustache(const std::string& name, std::string_view text,
                                      const nlohmann::json& view, bool html);

// The file name of a rendered report: "xunjian-month-2026-03.zh-CN.html".
std::string report_file_name(const Report& report, const std::string& extension);

}  // namespace xj::reports
