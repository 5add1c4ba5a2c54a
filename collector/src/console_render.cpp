// The console's templates rendered with the reports' Mustache renderer (kainjow-mustache stays
// in reports/src/render.cpp).
#include <map>

#include "detail/console_render.hpp"
#include "xj/reports/render.hpp"

namespace xj::detail {
namespace {

Expected<std::string> render_file(const std::string& file, const nlohmann::json& view) {
  return reports::render_mustache("console: template " + file, builtin_console_file(file), view, true);
}

nlohmann::json load_strings(const std::string& locale) {
  auto parse = [](std::string_view text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    return j.is_object() ? j : nlohmann::json::object();
  };
  nlohmann::json zh = parse(builtin_console_file("zh-CN.json"));
  if (locale != "en") return zh;
  nlohmann::json en = parse(builtin_console_file("en.json"));
  for (auto& [k, v] : zh.items()) {
    if (!en.contains(k)) en[k] = v;
  }
  return en;
}

}  // namespace

const nlohmann::json& console_strings(const std::string& locale) {
  static const std::map<std::string, nlohmann::json> all{{"zh-CN", load_strings("zh-CN")},
                                                         {"en", load_strings("en")}};
  return all.at(locale == "en" ? "en" : "zh-CN");
}

Expected<std::string> render_console_page(const std::string& page, const nlohmann::json& view) {
  auto body = render_file(page + ".mustache", view);
  if (!body) return body;
  nlohmann::json outer = view;
  outer["body"] = *body;
  return render_file("layout.mustache", outer);
}

}  // namespace xj::detail
