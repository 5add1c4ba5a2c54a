// POST /api/v1/alertmanager: Prometheus Alertmanager's webhook (payload version 4) turned into
// Xunjian alerts, behind Api's token check (operator role). Each alert in `alerts` is firing
// or resolved by its Alertmanager fingerprint and goes through the same pipeline (silences,
// routes, outbox, incidents) as our own: severity from labels.severity, host from
// labels.instance (else labels.host, else "alertmanager"), the check from labels.alertname,
// the summary from annotations.summary (else description). A bad payload is refused whole
// (400 naming the field), so a half-applied notification cannot happen.
#pragma once

#include <string>

#include "xj/alerts/alert_pipeline.hpp"
#include "xj/collector/http_types.hpp"

namespace xj {

class AlertmanagerApi {
 public:
  explicit AlertmanagerApi(alerts::AlertPipeline& pipeline) : pipeline_(pipeline) {}
  HttpResponse operator()(const HttpRequest& request) const;

 private:
  alerts::AlertPipeline& pipeline_;
};

// Parses the webhook body into alerts, or names the field that is wrong.
Expected<std::vector<alerts::ExternalAlert>> parse_alertmanager_payload(const std::string& body);

// critical/error/page/high -> critical; everything else (warning, info, none, missing) ->
// warning (the label stays on the alert for routes and silences).
Status alertmanager_severity(const std::string& label);

}  // namespace xj
