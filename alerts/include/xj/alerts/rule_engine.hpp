// RuleEngine: turns the stream of check results into alert state changes. Evaluated as each
// result arrives (no polling delay); only "no data" needs a periodic tick(), since silence
// has no arrival. Time comes from the results (how long a check reported a status) and from
// the injected clock (how long nothing arrived), so tests drive both exactly.
//
// Not thread-safe: the owner (AlertPipeline) serialises calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "xj/alerts/alert.hpp"
#include "xj/alerts/metric_rule.hpp"
#include "xj/common/report_interval.hpp"

namespace xj::alerts {

struct RuleOptions {
  // How long a status must hold before the alert fires. Host down and critical at once; a
  // warning only after 2 minutes, since most warnings are short spikes.
  std::chrono::milliseconds for_warning{120'000};
  std::chrono::milliseconds for_critical{0};
  std::chrono::milliseconds for_unknown{120'000};
  std::chrono::milliseconds for_host_down{0};
  // How long a firing alert's check must stay ok before it resolves (hysteresis).
  std::chrono::milliseconds recover_for{0};
  // A check silent for this many of its intervals is "no data" (its own alert).
  int no_data_intervals = 3;
  // Used until two results of a check have shown its interval.
  std::chrono::milliseconds default_interval{60'000};
  // This many status changes within the window make one flapping alert instead of many.
  int flap_changes = 6;
  std::chrono::milliseconds flap_window{600'000};
  // alerts.rules: each matching series (host, check, metric labels) is its own alert.
  std::vector<MetricRule> metric_rules;
};

// The subject of a result: which host, with the host's labels.
struct Subject {
  std::string host;
  Labels labels;
};

// An alert another system raised or resolved (Alertmanager's webhook), identified by that
// system's fingerprint.
struct ExternalAlert {
  std::string source = "alertmanager";  // the rule name
  std::string source_fingerprint;
  bool firing = true;
  std::string host;   // labels.instance or labels.host
  std::string check;  // labels.alertname
  Labels labels;
  Status severity = Status::kWarning;
  std::string summary;
  std::int64_t starts_ms = 0;  // 0: now
  std::int64_t ends_ms = 0;    // resolved: when (0: now)
};

class RuleEngine {
 public:
  using Clock = std::function<std::int64_t()>;  // epoch ms
  RuleEngine(RuleOptions options, Clock clock);

  // Alerts active before a restart (pending or firing), so a problem that outlived the
  // collector is not announced twice and its recovery is still sent.
  void restore(const std::vector<Alert>& active);

  // Status, flapping and no-data of the result's check, then every metric rule on its metrics.
  std::vector<AlertEvent> on_result(const Subject& subject, const Result& result);
  // An external alert: firing creates it (once: a repeated notification only updates its
  // summary and severity), resolved resolves it if it fired; an unknown resolved one is
  // ignored, so no "recovered" is sent without its "down".
  std::vector<AlertEvent> on_external(const ExternalAlert& x);
  // Checks silent for no_data_intervals of their interval raise "no data". Restored alerts of
  // metric rules no longer configured are closed here, silently.
  std::vector<AlertEvent> tick();

  // Active (pending or firing) alerts, for tests and the API.
  std::vector<Alert> active() const;

  static constexpr const char* kHostAliveCheck = "host:alive";

 private:
  struct CheckTrack {
    Subject subject;
    std::int64_t last_ts = 0;        // newest result applied (check time)
    std::int64_t last_arrival = 0;   // clock time of its arrival
    ReportInterval interval;         // what no data waits 3 of (report_interval.hpp)
    Status last_status = Status::kUnknown;
    bool seen = false;
    std::int64_t ok_since = 0;       // first ok result while the status alert was firing
    std::deque<std::int64_t> changes;  // ts of recent status changes
  };

  std::vector<AlertEvent> evaluate_status(CheckTrack& t, const Result& r);
  void evaluate_flapping(CheckTrack& t, const Result& r, std::vector<AlertEvent>& out);
  std::chrono::milliseconds hold_for(const std::string& check, Status s) const;
  Alert& alert_for(AlertKind kind, const CheckTrack& t, const std::string& check);
  Alert* find(AlertKind kind, const std::string& host, const std::string& check);
  void resolve(Alert& a, std::int64_t at, std::vector<AlertEvent>& out);

  // Metric rules (rule_engine_metrics.cpp).
  const MetricRule* metric_rule(const std::string& name) const;
  void evaluate_metrics(const CheckTrack& t, const Result& r, std::vector<AlertEvent>& out);
  void evaluate_series(const MetricRule& rule, const CheckTrack& t, const Result& r,
                       const std::vector<const Metric*>& values, bool holds, std::vector<AlertEvent>& out);
  void restore_metric_alert(Alert a);

  RuleOptions opt_;
  Clock clock_;
  std::map<std::pair<std::string, std::string>, CheckTrack> tracks_;  // (host, check)
  std::map<std::string, Alert> active_;                               // by fingerprint
  // Metric alerts: the first result whose condition was false while firing (hysteresis).
  std::map<std::string, std::int64_t> metric_ok_since_;  // by fingerprint
  std::vector<Alert> retired_;  // restored alerts whose rule is gone from the config
  std::set<std::string> unit_warned_;  // series whose unit does not fit a threshold, logged once
};

}  // namespace xj::alerts
