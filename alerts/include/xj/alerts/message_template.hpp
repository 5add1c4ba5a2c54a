// Message text from templates (templates/messages/<locale>/*.md, compiled in), never from
// strings in code. The template language is the small part of Mustache our messages need:
// {{name}} (inserted as is), {{#name}}...{{/name}} (kept when name is set and not empty) and
// {{^name}}...{{/name}} (kept when it is not). Unknown names render empty.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace xj::alerts {

using TemplateVars = std::map<std::string, std::string, std::less<>>;

std::string render_template(std::string_view tpl, const TemplateVars& vars);

// The built-in template `name` ("firing", "resolved", "metric_line", ...) of `locale`
// ("zh-CN"), or "" if there is none.
std::string_view builtin_message_template(std::string_view locale, std::string_view name);
// The built-in template `name` of `locale`, or zh-CN's when that locale has none.
std::string_view message_template(std::string_view locale, std::string_view name);

// `s` without its trailing line breaks (every template file ends with one).
std::string trim_newline(std::string_view s);

}  // namespace xj::alerts
