// CPU, memory and disk per host from daily rollups, with the disks' days-to-full forecast.
#pragma once

#include <optional>
#include <vector>

#include "xj/reports/report_model.hpp"

namespace xj::reports::detail {

// Least squares over (x, y): slope, and the fitted value at the last x. nullopt below 3 points.
struct LinearFit {
  double slope = 0, fitted_last = 0;
};
std::optional<LinearFit> least_squares(const std::vector<double>& x, const std::vector<double>& y);

// The metrics the resource section reads (kinds, metric names) for ReportSource::metric_days.
const std::vector<std::string>& resource_kinds();
const std::vector<std::string>& resource_metrics();

std::vector<HostResources> compute_resources(const std::vector<MetricDay>& rows,
                                             const Standards& standards);

}  // namespace xj::reports::detail
