#include "xj/alerts/metric_rule.hpp"

#include <cmath>
#include <cstdio>

#include "xj/common/duration.hpp"

namespace xj::alerts {

UnitScale unit_scale(std::string_view unit) {
  // Sizes are binary whichever way they are written, as everywhere in our configs
  // (parse_size); perfdata's KB, MB, GB, TB are read the same way.
  static constexpr std::pair<std::string_view, UnitScale> kUnits[] = {
      {"%", {UnitDimension::kPercent, 1}},
      {"B", {UnitDimension::kBytes, 1}},
      {"KB", {UnitDimension::kBytes, 1024.0}},
      {"KiB", {UnitDimension::kBytes, 1024.0}},
      {"MB", {UnitDimension::kBytes, 1024.0 * 1024}},
      {"MiB", {UnitDimension::kBytes, 1024.0 * 1024}},
      {"GB", {UnitDimension::kBytes, 1024.0 * 1024 * 1024}},
      {"GiB", {UnitDimension::kBytes, 1024.0 * 1024 * 1024}},
      {"TB", {UnitDimension::kBytes, 1024.0 * 1024 * 1024 * 1024}},
      {"TiB", {UnitDimension::kBytes, 1024.0 * 1024 * 1024 * 1024}},
      {"us", {UnitDimension::kTime, 0.001}},
      {"ms", {UnitDimension::kTime, 1}},
      {"s", {UnitDimension::kTime, 1000}},
      {"m", {UnitDimension::kTime, 60'000}},
      {"h", {UnitDimension::kTime, 3'600'000}},
      {"d", {UnitDimension::kTime, 86'400'000}},
  };
  for (const auto& [name, scale] : kUnits) {
    if (name == unit) return scale;
  }
  return {};
}

std::string_view to_string(UnitDimension d) {
  switch (d) {
    case UnitDimension::kPercent:
      return "a percentage";
    case UnitDimension::kBytes:
      return "a size";
    case UnitDimension::kTime:
      return "a time";
    case UnitDimension::kNone:
      break;
  }
  return "a number";
}

std::string_view to_string(CompareOp op) {
  switch (op) {
    case CompareOp::kGreater:
      return ">";
    case CompareOp::kGreaterEqual:
      return ">=";
    case CompareOp::kLess:
      return "<";
    case CompareOp::kLessEqual:
      return "<=";
    case CompareOp::kEqual:
      return "==";
    case CompareOp::kNotEqual:
      return "!=";
  }
  return ">";
}

bool MetricTerm::matches_labels(const Labels& l) const {
  for (const auto& m : matchers) {
    auto it = l.find(m.name);
    if (!m.matches_value(it == l.end() ? std::string() : it->second)) return false;
  }
  return true;
}

std::optional<bool> MetricTerm::holds(double value, std::string_view unit) const {
  double v = value;
  if (dimension != UnitDimension::kNone) {
    const UnitScale s = unit_scale(unit);
    if (s.dimension != dimension) return std::nullopt;
    v *= s.factor;
  }
  switch (op) {
    case CompareOp::kGreater:
      return v > threshold;
    case CompareOp::kGreaterEqual:
      return v >= threshold;
    case CompareOp::kLess:
      return v < threshold;
    case CompareOp::kLessEqual:
      return v <= threshold;
    case CompareOp::kEqual:
      return v == threshold;
    case CompareOp::kNotEqual:
      return v != threshold;
  }
  return std::nullopt;
}

std::string MetricTerm::condition(std::string_view unit) const {
  std::string out(to_string(op));
  out += ' ';
  out += threshold_text;
  if (dimension == UnitDimension::kNone) out += unit;
  return out;
}

std::string format_number(double v) {
  char buf[512];  // %.2f of a huge double is long; GCC checks the bound at -O2
  if (std::isfinite(v) && std::fabs(v - std::round(v)) < 1e-9 && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string out = buf;  // 93.20 -> 93.2
  while (!out.empty() && out.back() == '0') out.pop_back();
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::string format_metric_value(double value, std::string_view unit) {
  if (unit == "B" && value >= 0 && value < 1.8e19 && value == std::floor(value))
    return format_size(static_cast<std::uint64_t>(value));
  return format_number(value) + std::string(unit);
}

}  // namespace xj::alerts
