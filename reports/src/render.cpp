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

std::string fit_keeping_tail(std::string_view head, std::string_view tail, std::size_t max_bytes) {
  if (head.size() + tail.size() <= max_bytes) return std::string(head) + std::string(tail);
  static constexpr std::string_view kCut = "…\n";
  const std::size_t room = max_bytes > tail.size() + kCut.size() ? max_bytes - tail.size() - kCut.size() : 0;
  std::size_t cut = std::min(room, head.size());
  // Back off to a character boundary (continuation bytes are 10xxxxxx), then to a line end
  // in reach, so no Markdown line is left half.
  while (cut > 0 && (static_cast<unsigned char>(head[cut]) & 0xC0) == 0x80) --cut;
  if (auto nl = head.rfind('\n', cut == 0 ? 0 : cut - 1); nl != std::string_view::npos && nl >= cut / 2) cut = nl + 1;
  std::string out(head.substr(0, cut));
  if (!out.empty() && out.back() == '\n') out.pop_back();
  out += kCut;
  out += tail;
  if (out.size() > max_bytes) {
    // Even the tail alone is too long: cut it too, on a character boundary.
    std::size_t end = max_bytes;
    while (end > 0 && (static_cast<unsigned char>(out[end]) & 0xC0) == 0x80) --end;
    out.resize(end);
  }
  return out;
}

Expected<std::string> render_markdown(const Report& r, const std::string& link, std::size_t max_bytes) {
  auto strings = detail::Strings::load(r.locale);
  if (!strings) return Error{strings.error()};
  nlohmann::json view = detail::make_view(r, *strings, false);
  // The link is rendered apart and put back at the end, so a summary cut to fit keeps it.
  view["link"] = "";
  const std::string tail = link.empty() ? "" : "[" + strings->get("summary_link") + "](" + link + ")";
  // The message must fit one WeChat Work markdown message: list fewer abnormal items until it
  // does, saying how many more the full report has; then, if the systems alone are too many,
  // cut at a line end, never inside a character, the link kept.
  const nlohmann::json ledger = view["ledger"];
  for (std::size_t keep = std::min<std::size_t>(ledger.size(), 10);; --keep) {
    nlohmann::json shown = nlohmann::json::array();
    for (std::size_t i = 0; i < keep; ++i) shown.push_back(ledger[i]);
    view["ledger"] = shown;
    view["more"] = ledger.size() > keep ? strings->get("summary_more", std::to_string(ledger.size() - keep)) : "";
    auto out = render_with("summary.md.mustache", view, false);
    if (!out) return out;
    if (out->size() + tail.size() <= max_bytes || keep == 0) return fit_keeping_tail(*out, tail, max_bytes);
  }
}

Expected<std::string> render_notice(const Report& r, const std::string& link) {
  auto strings = detail::Strings::load(r.locale);
  if (!strings) return Error{strings.error()};
  const nlohmann::json view = detail::make_view(r, *strings, false);
  std::string text = strings->get("notice", view["title"].get<std::string>() + " " + view["period_text"].get<std::string>(),
                                  view["overall"].get<std::string>(), std::to_string(r.abnormal_count()));
  if (!link.empty()) text += "\n" + link;
  return text;
}

std::string report_string(const std::string& locale, const std::string& key, const std::string& v) {
  auto strings = detail::Strings::load(locale);
  return strings ? strings->get(key, v) : key;
}

}  // namespace xj::reports
