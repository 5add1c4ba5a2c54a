// The reports' storage in the collector's SQLite file: reports::ReportSource (reads of rollups,
// seconds-in-status, status changes, alert history, outbox, audit) plus the report archive and
// the operator's notes per period (migration "reports"). Its own connection, like the alert
// store: report queries never hold up ingest (WAL), and archive writes are short.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xj/alerts/outbox.hpp"
#include "xj/common/expected.hpp"
#include "xj/reports/report_source.hpp"

namespace xj {

struct ArchivedReport {
  std::int64_t id = 0;
  std::string period_key, kind, format;
  std::int64_t from_ms = 0, to_ms = 0;
  std::string path, sha256;
  std::int64_t bytes = 0, created_ms = 0;
  std::string actor;
  // The report this file belongs to: the id of the first file generated with it.
  std::int64_t report = 0;
};

// Makes the outbox messages of a report once its files have their ids (the link names one).
using ReportMessages = std::function<Expected<std::vector<alerts::OutboxMessage>>(const std::vector<ArchivedReport>&)>;

struct PlanNote {
  std::int64_t id = 0;
  std::string period_key, text, author;
  std::int64_t created_ms = 0;
};

class SqliteReportSource : public reports::ReportSource {
 public:
  virtual Expected<std::int64_t> archive(const ArchivedReport& report) = 0;
  // In ONE transaction: the files of one report (ids and `report` assigned) and the outbox
  // messages `messages` makes for them, so a collector killed after archiving still delivers,
  // and never twice (the idempotency keys are unique). Returns the files as stored.
  virtual Expected<std::vector<ArchivedReport>> archive_report(std::vector<ArchivedReport> files,
                                                               const ReportMessages& messages) = 0;
  // The outbox messages of report `report` (its deliveries), in the order written.
  virtual std::vector<alerts::OutboxMessage> report_deliveries(std::int64_t report) = 0;
  // Newest first; `period_key` "" for all.
  virtual std::vector<ArchivedReport> archived(const std::string& period_key, std::size_t limit) = 0;
  virtual std::optional<ArchivedReport> archived_report(std::int64_t id) = 0;
  virtual Expected<std::int64_t> add_note(const std::string& period_key, const std::string& text,
                                          const std::string& author, std::int64_t now_ms) = 0;
  virtual std::vector<PlanNote> notes(const std::string& period_key) = 0;
};

// Open after open_sqlite_store() on the same path (that brings the schema up to date).
// `timezone` must be the store's zone (its daily buckets are that zone's days).
Expected<std::unique_ptr<SqliteReportSource>> open_sqlite_report_source(const std::string& path,
                                                                        const std::string& timezone);

}  // namespace xj
