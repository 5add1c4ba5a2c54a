// `exec`: runs an allow-listed command (argv, no shell) such as a monitoring-plugins program;
// the exit code is the status and Nagios perfdata become metrics. The output parsers are
// pure and exposed here for tests.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xj/checks/range.hpp"
#include "xj/checks/result.hpp"

namespace xj {

// One perfdata item: 'label'=value[UOM];[warn];[crit];[min];[max]
struct PerfDatum {
  std::string label;
  double value = 0;
  std::string uom;  // as written: "s", "ms", "%", "B", "KB", "c", ... or ""
  std::optional<Range> warn, crit;
  std::optional<double> min, max;
};

struct PerfData {
  std::vector<PerfDatum> items;
  // Items that could not be used, each with the reason ("'x=abc': value 'abc' is not a
  // number"). Items whose value is "U" (plugin could not measure) are skipped silently.
  std::vector<std::string> skipped;
};

// Parses perfdata text: items separated by whitespace (newlines included).
PerfData parse_perfdata(std::string_view text);

// Plugin output split the Nagios way:
//   TEXT | PERFDATA
//   LONG TEXT LINE
//   LONG TEXT LINE | PERFDATA
//   PERFDATA
struct NagiosOutput {
  std::string summary;    // first line before '|', trimmed
  std::string long_text;  // further lines before any '|', joined with '\n'
  PerfData perfdata;
};

NagiosOutput parse_nagios_output(std::string_view text);

// A perfdata item as a metric: name = label, unit = UOM, warn/crit ranges carried over.
Metric to_metric(const PerfDatum& p);

// True when argv0 is matched by one of the patterns (absolute paths or fnmatch globs, where
// '*' does not cross '/').
bool command_allowed(const std::string& argv0, const std::vector<std::string>& allow);

}  // namespace xj
