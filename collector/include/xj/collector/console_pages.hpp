// The operations console's pages (/console/...): server-rendered HTML from templates/console
// (compiled in), Chinese by default with an English toggle (?lang=en, remembered in the xj_lang
// cookie). The pages read the stores directly; every action on them is plain JavaScript
// (/console/static/app.js) calling the same JSON API as xunjianctl, so there is no second API
// and the server's role checks apply to the console exactly as to a token.
//
// Who is logged in, whether the source address may use the console and the security headers
// come from the console's authentication (console_auth.hpp), passed in as functions so the
// pages are tested without it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "xj/collector/http_types.hpp"
#include "xj/collector/store.hpp"

namespace xj {

namespace alerts {
class AlertPipeline;
class AlertStore;
}  // namespace alerts
class ReportService;

// The logged-in person as the pages need them.
struct ConsoleViewer {
  std::string user;
  Role role = Role::kViewer;
  std::string csrf_token;  // put in <meta name="csrf-token"> for the JavaScript's X-CSRF-Token
};

struct ConsoleSources {
  Store* store = nullptr;                    // required
  alerts::AlertPipeline* pipeline = nullptr;  // null: alerting off (pages say so)
  alerts::AlertStore* alerts = nullptr;
  std::set<std::string> holidays;            // for whether a recurring silence is active now
  ReportService* reports = nullptr;
};

struct ConsoleHooks {
  std::function<std::optional<ConsoleViewer>(const HttpRequest&)> session;
  std::function<bool(const HttpRequest&)> allowed;  // unset: every address
  std::function<void(HttpResponse&)> secure;        // security headers on every response
  std::function<std::int64_t()> clock;              // unset: the wall clock
};

class ConsolePages {
 public:
  ConsolePages(ConsoleSources sources, ConsoleHooks hooks);
  // Any request whose path is /console or under /console/.
  HttpResponse operator()(const HttpRequest& request) const;

  // The overview's view model (what the template renders), public for the benchmark.
  nlohmann::json overview_view(std::int64_t now_ms) const;

 private:
  HttpResponse page(const HttpRequest& request, const ConsoleViewer& viewer,
                    const std::string& locale) const;

  ConsoleSources src_;
  ConsoleHooks hooks_;
};

}  // namespace xj
