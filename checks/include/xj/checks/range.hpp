// Threshold ranges: Nagios range syntax plus the friendly forms of our configs.
//
// Nagios: "10" alerts if < 0 or > 10; "10:" alerts if < 10; "~:10" alerts if > 10;
// "10:20" alerts outside 10..20; "@10:20" alerts inside 10..20.
//
// Friendly forms take the direction declared by the config key: "80%" on a key where
// higher is worse means "~:80" (alert above 80); on a key where lower is worse ("alert when
// available memory drops below 10%") it means "10:". Durations ("26h") become seconds and
// sizes ("1MB") bytes, with the same rule. A bare number also takes the key's direction.
// Anything containing ':' or '@' is taken literally as a Nagios range.
#pragma once

#include <limits>
#include <string>
#include <string_view>

#include "xj/common/expected.hpp"

namespace xj {

class Range {
 public:
  static Expected<Range> parse_nagios(std::string_view text);
  static Range above(double limit);  // alerts when value > limit   ("~:limit")
  static Range below(double limit);  // alerts when value < limit   ("limit:")

  // True when the value is outside the good range (or inside, for "@" ranges).
  bool alerts(double value) const;
  // Canonical Nagios text, e.g. "~:80", "10:", "@10:20".
  std::string str() const;
  double start() const { return start_; }
  double end() const { return end_; }
  bool inverted() const { return inside_; }

  bool operator==(const Range&) const = default;

 private:
  double start_ = 0;
  double end_ = std::numeric_limits<double>::infinity();
  bool inside_ = false;
};

enum class Direction { kHigherIsWorse, kLowerIsWorse };
enum class ValueUnit { kNumber, kPercent, kSeconds, kBytes };

// Parses a threshold as written in a config; see the header comment for the forms.
Expected<Range> parse_threshold(std::string_view text, Direction dir, ValueUnit unit);

}  // namespace xj
