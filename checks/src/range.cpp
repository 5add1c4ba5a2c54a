#include "xj/checks/range.hpp"

#include <cmath>
#include <cstdio>

#include "xj/common/duration.hpp"

namespace xj {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string num(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

}  // namespace

Expected<Range> Range::parse_nagios(std::string_view text) {
  Range r;
  std::string_view s = text;
  if (s.empty()) return make_error("empty range");
  if (s.front() == '@') {
    r.inside_ = true;
    s.remove_prefix(1);
  }
  auto colon = s.find(':');
  if (colon == std::string_view::npos) {
    auto end = parse_number(s);
    if (!end) return make_error("'" + std::string(text) + "' is not a number or Nagios range");
    r.start_ = 0;
    r.end_ = *end;
  } else {
    std::string_view a = s.substr(0, colon);
    std::string_view b = s.substr(colon + 1);
    if (a == "~") {
      r.start_ = -kInf;
    } else if (a.empty()) {
      r.start_ = 0;
    } else {
      auto v = parse_number(a);
      if (!v) return make_error("'" + std::string(text) + "': start '" + std::string(a) + "' is not a number");
      r.start_ = *v;
    }
    if (b.empty()) {
      r.end_ = kInf;
    } else {
      auto v = parse_number(b);
      if (!v) return make_error("'" + std::string(text) + "': end '" + std::string(b) + "' is not a number");
      r.end_ = *v;
    }
  }
  if (r.start_ > r.end_) {
    return make_error("'" + std::string(text) + "': start is greater than end");
  }
  return r;
}

Range Range::above(double limit) {
  Range r;
  r.start_ = -kInf;
  r.end_ = limit;
  return r;
}

Range Range::below(double limit) {
  Range r;
  r.start_ = limit;
  r.end_ = kInf;
  return r;
}

bool Range::alerts(double value) const {
  if (std::isnan(value)) return true;
  bool inside = value >= start_ && value <= end_;
  return inside_ ? inside : !inside;
}

std::string Range::str() const {
  std::string out = inside_ ? "@" : "";
  if (start_ == -kInf) out += "~:";
  else if (start_ != 0 || end_ == kInf) out += num(start_) + ":";
  if (end_ != kInf) out += num(end_);
  return out;
}

Expected<Range> parse_threshold(std::string_view text, Direction dir, ValueUnit unit) {
  std::string t(text);
  while (!t.empty() && t.back() == ' ') t.pop_back();
  while (!t.empty() && t.front() == ' ') t.erase(t.begin());
  if (t.find(':') != std::string::npos || (!t.empty() && t.front() == '@')) {
    return Range::parse_nagios(t);
  }
  std::optional<double> v;
  switch (unit) {
    case ValueUnit::kPercent:
      v = parse_percent(t);
      if (v && (*v < 0 || *v > 100)) return make_error("'" + t + "' is not a percentage between 0 and 100");
      break;
    case ValueUnit::kSeconds:
      if (auto d = parse_duration(t)) v = static_cast<double>(d->count()) / 1000.0;
      break;
    case ValueUnit::kBytes:
      if (auto b = parse_size(t)) v = static_cast<double>(*b);
      break;
    case ValueUnit::kNumber:
      v = parse_number(t);
      break;
  }
  if (!v) {
    const char* what = unit == ValueUnit::kPercent   ? "a percentage like 80%"
                       : unit == ValueUnit::kSeconds ? "a duration like 30s, 5m, 26h"
                       : unit == ValueUnit::kBytes   ? "a size like 512MB"
                                                     : "a number";
    return make_error("'" + t + "' is not " + std::string(what) + " or a Nagios range");
  }
  return dir == Direction::kHigherIsWorse ? Range::above(*v) : Range::below(*v);
}

}  // namespace xj
