// ReportSource: the storage the reports need, declared here and implemented by the collector
// (SQLite, collector/src/sqlite_report_source.cpp), so reports/ never includes the server.
//
// Everything a report shows comes through these calls, and every one reads aggregates or
// state changes — rollups, seconds-in-status per local day, status changes, alert history,
// the outbox, the audit log — never raw results. Times are UTC epoch ms; "days" are the
// contract zone's local days, keyed by the UTC ms of local midnight (as the store keys them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "xj/checks/result.hpp"

namespace xj::reports {

struct SourceHost {
  std::string id, hostname;
  Labels labels;
  std::int64_t first_seen_ms = 0;
};

struct SourceCheck {
  std::string host, check, kind;
};

// Milliseconds a check spent in each status over the period's local days (status_daily summed).
struct CheckStatusTime {
  std::string host, check;
  std::int64_t ok_ms = 0, warning_ms = 0, critical_ms = 0, unknown_ms = 0;
};

// A check's status over the period: the status in force at the period's start (if the check
// existed then) and every change inside it, in time order.
struct CheckTimeline {
  std::string host, check, kind;
  std::optional<Status> at_start;
  std::int64_t at_start_since_ms = 0;  // when the status in force at the start began
  struct Change {
    std::int64_t ts_ms = 0;
    Status to = Status::kUnknown;
  };
  std::vector<Change> changes;
};

// One series' daily rollup row.
struct MetricDay {
  std::string host, check, kind, metric;
  Labels labels;
  std::int64_t day_ms = 0;
  double min = 0, max = 0, sum = 0, last = 0;
  std::int64_t count = 0;
};

struct AlertFiring {  // an alert that went firing inside the period
  std::string host, check, rule;
  Status severity = Status::kUnknown;
  std::int64_t ts_ms = 0;
};

struct DeliveryStats {  // outbox messages created inside the period
  std::int64_t total = 0, delivered = 0, failed = 0, pending = 0;
};

struct AuditCount {
  std::string action;
  std::int64_t count = 0;
};

struct SourceGap {
  std::string host;
  std::int64_t from_ts = 0, to_ts = 0, count = 0;
};

// Incidents and the licence registry are other parts' tables; a source without them answers
// nullopt and the report says "not tracked yet" instead of inventing numbers.
struct IncidentStats {
  std::int64_t total = 0;
  std::int64_t acked = 0, resolved = 0;
  std::optional<double> mtta_min, mttr_min;  // mean minutes to respond / to repair
  std::optional<double> respond_on_time_rate, repair_on_time_rate;  // percent
};

// The licence registry (collector licences / licence_events tables).
struct SourceLicence {
  std::int64_t id = 0;
  std::string product, holder, host, contract, source, check_id;  // source: check, operator
  std::string state;                                               // applied, active, revoked
  std::int64_t expiry_ms = 0;                                      // end of validity
};
struct SourceLicenceEvent {
  std::int64_t licence = 0;
  std::string product, holder;
  std::int64_t ts_ms = 0;
  std::string event, actor;  // event: applied, activated, renewed, revoked, seen
};
struct LicenceRegistry {
  std::vector<SourceLicence> licences;    // every licence, as it is now
  std::vector<SourceLicenceEvent> events;  // the period's events, in time order
};

class ReportSource {
 public:
  virtual ~ReportSource() = default;

  // Local time minus UTC at the instant, in ms (the contract zone).
  virtual std::int64_t utc_offset_ms(std::int64_t utc_ms) const = 0;
  virtual std::vector<SourceHost> hosts() = 0;
  virtual std::vector<SourceCheck> checks() = 0;
  // Days with day_ms in [from, to).
  virtual std::vector<CheckStatusTime> status_time(std::int64_t from_ms, std::int64_t to_ms) = 0;
  virtual std::vector<CheckTimeline> timelines(std::int64_t from_ms, std::int64_t to_ms) = 0;
  // Daily rollups of the named metrics of checks of the named kinds, days in [from, to).
  virtual std::vector<MetricDay> metric_days(std::int64_t from_ms, std::int64_t to_ms,
                                             const std::vector<std::string>& kinds,
                                             const std::vector<std::string>& metrics) = 0;
  virtual std::vector<AlertFiring> alert_firings(std::int64_t from_ms, std::int64_t to_ms) = 0;
  virtual DeliveryStats deliveries(std::int64_t from_ms, std::int64_t to_ms) = 0;
  virtual std::vector<AuditCount> audit_counts(std::int64_t from_ms, std::int64_t to_ms) = 0;
  // Gap records overlapping [from, to).
  virtual std::vector<SourceGap> gaps(std::int64_t from_ms, std::int64_t to_ms) = 0;
  virtual std::optional<IncidentStats> incidents(std::int64_t from_ms, std::int64_t to_ms) = 0;
  // The licence registry with the events inside [from, to); nullopt when not tracked.
  virtual std::optional<LicenceRegistry> licence_registry(std::int64_t from_ms, std::int64_t to_ms) = 0;
  // Operator-written notes for the period (next month's plan), oldest first.
  virtual std::vector<std::string> plan_notes(const std::string& period_key) = 0;
};

}  // namespace xj::reports
