// Silences and maintenance windows in the JSON API, behind Api's token check:
//   GET  /api/v1/silences?active=1&maintenance=0|1     viewer+   newest first, with `active` now
//   POST /api/v1/silences                              operator+ {matchers, comment, maintenance,
//        starts, ends (epoch ms) | duration ("2h") | days ("sat,sun"), time ("22:00-02:00"), holidays}
//   POST /api/v1/silences/{id}/expire                  operator+ ends it now
// Each change is audited under the caller's name ("api:<token>" or "user:<console user>").
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "xj/alerts/alert_pipeline.hpp"
#include "xj/collector/http_types.hpp"
#include "xj/collector/store.hpp"

namespace xj {

class SilenceApi {
 public:
  SilenceApi(alerts::AlertPipeline& pipeline, Store& audit, std::set<std::string> holidays);
  // `actor`: who calls, as audited ("api:<token name>", "user:<name>"); `role`: its role.
  HttpResponse operator()(const HttpRequest& request, const std::string& actor, Role role) const;

 private:
  HttpResponse create(const HttpRequest& request, const std::string& actor) const;

  alerts::AlertPipeline& pipeline_;
  Store& audit_;
  std::set<std::string> holidays_;
};

nlohmann::json to_json(const alerts::Silence& s, std::int64_t now_ms, const std::set<std::string>& holidays);

}  // namespace xj
