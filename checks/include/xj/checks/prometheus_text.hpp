// A parser of the Prometheus text exposition format (version 0.0.4), for checks that read a
// node's /metrics (fabric, chainmaker). Pure: text in, samples out.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xj/common/expected.hpp"

namespace xj {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Every sample line; # HELP / # TYPE / other comments and blank lines are skipped. Label
// values may hold \\, \" and \n escapes; values may be NaN, +Inf, -Inf; a trailing timestamp
// is ignored. An error names the line number and what is wrong with it.
Expected<std::vector<PromSample>> parse_prometheus_text(std::string_view text);

// The samples named `name`, in the order they came.
std::vector<const PromSample*> find_samples(const std::vector<PromSample>& samples,
                                            std::string_view name);

}  // namespace xj
