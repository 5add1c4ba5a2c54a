#include "xj/collector/console_pages.hpp"

#include <ctime>

#include <spdlog/spdlog.h>

#include "detail/console_render.hpp"
#include "detail/console_views.hpp"
#include "xj/collector/report_api.hpp"

namespace xj {

using json = nlohmann::json;

namespace {

// The language: ?lang=en|zh-CN (remembered in a cookie), else the xj_lang cookie, else Chinese.
std::string cookie(const HttpRequest& r, const std::string& name) {
  const std::string all = r.header("cookie");
  std::size_t pos = 0;
  while (pos < all.size()) {
    std::size_t end = all.find(';', pos);
    if (end == std::string::npos) end = all.size();
    std::string part = all.substr(pos, end - pos);
    while (!part.empty() && part.front() == ' ') part.erase(0, 1);
    if (part.rfind(name + "=", 0) == 0) return part.substr(name.size() + 1);
    pos = end + 1;
  }
  return "";
}

std::string locale_of(const HttpRequest& r) {
  auto it = r.query.find("lang");
  const std::string asked = it != r.query.end() ? it->second : cookie(r, "xj_lang");
  return asked == "en" ? "en" : "zh-CN";
}

HttpResponse redirect(const std::string& to) {
  HttpResponse r;
  r.status = 303;
  r.content_type = "text/plain; charset=utf-8";
  r.headers["Location"] = to;
  r.body = "see " + to + "\n";
  return r;
}

std::string content_type_of(const std::string& name) {
  auto ends = [&](const char* ext) {
    const std::string e(ext);
    return name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

// The path and query of the request, for ?next= after logging in: only our own pages.
std::string here(const HttpRequest& r) {
  const std::string& t = r.target;
  return t.rfind("/console", 0) == 0 ? t : "/console/";
}

// has_<name> beside every list of an object (and of the objects in it): a template wraps a table
// around a list only when it has rows.
void add_has_flags(json& j) {
  if (!j.is_object()) return;
  json flags = json::object();
  for (auto& [k, v] : j.items()) {
    if (v.is_array()) flags["has_" + k] = !v.empty();
    if (v.is_object() && k != "t") add_has_flags(v);
  }
  j.update(flags);
}

}  // namespace

ConsolePages::ConsolePages(ConsoleSources sources, ConsoleHooks hooks)
    : src_(std::move(sources)), hooks_(std::move(hooks)) {
  if (!hooks_.clock) hooks_.clock = [] { return now_epoch_ms(); };
}

HttpResponse ConsolePages::operator()(const HttpRequest& request) const {
  HttpResponse out = [&]() -> HttpResponse {
    if (hooks_.allowed && !hooks_.allowed(request)) {
      HttpResponse r;
      r.status = 403;
      r.content_type = "text/plain; charset=utf-8";
      r.body = "403: the console does not accept connections from this address (console allow-list in "
               "collector.yaml)\n";
      return r;
    }
    if (request.method != "GET" && request.method != "HEAD") {
      HttpResponse r = json_error(405, "the console's pages are read with GET; actions go to /api/v1/...");
      r.headers["Allow"] = "GET, HEAD";
      return r;
    }
    const std::string& p = request.path;
    if (p.rfind("/console/static/", 0) == 0) {
      const std::string name = p.substr(std::string("/console/").size());
      const std::string_view file = name.find("..") == std::string::npos ? detail::builtin_console_file(name)
                                                                          : std::string_view{};
      if (file.empty()) return json_error(404, "no such console file: " + p);
      HttpResponse r;
      r.content_type = content_type_of(name);
      r.body = std::string(file);
      return r;
    }
    const std::string locale = locale_of(request);
    if (p == "/console/login") {
      ConsoleViewer nobody;
      return page(request, nobody, locale);
    }
    auto viewer = hooks_.session ? hooks_.session(request) : std::nullopt;
    if (!viewer) return redirect("/console/login?next=" + detail::url_encode(here(request)));
    // A delivered report's link: the archived file itself, to a logged-in user.
    if (const std::string rp = "/console/reports/"; p.rfind(rp, 0) == 0 && p.size() > rp.size() && src_.reports != nullptr) {
      return archived_file_response(src_.reports->source(), p.substr(rp.size()));
    }
    return page(request, *viewer, locale);
  }();
  if (hooks_.secure) hooks_.secure(out);
  if (request.path.rfind("/console/reports/", 0) == 0 && out.status == 200) {
    // The report is a standalone page: its inline CSS and SVG, nothing else (no script at all).
    out.headers["Content-Security-Policy"] =
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'";
  }
  if (auto it = request.query.find("lang"); it != request.query.end() && (it->second == "en" || it->second == "zh-CN")) {
    out.headers["Set-Cookie"] = "xj_lang=" + it->second + "; Path=/console; SameSite=Strict; Max-Age=31536000";
  }
  return out;
}

HttpResponse ConsolePages::page(const HttpRequest& request, const ConsoleViewer& viewer,
                                const std::string& locale) const {
  const json& t = detail::console_strings(locale);
  detail::PageContext c{src_, request, t, hooks_.clock()};
  std::string p = request.path;
  if (p.size() > 1 && p.back() == '/') p.pop_back();
  const std::string rest = p.size() > 9 ? p.substr(9) : "";  // after "/console/"
  auto sub = [&](const std::string& prefix) -> std::optional<std::string> {
    if (rest.rfind(prefix + "/", 0) != 0) return std::nullopt;
    return rest.substr(prefix.size() + 1);
  };
  detail::PageView v;
  std::string nav;
  if (rest == "login") {
    v.page = "login";
  } else if (rest.empty()) {
    v = detail::overview_page(c), nav = "overview";
  } else if (rest == "hosts") {
    v = detail::hosts_page(c), nav = "hosts";
  } else if (auto id = sub("hosts")) {
    v = detail::host_page(c, *id), nav = "hosts";
  } else if (rest == "checks") {
    v = detail::checks_page(c), nav = "checks";
  } else if (rest == "check") {
    v = detail::check_page(c), nav = "checks";
  } else if (rest == "alerts") {
    v = detail::alerts_page(c), nav = "alerts";
  } else if (rest == "incidents") {
    v = detail::incidents_page(c), nav = "incidents";
  } else if (auto iid = sub("incidents")) {
    v = detail::incident_page(c, *iid), nav = "incidents";
  } else if (rest == "licences") {
    v = detail::licences_page(c), nav = "licences";
  } else if (rest == "reports") {
    v = detail::reports_page(c), nav = "reports";
  } else if (rest == "audit") {
    v = detail::audit_page(c), nav = "audit";
  } else if (rest == "users" && viewer.role == Role::kAdmin) {
    v = detail::users_page(c), nav = "users";
  } else if (rest == "users") {
    v = detail::message_page(c, 403, detail::label_of(t, "users"), detail::label_of(t, "admin_only"));
  } else {
    v = detail::message_page(c, 404, detail::label_of(t, "not_found"), detail::label_of(t, "page_not_found") + " " + p);
  }
  json& view = v.view;
  add_has_flags(view);
  view["t"] = t;
  view["lang"] = locale == "en" ? "en" : "zh-CN";
  view["other_lang"] = locale == "en" ? "zh-CN" : "en";
  view["other_lang_label"] = locale == "en" ? "中文" : "English";
  view["page"] = v.page;
  view["nav_" + nav] = true;
  view["logged_in"] = !viewer.user.empty();
  view["user"] = viewer.user;
  view["role_label"] = detail::label_of(t, "role_" + std::string(to_string(viewer.role)));
  view["csrf"] = viewer.csrf_token;
  view["can_act"] = !viewer.user.empty() && viewer.role >= Role::kOperator;
  view["is_admin"] = viewer.role == Role::kAdmin && !viewer.user.empty();
  view["now"] = detail::local_time(c.now_ms);
  view["now_ms"] = c.now_ms;
  // The page's scripts show times in the collector's zone, as the server-rendered ones are.
  {
    const std::time_t t = static_cast<std::time_t>(c.now_ms / 1000);
    std::tm tm{};
    localtime_r(&t, &tm);
    view["tz_offset_min"] = tm.tm_gmtoff / 60;
  }
  if (!view.contains("title")) {
    view["title"] = detail::label_of(t, v.page == "message" ? "not_found" : v.page);
    if (v.page == "message") view["title"] = view["message_title"];
  }
  auto html = detail::render_console_page(v.page, view);
  if (!html) {
    spdlog::error("event=console_render_failed page={} error=\"{}\"", v.page, html.error());
    return json_error(500, "the console could not render this page: " + html.error());
  }
  HttpResponse r;
  r.status = v.status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(html).value();
  return r;
}

json ConsolePages::overview_view(std::int64_t now_ms) const {
  HttpRequest none;
  const json& t = detail::console_strings("zh-CN");
  detail::PageContext c{src_, none, t, now_ms};
  return detail::overview_page(c).view;
}

}  // namespace xj
