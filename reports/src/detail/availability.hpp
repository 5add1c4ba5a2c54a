// Availability of hosts, systems and availability checks from the checks' status timelines.
#pragma once

#include <vector>

#include "detail/intervals.hpp"
#include "xj/reports/report_model.hpp"

namespace xj::reports::detail {

// What the timeline of one check says over a window: when its status is known, when critical.
struct CheckSpans {
  Intervals known, critical;
  std::int64_t first_known_ms = 0;  // 0: never known in the window
  std::optional<Status> at_end;
};
CheckSpans spans_of(const CheckTimeline& t, std::int64_t from, std::int64_t to);

// Fills report.systems, report.hosts, report.services (hosts must be the period's hosts).
void compute_availability(Report& report, const std::vector<SourceHost>& hosts,
                          const std::vector<CheckTimeline>& timelines,
                          const std::vector<SourceGap>& gaps);

// The system a host belongs to: the first whose labels all match ("" when none).
std::string system_of(const ContractConfig& contract, const Labels& labels);

}  // namespace xj::reports::detail
