// Generating, archiving and scheduling reports in the collector: builds the model from the
// store (reports/), renders the asked formats into the report directory, records every file
// with its SHA-256 in the archive, and runs the weekly and monthly schedules of the contract.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xj/collector/report_delivery.hpp"
#include "xj/collector/sqlite_report_source.hpp"
#include "xj/common/expected.hpp"
#include "xj/reports/contract.hpp"
#include "xj/reports/period.hpp"

namespace xj {

struct ReportRequest {
  reports::Period period;
  std::vector<std::string> formats{"html"};  // html, pdf, md, json
  std::string locale;                        // "" = the contract's
  std::string actor = "collector";           // audit and archive: who asked
  // Deliver through contract.reports.deliver's channels (the schedules always do; the API when
  // asked with "deliver": true).
  bool deliver = false;
};

// Parses "html,pdf,md,json" (any subset, order kept); the error names the unknown one.
Expected<std::vector<std::string>> parse_report_formats(const std::string& text);

class ReportService {
 public:
  using Clock = std::function<std::int64_t()>;
  // `dir`: where report files go (created if missing).
  ReportService(SqliteReportSource& source, reports::ContractConfig contract, std::string dir, Clock clock);

  // Builds and writes every format of the request; returns the archived files.
  Expected<std::vector<ArchivedReport>> generate(const ReportRequest& request);

  // Runs what the schedules say is due at `now` and has not been archived yet (so a restart
  // or a missed minute never makes a report twice, and a late start still makes it). Periods
  // that ended before the first host appeared are skipped.
  std::vector<ArchivedReport> run_due(std::int64_t now_ms);
  // Whether run_due would make anything at `now_ms`.
  bool any_due(std::int64_t now_ms);

  // Report delivery: the channels of contract.reports.deliver; `on_enqueued` wakes the sender.
  // Without it (no alerts: section) nothing is delivered.
  void set_delivery(ReportDelivery delivery, std::function<void()> on_enqueued);
  bool delivers() const { return delivery_.has_value() && !delivery_->rules.empty(); }

  const std::string& dir() const { return dir_; }
  SqliteReportSource& source() { return source_; }
  const reports::ContractConfig& contract() const { return contract_; }
  reports::UtcOffset offset() const;

 private:
  std::vector<reports::Period> due_periods(std::int64_t now_ms);

  SqliteReportSource& source_;
  reports::ContractConfig contract_;
  std::string dir_;
  Clock clock_;
  std::optional<ReportDelivery> delivery_;
  std::function<void()> on_enqueued_;
};

// Whether a schedule's moment for the period before `now` has come: weekly on its weekday at
// its time (or later that week), monthly on its day at its time (or later that month).
bool schedule_due(const reports::Schedule& s, bool weekly, std::int64_t now_ms, const reports::UtcOffset& offset);

}  // namespace xj
