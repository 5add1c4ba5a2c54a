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

// A figure judged against its reference standard (参考标准); no data: not judged.
struct Judged {
  std::optional<double> value;
  double standard = 0;
  Verdict verdict = Verdict::kNoData;
};

struct DbSize {          // a database (postgres) or schema (mysql)
  std::string name;
  double last_bytes = 0;                  // at the end of the period
  std::optional<double> growth_bytes;     // the check's own growth since each previous run, summed
};

struct Tablespace {
  std::string name;
  std::optional<double> size_bytes;  // postgres: size
  Judged used_pct;                   // dm / oracle: used of its limit at the end (peak beside)
  std::optional<double> peak_pct;
};

// One database check (postgres, mysql, odbc) of a host, from the daily rollups of its metrics.
struct DatabaseStat {
  std::string host, check, kind;
  std::optional<double> connections_peak, max_connections;  // sessions for dm / oracle
  Judged connections_pct;   // the peak of connections / max (connections_pct, sessions_pct)
  std::vector<DbSize> sizes;
  std::vector<Tablespace> tablespaces;
  Judged replication_lag_s;  // peak of replication_lag_s, replay_delay_s or seconds_behind
  std::optional<double> long_queries_peak;
  Judged longest_query_s;    // peak of longest_query_s
};

struct BackupStat {  // a file_age check: the newest backup file's age
  std::string host, check;
  std::optional<double> last_h;
  Judged age_peak_h;
};

// One chain node check (ethereum, fisco_bcos, fabric, chainmaker).
struct ChainLedger {
  std::string name;  // "" for one-ledger chains; the channel / chain id otherwise
  double first = 0, last = 0;  // height at the first and the last sample of the period
  double growth() const { return last - first; }
};
struct ChainNodeStat {
  std::string host, check, kind, chain;
  std::vector<ChainLedger> ledgers;
  Judged longest_interval_s;  // peak of head_age_s / height_flat_s / block_flat_s
  Judged lag_blocks;          // peak of the chain view's lag_blocks (and sync_lag_blocks)
  Judged peers_min;           // minimum of peers / peers_known
  Judged stalls;              // times the check turned critical in the period
};

struct Expiry {  // a certificate or licence from its check's days_left
  std::string host, check, kind, target;
  double days_left = 0;
  int within_days = 0;  // 30, 60 or 90
};

// A licence of the registry expiring within 90 days of the data end (revoked ones are not).
struct RegistryLicence {
  std::int64_t id = 0;
  std::string product, holder, host, state, source;
  std::int64_t expiry_ms = 0;
  double days_left = 0;  // from the data end; negative once expired
  int within_days = 0;   // 30, 60 or 90
};

struct LicenceEvent {  // 申请 / 激活 / 续期 / 注销 inside the period
  std::int64_t licence = 0, ts_ms = 0;
  std::string product, holder, event, actor;
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
  std::map<std::string, std::vector<std::int64_t>> daily_by_severity;  // the same by severity
};

// One row of the inspection ledger, in the contracts' columns: 检查内容 (subject + host +
// target), 参考标准 (standard), 检查结果 (result), 检查结论 (verdict).
struct InspectionItem {
  // "availability", "cpu", "memory", "disk", "service", "status", "expiry", "db_connections",
  // "tablespace", "replication_lag", "long_query", "backup", "block_interval", "chain_lag",
  // "chain_peers", "chain_stalls", "licence" (the registry)
  std::string subject;
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

// One weekly inspection of a month (the monthly report's appendix): computed from the store
// for each Monday-to-Sunday week overlapping the month, up to the data end.
struct WeekSummary {
  Period period;
  Verdict overall = Verdict::kNoData;
  std::size_t abnormal = 0;
  std::vector<InspectionItem> carried_over;  // that week's 遗留问题
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
  std::vector<DatabaseStat> databases;
  std::vector<BackupStat> backups;
  std::vector<ChainNodeStat> chain_nodes;
  std::vector<Expiry> expiries;
  AlertSummary alerts;
  DeliveryStats deliveries;
  std::optional<IncidentStats> incidents;  // absent: not tracked by this store yet
  // false: the source has no registry (expiries from the checks only). When true, a licence
  // check whose licence is in the registry is listed from the registry, not from the check.
  bool licence_registry = false;
  std::vector<RegistryLicence> licences;
  std::vector<LicenceEvent> licence_events;
  std::vector<InspectionItem> items;       // every inspected item
  std::vector<InspectionItem> carried_over;  // 遗留问题: abnormal at the period's start and end
  std::vector<NotInspected> not_inspected;   // 未巡检项
  std::vector<Recommendation> recommendations;
  std::vector<AuditCount> audit;
  std::vector<std::string> plan_notes;
  std::vector<WeekSummary> weeks;    // monthly reports only
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
