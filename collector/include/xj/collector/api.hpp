// Routing of every collector endpoint, and the read API (JSON):
//   POST /api/v1/results                 agent token   (ingest.hpp)
//   GET  /api/v1/hosts                   viewer+
//   GET  /api/v1/hosts/{id}              viewer+       host, its checks, gaps, recent changes
//   GET  /api/v1/checks?status=&host=&kind=   viewer+
//   GET  /api/v1/series?host=&check=&metric=&from=&to=&step=[&label.NAME=V]   viewer+
//   /api/v1/reports...                   see report_api.hpp
//   GET  /healthz                        open
//   GET  /metrics                        open (Prometheus text format)
#pragma once

#include "xj/collector/collector_metrics.hpp"
#include "xj/collector/http_types.hpp"
#include "xj/collector/ingest.hpp"
#include "xj/collector/report_service.hpp"
#include "xj/collector/store.hpp"

namespace xj {

class Api {
 public:
  Api(Store& store, CollectorMetrics& metrics, IngestHandler ingest);
  HttpResponse operator()(const HttpRequest& request) const;
  // Serves /api/v1/reports... when set (the collector's report service).
  void set_reports(ReportService* reports) { reports_ = reports; }

 private:
  // The caller's API token with at least `role`, or the error response to send.
  std::optional<HttpResponse> authorize(const HttpRequest& request, Role role) const;
  HttpResponse hosts() const;
  HttpResponse host(const std::string& id) const;
  HttpResponse checks(const HttpRequest& request) const;
  HttpResponse series(const HttpRequest& request) const;

  Store& store_;
  CollectorMetrics& metrics_;
  IngestHandler ingest_;
  ReportService* reports_ = nullptr;
};

nlohmann::json to_json(const HostRow& h);
nlohmann::json to_json(const CheckRow& c);

}  // namespace xj
