#include "xj/alerts/message_template.hpp"

namespace xj::alerts {
namespace {

// Renders tpl[pos, end) into out; sections nest, so it recurses on the section body.
void render_range(std::string_view tpl, const TemplateVars& vars, std::string& out) {
  std::size_t pos = 0;
  while (pos < tpl.size()) {
    std::size_t open = tpl.find("{{", pos);
    if (open == std::string_view::npos) {
      out.append(tpl.substr(pos));
      return;
    }
    out.append(tpl.substr(pos, open - pos));
    std::size_t close = tpl.find("}}", open + 2);
    if (close == std::string_view::npos) {  // not a tag: keep the text as written
      out.append(tpl.substr(open));
      return;
    }
    std::string_view tag = tpl.substr(open + 2, close - open - 2);
    pos = close + 2;
    if (tag.empty()) continue;
    if (tag[0] == '#' || tag[0] == '^') {
      std::string_view name = tag.substr(1);
      const std::string end_tag = "{{/" + std::string(name) + "}}";
      // Find the matching end, skipping nested sections of the same name.
      std::size_t depth = 1, scan = pos, body_end = std::string_view::npos;
      while (depth > 0) {
        std::size_t next_end = tpl.find(end_tag, scan);
        if (next_end == std::string_view::npos) break;
        std::size_t next_open1 = tpl.find("{{#" + std::string(name) + "}}", scan);
        std::size_t next_open2 = tpl.find("{{^" + std::string(name) + "}}", scan);
        std::size_t next_open = std::min(next_open1, next_open2);
        if (next_open < next_end) {
          ++depth;
          scan = next_open + 3;
        } else {
          if (--depth == 0) body_end = next_end;
          scan = next_end + end_tag.size();
        }
      }
      if (body_end == std::string_view::npos) continue;  // unclosed: drop the tag only
      auto it = vars.find(name);
      const bool set = it != vars.end() && !it->second.empty();
      // An opening tag alone on its line (Mustache's "standalone" tag) takes its line break
      // with it, or every section would start with an empty line.
      std::size_t body = pos;
      if (body < body_end && tpl[body] == '\n' && (open == 0 || tpl[open - 1] == '\n')) ++body;
      if (set == (tag[0] == '#')) render_range(tpl.substr(body, body_end - body), vars, out);
      pos = body_end + end_tag.size();
      // A section tag alone on its line leaves no empty line behind.
      if (pos < tpl.size() && tpl[pos] == '\n' && (out.empty() || out.back() == '\n')) ++pos;
      continue;
    }
    if (tag[0] == '/' || tag[0] == '!') continue;
    if (auto it = vars.find(tag); it != vars.end()) out.append(it->second);
  }
}

}  // namespace

std::string render_template(std::string_view tpl, const TemplateVars& vars) {
  std::string out;
  render_range(tpl, vars, out);
  return out;
}

std::string_view message_template(std::string_view locale, std::string_view name) {
  std::string_view s = builtin_message_template(locale, name);
  return s.empty() ? builtin_message_template("zh-CN", name) : s;
}

std::string trim_newline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace xj::alerts
