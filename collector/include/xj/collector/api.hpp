// Routing of every collector endpoint, and the read API (JSON):
//   POST /api/v1/results                 agent token   (ingest.hpp)
//   GET  /api/v1/hosts                   viewer+
//   GET  /api/v1/hosts/{id}              viewer+       host, its checks, gaps, recent changes
//   GET  /api/v1/checks?status=&host=&kind=   viewer+
//   GET  /api/v1/series?host=&check=&metric=&from=&to=&step=[&label.NAME=V]   viewer+
//   GET|POST /api/v1/licences[/...]      viewer+ / operator+ (licence_registry.hpp)
//   /api/v1/incidents...                 viewer+ to read, operator+ to act (incident_api.hpp)
//   /api/v1/silences...                  viewer+ to read, operator+ to act (silence_api.hpp)
//   /api/v1/reports...                   see report_api.hpp
//   GET  /api/v1/duty                    viewer+       who is on duty, next handover (silence_api.hpp)
//   GET  /api/v1/audit/verify            viewer+       the audit chain's verdict
//   GET  /console/...                    console session (console_pages.hpp)
//   /api/v1/session, /api/v1/users...    console login and users, admin (console_api.hpp)
//
// Every /api/v1/ endpoint but results takes either a bearer API token or a console session
// cookie (xj_session); with the cookie, any method but GET/HEAD must carry X-CSRF-Token equal
// to the session's token, and the source address must pass console.allow.
//   GET  /healthz                        open
//   GET  /metrics                        open (Prometheus text format)
#pragma once

#include <functional>

#include "xj/collector/collector_metrics.hpp"
#include "xj/collector/http_types.hpp"
#include "xj/collector/ingest.hpp"
#include "xj/collector/licence_registry.hpp"
#include "xj/collector/report_service.hpp"
#include "xj/collector/store.hpp"

namespace xj {

class ConsolePages;
class ConsoleAuth;
class IncidentApi;
class SilenceApi;
class AlertmanagerApi;

// Who is calling: an API token or a console user.
struct Caller {
  std::string actor;  // "api:<token name>" or "user:<user name>", as audit entries name it
  Role role = Role::kViewer;
};

class Api {
 public:
  // licences: the licence registry's endpoints (404 without).
  Api(Store& store, CollectorMetrics& metrics, IngestHandler ingest,
      std::optional<LicenceApi> licences = std::nullopt);
  HttpResponse operator()(const HttpRequest& request) const;
  // The incident endpoints (present when alerting is on; else they answer 503).
  void set_incidents(const IncidentApi* incidents) { incidents_ = incidents; }
  void set_silences(const SilenceApi* silences) { silences_ = silences; }
  // Serves GET /api/v1/duty when set (alerting on); else it answers 503.
  void set_duty(std::function<HttpResponse()> duty) { duty_ = std::move(duty); }
  void set_alertmanager(const AlertmanagerApi* am) { alertmanager_ = am; }
  // Serves /api/v1/reports... when set (the collector's report service).
  void set_reports(ReportService* reports) { reports_ = reports; }
  // Serves /console/... (the operations console's pages) when set.
  void set_console_pages(const ConsolePages* pages) { console_pages_ = pages; }
  // Console sessions and /api/v1/session, /api/v1/users (404 without).
  void set_console(ConsoleAuth* console) { console_ = console; }

 private:
  // The caller (API token or console session) with at least `role`, or the error response to
  // send. `caller` receives who it is when given.
  std::optional<HttpResponse> authorize(const HttpRequest& request, Role role,
                                        Caller* caller = nullptr) const;
  std::optional<HttpResponse> authorize_session(const HttpRequest& request, Role role,
                                                Caller* caller) const;
  HttpResponse hosts() const;
  HttpResponse host(const std::string& id) const;
  HttpResponse checks(const HttpRequest& request) const;
  HttpResponse series(const HttpRequest& request) const;

  Store& store_;
  CollectorMetrics& metrics_;
  IngestHandler ingest_;
  std::optional<LicenceApi> licences_;
  const IncidentApi* incidents_ = nullptr;
  const SilenceApi* silences_ = nullptr;
  const AlertmanagerApi* alertmanager_ = nullptr;
  ReportService* reports_ = nullptr;
  std::function<HttpResponse()> duty_;
  const ConsolePages* console_pages_ = nullptr;
  ConsoleAuth* console_ = nullptr;
};

nlohmann::json to_json(const HostRow& h);
nlohmann::json to_json(const CheckRow& c);

}  // namespace xj
