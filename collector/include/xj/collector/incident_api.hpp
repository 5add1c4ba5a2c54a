// The incident endpoints of the JSON API (issue 6), behind Api's token check:
//   GET  /api/v1/incidents?state=&host=&active=1&from=&to=&limit=   viewer+
//   POST /api/v1/incidents {title, level, host, system, description}   operator+
//   GET  /api/v1/incidents/{id}             viewer+   the incident, its alerts and timeline
//   GET  /api/v1/incidents/{id}/report      viewer+   the fault report (故障报告), Markdown
//   POST /api/v1/incidents/{id}/ack|note|resolve|close {text, impact, cause, handling}  operator+
// Every POST that changes something is written to the SM3-chained audit log with the
// caller's name ("api:<token>" or "user:<console user>").
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "xj/alerts/alert_pipeline.hpp"
#include "xj/alerts/message_builder.hpp"
#include "xj/collector/http_types.hpp"
#include "xj/collector/store.hpp"

namespace xj {

class IncidentApi {
 public:
  IncidentApi(alerts::AlertPipeline& pipeline, alerts::AlertStore& alerts, Store& audit,
              alerts::MessageContext message);
  // `actor`: who calls, as audited ("api:<token name>", "user:<name>"); `role`: its role.
  HttpResponse operator()(const HttpRequest& request, const std::string& actor, Role role) const;

 private:
  HttpResponse list(const HttpRequest& request) const;
  HttpResponse create(const HttpRequest& request, const std::string& actor) const;
  HttpResponse show(std::int64_t id) const;
  HttpResponse report(std::int64_t id) const;
  HttpResponse act(std::int64_t id, const std::string& verb, const HttpRequest& request,
                   const std::string& actor) const;
  HttpResponse audited(const std::string& actor, const std::string& action, const alerts::Incident& i,
                       const nlohmann::json& detail) const;

  alerts::AlertPipeline& pipeline_;
  alerts::AlertStore& alerts_;
  Store& audit_;
  alerts::MessageContext message_;
};

nlohmann::json to_json(const alerts::Incident& i);
nlohmann::json to_json(const alerts::TimelineEntry& e);

}  // namespace xj
