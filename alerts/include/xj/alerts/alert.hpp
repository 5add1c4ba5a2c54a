// Alert: one problem of one check on one host, as the person on duty sees it. Every alert,
// whatever raised it (a check's status, a check gone silent, a check flapping), has the same
// lifecycle pending -> firing -> resolved, and the same identity: its fingerprint.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xj/checks/result.hpp"

namespace xj::alerts {

// What raised the alert. Each kind of one check is its own alert with its own fingerprint, so
// a silent check ("no data") never resolves the status alert it leaves behind.
// kExternal: raised by another monitoring system (Prometheus Alertmanager's webhook) and
// resolved by it; it shares the lifecycle, outbox and incidents of our own alerts.
// kMetric: a metric rule of alerts.rules held on one series (host, check, metric labels).
enum class AlertKind { kStatus, kNoData, kFlapping, kExternal, kMetric };
enum class AlertState { kPending, kFiring, kResolved };
// The transitions that send messages (pending is recorded, never sent).
enum class Transition { kFiring, kResolved };

std::string_view to_string(AlertKind k);
std::string_view to_string(AlertState s);
std::string_view to_string(Transition t);
std::optional<AlertKind> parse_alert_kind(std::string_view s);
std::optional<AlertState> parse_alert_state(std::string_view s);

struct Alert {
  std::string fingerprint;  // fingerprint(rule, host, check, labels)
  std::string rule;         // "status", "no_data", "flapping", a metric rule's name
  AlertKind kind = AlertKind::kStatus;
  std::string host;
  std::string check;
  Labels labels;            // the host's labels (system, role, ...)
  AlertState state = AlertState::kPending;
  Status severity = Status::kUnknown;  // worst status seen while the alert was active
  std::int64_t since_ms = 0;     // when the problem began (the first bad result)
  std::int64_t fired_ms = 0;     // when it went firing (0: not yet)
  std::int64_t resolved_ms = 0;  // when it resolved (0: not yet)
  std::string summary;           // the latest result's summary
  std::vector<Metric> metrics;   // the metrics of the result that fired it (value vs threshold)
  int changes = 0;               // flapping: status changes counted in the window
  // kMetric: the rule's expression, and per entry of `metrics` (named "disk.used_pct", the
  // series' values) its comparison as the message shows it ("> 90%"). Taken from the rule by
  // the engine, also for restored alerts, so not stored.
  std::string expr;
  std::vector<std::string> conditions;
};

// Stable across restarts and builds: a hex FNV-1a over the identity fields.
std::string fingerprint(std::string_view rule, std::string_view host, std::string_view check,
                        const Labels& labels);

// A state change the engine made; the ones with a transition are to be notified.
struct AlertEvent {
  Alert alert;  // after the change
  std::optional<Transition> transition;
};

}  // namespace xj::alerts
