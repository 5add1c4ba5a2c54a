// The console's templates and their rendering (kainjow-mustache lives only in
// console_render.cpp).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "xj/common/expected.hpp"

namespace xj::detail {

// A file of templates/console, compiled in ("overview.mustache", "static/app.js", "en.json");
// empty when there is none.
std::string_view builtin_console_file(std::string_view name);

// The console's labels in `locale` ("zh-CN" or "en"; anything else is zh-CN), with the
// Chinese text standing in for a key the English file lacks.
const nlohmann::json& console_strings(const std::string& locale);

// Renders <page>.mustache with `view` and puts it into layout.mustache as {{{body}}}. Empty
// strings, empty lists and null are false in sections.
Expected<std::string> render_console_page(const std::string& page, const nlohmann::json& view);

}  // namespace xj::detail
