// The console's view models: one function per page turns what the stores hold into the JSON
// its template renders. Labels (`t`) and the header's fields are added by console_pages.cpp.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "xj/collector/console_pages.hpp"

namespace xj::alerts {
struct Incident;
}

namespace xj::detail {

struct PageContext {
  const ConsoleSources& src;
  const HttpRequest& request;
  const nlohmann::json& t;  // the labels of the page's locale
  std::int64_t now_ms = 0;
  std::string query(const std::string& key) const;
};

// A rendered page's template and view, or `status` with an error message.
struct PageView {
  std::string page;  // template name without .mustache
  nlohmann::json view = nlohmann::json::object();
  int status = 200;
};

PageView overview_page(const PageContext& c);
PageView hosts_page(const PageContext& c);
PageView host_page(const PageContext& c, const std::string& id);
PageView checks_page(const PageContext& c);
PageView check_page(const PageContext& c);
PageView alerts_page(const PageContext& c);
PageView incidents_page(const PageContext& c);
PageView incident_page(const PageContext& c, const std::string& id);
PageView reports_page(const PageContext& c);
PageView licences_page(const PageContext& c);
PageView audit_page(const PageContext& c);
PageView users_page(const PageContext& c);
// A page saying what is missing (404, alerting off) in words.
PageView message_page(const PageContext& c, int status, const std::string& title, const std::string& text);

// Shared by the views.
std::string local_time(std::int64_t epoch_ms);  // "2026-11-30 08:00" local; "" for 0
std::string ago(const nlohmann::json& t, std::int64_t ms, std::int64_t now_ms);  // "3 分钟前"
nlohmann::json status_view(const nlohmann::json& t, Status s);  // {status, status_label}
std::string label_of(const nlohmann::json& t, const std::string& key);  // t[key] or key
std::string url_encode(const std::string& s);
// An incident's line in lists: number, level, state, deadlines (running or stopped).
nlohmann::json incident_view(const PageContext& c, const alerts::Incident& i);

}  // namespace xj::detail
