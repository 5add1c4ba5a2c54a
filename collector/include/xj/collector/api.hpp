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
//   GET  /healthz                        open
//   GET  /metrics                        open (Prometheus text format)
#pragma once

#include "xj/collector/collector_metrics.hpp"
#include "xj/collector/http_types.hpp"
#include "xj/collector/ingest.hpp"
#include "xj/collector/licence_registry.hpp"
#include "xj/collector/report_service.hpp"
#include "xj/collector/store.hpp"

namespace xj {

class IncidentApi;
class SilenceApi;
class AlertmanagerApi;

class Api {
 public:
  // licences: the licence registry's endpoints (404 without).
  Api(Store& store, CollectorMetrics& metrics, IngestHandler ingest,
      std::optional<LicenceApi> licences = std::nullopt);
  HttpResponse operator()(const HttpRequest& request) const;
  // The incident endpoints (present when alerting is on; else they answer 503).
  void set_incidents(const IncidentApi* incidents) { incidents_ = incidents; }
  void set_silences(const SilenceApi* silences) { silences_ = silences; }
  void set_alertmanager(const AlertmanagerApi* am) { alertmanager_ = am; }
  // Serves /api/v1/reports... when set (the collector's report service).
  void set_reports(ReportService* reports) { reports_ = reports; }

 private:
  // The caller's API token with at least `role`, or the error response to send. `caller`
  // receives the token's row when given.
  std::optional<HttpResponse> authorize(const HttpRequest& request, Role role,
                                        TokenRow* caller = nullptr) const;
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
};

nlohmann::json to_json(const HostRow& h);
nlohmann::json to_json(const CheckRow& c);

}  // namespace xj
