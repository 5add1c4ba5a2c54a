#include "xj/alerts/silence.hpp"

#include <cstdio>
#include <ctime>

namespace xj::alerts {

namespace {

std::string field_of(const Alert& a, const std::string& name) {
  if (name == "host") return a.host;
  if (name == "check") return a.check;
  if (name == "rule") return a.rule;
  if (name == "severity") return std::string(xj::to_string(a.severity));
  auto it = a.labels.find(name);
  return it == a.labels.end() ? std::string() : it->second;
}

std::tm local_tm(std::int64_t epoch_ms) {
  std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm;
}

bool holiday_ok(HolidayRule r, bool holiday) {
  return r == HolidayRule::kAny || (r == HolidayRule::kOnly) == holiday;
}

constexpr const char* kDayNames[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::optional<int> day_number(std::string_view s) {
  for (int i = 0; i < 7; ++i) {
    if (s == kDayNames[i]) return i + 1;
  }
  return std::nullopt;
}

std::optional<int> minutes_of(std::string_view s) {
  // "HH:MM", 00:00 .. 24:00
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (std::size_t i : {0u, 1u, 3u, 4u}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 24 || m > 59 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

}  // namespace

std::optional<int> parse_clock_minutes(std::string_view text) { return minutes_of(text); }

bool Matcher::matches(const Alert& a) const { return matches_value(field_of(a, name)); }

bool Matcher::matches_value(const std::string& v) const {
  if (op == "=") return v == value;
  if (op == "!=") return v != value;
  const bool m = re && std::regex_match(v, *re);
  return op == "=~" ? m : !m;
}

std::string Matcher::str() const { return name + op + value; }

Expected<Matcher> parse_matcher(std::string_view text) {
  Matcher m;
  std::size_t at = text.find_first_of("=!");
  if (at == std::string_view::npos || at == 0) {
    return make_error("matcher '" + std::string(text) +
                      "' has no name and operator; use name=value, name!=value, name=~regex or name!~regex");
  }
  m.name = std::string(text.substr(0, at));
  for (const char* op : {"=~", "!~", "!=", "="}) {
    if (text.substr(at).rfind(op, 0) == 0) {
      m.op = op;
      break;
    }
  }
  if (m.op.empty()) return make_error("matcher '" + std::string(text) + "': '!' must be followed by = or ~");
  m.value = std::string(text.substr(at + m.op.size()));
  for (char c : m.name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return make_error("matcher '" + std::string(text) + "': '" + m.name + "' is not a field or label name");
    }
  }
  if (m.op == "=~" || m.op == "!~") {
    try {
      m.re = std::make_shared<const std::regex>(m.value, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return make_error("matcher '" + std::string(text) + "': bad regular expression: " + e.what());
    }
  }
  return m;
}

bool Silence::matches(const Alert& a) const {
  if (matchers.empty()) return false;  // never everything by accident
  for (const auto& m : matchers) {
    if (!m.matches(a)) return false;
  }
  return true;
}

bool Silence::active_at(std::int64_t now, const std::set<std::string>& holidays) const {
  if (ended_ms != 0 && now >= ended_ms) return false;
  if (starts_ms != 0 && now < starts_ms) return false;
  if (ends_ms != 0 && now >= ends_ms) return false;
  return !recurrence || recurrence_active(*recurrence, now, holidays);
}

bool recurrence_active(const Recurrence& r, std::int64_t now, const std::set<std::string>& holidays) {
  const std::tm tm = local_tm(now);
  const int day = tm.tm_wday == 0 ? 7 : tm.tm_wday;
  const int min = tm.tm_hour * 60 + tm.tm_min;
  auto on = [&](int d, std::int64_t at) {
    return r.days.count(d) && holiday_ok(r.holidays, holidays.count(local_date(at)) > 0);
  };
  if (r.from_min < r.to_min) return on(day, now) && min >= r.from_min && min < r.to_min;
  // Past midnight: the evening part today, or the morning part of a window begun yesterday.
  const int yesterday = day == 1 ? 7 : day - 1;
  return (on(day, now) && min >= r.from_min) || (on(yesterday, now - 86'400'000) && min < r.to_min);
}

std::string Silence::label() const {
  if (from_config) return "M-config-" + std::to_string(-id);
  return (maintenance ? "M-" : "S-") + std::to_string(id);
}

Expected<std::pair<int, int>> parse_time_range(std::string_view text) {
  const auto dash = text.find('-');
  const auto from = dash == std::string_view::npos ? std::nullopt : minutes_of(text.substr(0, dash));
  const auto to = dash == std::string_view::npos ? std::nullopt : minutes_of(text.substr(dash + 1));
  if (!from || !to || *from == *to) {
    return make_error("time range '" + std::string(text) + "' is not like 02:00-04:00 or 22:00-06:00 (local time)");
  }
  return std::pair{*from, *to};
}

Expected<std::set<int>> parse_days(std::string_view text) {
  if (text == "daily" || text.empty()) return std::set<int>{1, 2, 3, 4, 5, 6, 7};
  std::set<int> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    std::string_view part = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    auto dash = part.find('-');
    auto a = day_number(part.substr(0, dash));
    auto b = dash == std::string_view::npos ? a : day_number(part.substr(dash + 1));
    if (!a || !b) {
      return make_error("days '" + std::string(text) + "': '" + std::string(part) +
                        "' is not mon, tue, wed, thu, fri, sat, sun or a range like mon-fri");
    }
    for (int d = *a;; d = d % 7 + 1) {  // sat-mon wraps over the week end
      out.insert(d);
      if (d == *b) break;
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

std::string days_text(const std::set<int>& days) {
  if (days.size() == 7) return "daily";
  std::string out;
  for (int d : days) out += (out.empty() ? "" : ",") + std::string(kDayNames[d - 1]);
  return out;
}

std::string time_range_text(int from_min, int to_min) {
  char buf[64];  // minutes are 0..1440; GCC checks the bound for any int
  std::snprintf(buf, sizeof buf, "%02d:%02d-%02d:%02d", from_min / 60, from_min % 60, to_min / 60, to_min % 60);
  return buf;
}

std::string local_date(std::int64_t epoch_ms) {
  const std::tm tm = local_tm(epoch_ms);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

}  // namespace xj::alerts
