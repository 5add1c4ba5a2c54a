// The database, backup and chain-node sections from the daily rollups of the checks' own
// metrics (docs/checks.md names them) and, for chain nodes, the collector's chain view
// (`chain:<name>` results, kind "chain") and the checks' status timelines.
#pragma once

#include <vector>

#include "xj/reports/report_model.hpp"

namespace xj::reports::detail {

// Kind of the collector's derived chain-group results (collector ChainView::kKind).
inline constexpr const char* kChainViewKind = "chain";

// The kinds and metrics these sections read through ReportSource::metric_days.
const std::vector<std::string>& database_kinds();
const std::vector<std::string>& database_metrics();

// Fills report.databases, report.backups and report.chain_nodes. `timelines` are the period's
// (for the stalls); rows the daily rollups of database_kinds() / database_metrics().
void compute_databases(Report& report, const std::vector<MetricDay>& rows,
                       const std::vector<CheckTimeline>& timelines);

// Their inspection items (检查内容 / 参考标准 / 检查结果 / 检查结论).
void add_database_items(Report& report);

}  // namespace xj::reports::detail
