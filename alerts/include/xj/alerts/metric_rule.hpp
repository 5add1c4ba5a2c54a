// Metric rules (alerts.rules in collector.yaml): a named condition on the metrics of check
// results, e.g. `disk.used_pct{mount="/data"} > 90` held for 5 minutes. The expression
// language is deliberately small — one metric compared with a constant, optionally `and`-ed
// with more comparisons on the same check — so that every rule can be checked when the config
// is loaded (kind, metric name, unit) and read by the person on duty. Not PromQL: no
// arithmetic, no aggregation, no functions.
//
//   expr       := comparison ("and" comparison)*
//   comparison := kind "." metric ["{" matcher ("," matcher)* "}"] op number [unit]
//   matcher    := label ("=" | "!=" | "=~" | "!~") quoted-string
//   op         := ">" | ">=" | "<" | "<=" | "==" | "!="
//   unit       := % | B KB KiB MB MiB GB GiB TB TiB | us ms s m h d
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "xj/alerts/silence.hpp"
#include "xj/checks/result.hpp"
#include "xj/common/expected.hpp"

namespace xj::alerts {

// What a threshold's unit measures: a number written with a unit only compares with a metric
// whose unit measures the same (a size with bytes, a time with seconds); a plain number is in
// the metric's own unit.
enum class UnitDimension { kNone, kPercent, kBytes, kTime };

// The dimension of a unit as metrics and thresholds write it, and the factor to its base
// (bytes; milliseconds): "GiB" -> {kBytes, 2^30}, "s" -> {kTime, 1000}, "%" -> {kPercent, 1}.
// Units of no dimension ("", "c", "req/s") give kNone.
struct UnitScale {
  UnitDimension dimension = UnitDimension::kNone;
  double factor = 1;
};
UnitScale unit_scale(std::string_view unit);
std::string_view to_string(UnitDimension d);  // "a percentage", "a size", "a time", "a number"

enum class CompareOp { kGreater, kGreaterEqual, kLess, kLessEqual, kEqual, kNotEqual };
std::string_view to_string(CompareOp op);  // ">", ">=", ...

// One comparison: metric `name` of results of check kind `kind`, compared with a constant.
struct MetricTerm {
  std::string kind;  // "disk"
  std::string name;  // "used_pct"
  // {mount="/data"}: on the metric's labels; a label the metric lacks has the value "".
  std::vector<Matcher> matchers;
  CompareOp op = CompareOp::kGreater;
  double threshold = 0;  // in the unit's base (bytes, ms, %), or as written for kNone
  UnitDimension dimension = UnitDimension::kNone;
  std::string threshold_text;  // "90", "2GiB": as written
  std::string metric_text;     // "disk.used_pct"

  bool selects(const Metric& m) const { return m.name == name && matches_labels(m.labels); }
  bool matches_labels(const Labels& l) const;
  // The comparison on a metric value in `unit`; nullopt when the threshold's unit does not
  // measure what `unit` does (a size against a percentage).
  std::optional<bool> holds(double value, std::string_view unit) const;
  // "> 90%": the threshold as written, with the metric's unit when it was written plain.
  std::string condition(std::string_view unit) const;
};

struct MetricExpr {
  std::string text;               // as written
  std::vector<MetricTerm> terms;  // all on one check kind
};

// Parses and checks an expression: the kind must be a check kind, the metric one it reports
// (any name for kinds whose metrics are named by the user: exec perfdata, SQL queries), the
// threshold's unit one that fits the metric's declared unit. The error names what is wrong
// and the 1-based column (in characters) where, e.g. "expected a comparison operator after
// 'disk.used_pct' at column 14".
Expected<MetricExpr> parse_metric_expr(std::string_view text);

// One rule of alerts.rules.
struct MetricRule {
  std::string name;  // the alert's rule; part of its fingerprint and idempotency keys
  MetricExpr expr;
  std::chrono::milliseconds hold_for{0};     // `for`
  std::chrono::milliseconds recover_for{0};  // default alerts.recover_for
  Status severity = Status::kWarning;        // warning or critical
  std::vector<Matcher> match;  // on host, check and host labels (the silences' matchers)
  std::string summary;         // a template over value, threshold, ...; empty: the default
};

// A value as messages show it: "93.2%", "1.5 GiB", "250ms", "12".
std::string format_metric_value(double value, std::string_view unit);
// A number without trailing zeros: 93.2, 5, 0.25 (two decimals at most).
std::string format_number(double v);

}  // namespace xj::alerts
