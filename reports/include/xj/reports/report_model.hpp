// The report model: everything a weekly inspection report (巡检报告), a monthly service report
// (服务月报) or any period's report shows, as numbers and codes — no prose. Built by
// build_report() from a ReportSource; rendered by render.hpp (HTML, Markdown) or written as
// JSON. Texts in the reader's language come from templates/reports/<locale>/, never from here.
//
// Honesty rules the model keeps: time without data is counted as no data, never as up; an
// availability is absent (not 100 %) when nothing was observed; a host that appeared inside
// the period is counted from its first contact; sections whose data is not tracked by this
// store (incidents, the licence registry) say so instead of showing zeros.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "xj/reports/contract.hpp"
#include "xj/reports/period.hpp"
#include "xj/reports/report_source.hpp"

namespace xj::reports {

enum class Verdict { kNormal, kAbnormal, kNoData };  // 正常 / 异常 / 无数据
std::string_view to_string(Verdict v);

// Time accounting of one host, system or check over its window (the period, from the first
// contact on, up to the report's data end).
struct Uptime {
  std::int64_t window_ms = 0;
  std::int64_t up_ms = 0, down_ms = 0, no_data_ms = 0;
  int down_events = 0;
  // up / (up + down); absent when nothing was observed.
  std::optional<double> availability_pct() const;
  double coverage_pct() const;  // (up + down) / window
};

struct SystemAvailability {
  std::string name;
  std::vector<std::string> hosts;
  Uptime uptime;
  double target_pct = 0;
  Verdict verdict = Verdict::kNoData;  // abnormal below target; no data when nothing observed
  std::vector<std::optional<double>> daily_pct;  // per local day of the period
};

struct HostAvailability {
  std::string host, hostname, system;  // system "" when no system matches
  std::int64_t first_seen_ms = 0;
  bool added_in_period = false;
  Uptime uptime;
  Verdict verdict = Verdict::kNoData;
};

struct ServiceAvailability {  // one availability check (process, port, http, alive)
  std::string host, check, kind;
  Uptime uptime;
};

struct ResourceStat {
  std::optional<double> avg, peak, last;  // percent; absent without data
  double standard = 0;
  Verdict verdict = Verdict::kNoData;
};

struct DiskStat {
  std::string check, mount;
  ResourceStat used;
  std::optional<double> growth_pct_per_day;  // least-squares slope over the daily last values
  std::optional<double> days_to_full;        // only while growing
  std::vector<double> daily_last;            // for the chart (days with data)
};

struct HostResources {
  std::string host;
  ResourceStat cpu, memory;
  std::vector<DiskStat> disks;
};

struct Expiry {  // a certificate or licence from its check's days_left
  std::string host, check, kind, target;
  double days_left = 0;
  int within_days = 0;  // 30, 60 or 90
};

struct NoisyCheck {
  std::string host, check;
  std::int64_t firings = 0;
};

struct AlertSummary {
  std::int64_t total = 0;
  std::map<std::string, std::int64_t> by_severity;  // "critical", "warning", "unknown"
  std::vector<NoisyCheck> top;                       // at most 10
  std::vector<std::int64_t> daily;                   // firings per local day
};

// One row of the inspection ledger, in the contracts' columns: 检查内容 (subject + host +
// target), 参考标准 (standard), 检查结果 (result), 检查结论 (verdict).
struct InspectionItem {
  std::string subject;  // "availability", "cpu", "memory", "disk", "service", "status", "expiry"
  std::string host, target;  // target: mount, check id, ...
  std::optional<double> value;  // the measured number (percent, days, minutes)
  std::optional<double> standard;
  std::string status;  // for "status": the check's status at the end (warning, critical, unknown)
  Verdict verdict = Verdict::kNormal;
  std::int64_t since_ms = 0;  // carried-over items: abnormal since
};

struct NotInspected {
  std::string host, check;  // check "" for the whole host
  std::string reason;       // "no_data" (no data at all), "partial" (part of the window), "gap"
  std::int64_t no_data_ms = 0;
  std::int64_t from_ms = 0, to_ms = 0, dropped = 0;  // gap records
};

struct Recommendation {
  std::string rule;  // "disk_full", "below_target", "expiry", "no_data"
  std::string host, target;
  std::optional<double> value;
};

struct Report {
  ReportKind kind = ReportKind::kPeriod;
  Period period;
  std::string locale;
  std::int64_t generated_ms = 0;
  std::int64_t data_end_ms = 0;  // min(period end, now)
  ContractConfig contract;

  Verdict overall = Verdict::kNoData;
  std::int64_t hosts_total = 0, checks_total = 0;
  std::vector<SystemAvailability> systems;
  std::vector<HostAvailability> hosts;
  std::vector<ServiceAvailability> services;
  std::vector<HostResources> resources;
  std::vector<Expiry> expiries;
  AlertSummary alerts;
  DeliveryStats deliveries;
  std::optional<IncidentStats> incidents;  // absent: not tracked by this store yet
  bool licence_registry = false;           // false: not tracked yet (expiries from checks only)
  std::vector<InspectionItem> items;       // every inspected item
  std::vector<InspectionItem> carried_over;  // 遗留问题: abnormal at the period's start and end
  std::vector<NotInspected> not_inspected;   // 未巡检项
  std::vector<Recommendation> recommendations;
  std::vector<AuditCount> audit;
  std::vector<std::string> plan_notes;
  std::vector<LocalDate> days;       // the period's local days (chart axes)
  std::vector<std::int64_t> day_ms;  // UTC ms of each day's local midnight

  std::size_t abnormal_count() const;
};

struct BuildOptions {
  std::int64_t now_ms = 0;  // the clock: data after it does not exist yet
  // A check's no data shorter than this in a period is not listed as 未巡检 (it is still
  // counted): the seconds before a new check's first result, the tail after its last.
  std::int64_t no_data_tolerance_ms = 5 * 60'000;
};

Report build_report(ReportSource& source, const ContractConfig& contract, const Period& period,
                    const BuildOptions& options);

nlohmann::json to_json(const Report& report);

}  // namespace xj::reports
