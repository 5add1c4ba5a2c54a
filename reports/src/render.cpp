// The only translation unit that includes kainjow-mustache (a large header): the view JSON is
// turned into mustache data and rendered with the compiled-in templates.
#include "xj/reports/render.hpp"

#include <kainjow/mustache.hpp>

#include "detail/report_view.hpp"
#include "detail/templates.hpp"

namespace xj::reports {
namespace {

using kainjow::mustache::data;
using kainjow::mustache::mustache;

data to_data(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      data d{data::type::object};
      for (auto it = j.begin(); it != j.end(); ++it) d.set(it.key(), to_data(it.value()));
      return d;
    }
    case nlohmann::json::value_t::array: {
      // An empty list is false in a section; `has_<name>` is not needed in the templates.
      data d{data::type::list};
      for (const auto& e : j) d.push_back(to_data(e));
      return d;
    }
    case nlohmann::json::value_t::boolean:
      return data{j.get<bool>() ? data::type::bool_true : data::type::bool_false};
    case nlohmann::json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      return s.empty() ? data{data::type::bool_false} : data{s};
    }
    case nlohmann::json::value_t::null:
      return data{data::type::bool_false};
    default:
      return data{j.dump()};
  }
}

Expected<std::string> render_with(const std::string& file, const nlohmann::json& view, bool html) {
  return render_mustache("reports: template " + file, detail::builtin_report_file(file), view, html);
}

}  // namespace

Expected<std::string> render_mustache(const std::string& name, std::string_view text,
                                      const nlohmann::json& view, bool html) {
  if (text.empty()) return make_error(name + ": no such template");
  mustache tmpl{std::string(text)};
  if (!tmpl.is_valid()) return make_error(name + ": " + tmpl.error_message());
  if (!html) tmpl.set_custom_escape([](const std::string& s) { return s; });
  std::string out = tmpl.render(to_data(view));
  if (!tmpl.is_valid()) return make_error(name + ": " + tmpl.error_message());
  return out;
}

std::string report_file_name(const Report& r, const std::string& ext) {
  return "xunjian-" + r.period.key() + "." + r.locale + "." + ext;
}

Expected<std::string> render_html(const Report& r) {
  auto strings = detail::Strings::load(r.locale);
  if (!strings) return Error{strings.error()};
  return render_with("report.html.mustache", detail::make_view(r, *strings, true), true);
}

Expected<std::string> render_markdown(const Report& r, const std::string& link) {
  auto strings = detail::Strings::load(r.locale);
  if (!strings) return Error{strings.error()};
  nlohmann::json view = detail::make_view(r, *strings, false);
  view["link"] = link;
  // The message must fit one WeChat Work markdown message: list fewer abnormal items until it
  // does, saying how many more the full report has.
  const nlohmann::json ledger = view["ledger"];
  for (std::size_t keep = std::min<std::size_t>(ledger.size(), 10);; --keep) {
    nlohmann::json shown = nlohmann::json::array();
    for (std::size_t i = 0; i < keep; ++i) shown.push_back(ledger[i]);
    view["ledger"] = shown;
    view["more"] = ledger.size() > keep ? strings->get("summary_more", std::to_string(ledger.size() - keep)) : "";
    auto out = render_with("summary.md.mustache", view, false);
    if (!out || out->size() <= kMarkdownLimit || keep == 0) {
      if (out && out->size() > kMarkdownLimit) {
        return make_error("reports: the Markdown summary is " + std::to_string(out->size()) +
                          " bytes even without items, over the " + std::to_string(kMarkdownLimit) + " byte limit");
      }
      return out;
    }
  }
}

}  // namespace xj::reports
