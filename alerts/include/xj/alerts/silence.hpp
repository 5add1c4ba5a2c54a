// Silences and maintenance windows: matchers on an alert (host, check, rule, severity, any
// host label) and a time. A silence mutes notifications for a while (start/end, author,
// comment); a maintenance window is planned work, one-off or recurring (weekly days and a
// local time range, with or without the holiday calendar), and also keeps alerts from opening
// incidents. Silenced alerts are still evaluated and recorded: their messages are written to
// the outbox as suppressed (with the reason), so reports count them and a silence that ends
// while the alert still fires releases its message.
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "xj/alerts/alert.hpp"
#include "xj/common/expected.hpp"

namespace xj::alerts {

// name=value, name!=value, name=~regex, name!~regex (the regex matches the whole value).
// Names: host, check, rule, severity (critical, warning, unknown), else a host label.
struct Matcher {
  std::string name;
  std::string op;  // "=", "!=", "=~", "!~"
  std::string value;
  std::shared_ptr<const std::regex> re;  // for =~ and !~
  bool matches(const Alert& a) const;
  bool matches_value(const std::string& v) const;  // the field's value, whatever the field
  std::string str() const;  // as written
};
// Errors name the text and what is wrong ("'host' has no operator; use host=web-01, ...").
Expected<Matcher> parse_matcher(std::string_view text);

enum class HolidayRule { kAny, kSkip, kOnly };  // recurring windows and the holiday calendar

// Weekly recurrence in the contract's local time: on `days` (1 = Monday .. 7 = Sunday), from
// `from_min` to `to_min` minutes after local midnight; to <= from runs past midnight into the
// next day (22:00-02:00).
struct Recurrence {
  std::set<int> days{1, 2, 3, 4, 5, 6, 7};
  int from_min = 0, to_min = 0;
  HolidayRule holidays = HolidayRule::kAny;
};

// True when `now` falls in the recurrence (its days, its local time range, its holiday rule).
bool recurrence_active(const Recurrence& r, std::int64_t now_ms, const std::set<std::string>& holidays);

struct Silence {
  std::int64_t id = 0;
  bool maintenance = false;  // a maintenance window (also stops incidents)
  std::vector<Matcher> matchers;  // all must match; at least one
  std::int64_t starts_ms = 0, ends_ms = 0;  // one-off: [starts, ends); recurring: the period it is valid in (0 = open)
  std::optional<Recurrence> recurrence;
  std::string author, comment;
  std::int64_t created_ms = 0;
  std::int64_t ended_ms = 0;  // ended early by an operator (0: not)
  // A maintenance window from collector.yaml (alerts.maintenance): id is -(its position + 1),
  // it is not stored and cannot be ended through the API (change the file).
  bool from_config = false;

  // Holidays are local dates "2026-10-01".
  bool active_at(std::int64_t now_ms, const std::set<std::string>& holidays) const;
  bool matches(const Alert& a) const;
  // "S-3" for a silence, "M-3" for a maintenance window, "M-config-1" for one from the config.
  std::string label() const;
};

// "22:00-02:00" -> minutes; "mon,tue" / "sat-sun" / "daily" -> days. Errors name the text.
Expected<std::pair<int, int>> parse_time_range(std::string_view text);
Expected<std::set<int>> parse_days(std::string_view text);
// "09:00" -> 540 (00:00 .. 24:00); nullopt when not like HH:MM.
std::optional<int> parse_clock_minutes(std::string_view text);
std::string days_text(const std::set<int>& days);
std::string time_range_text(int from_min, int to_min);

// The local date of an instant ("2026-10-01"), in the process's time zone (the contract's).
std::string local_date(std::int64_t epoch_ms);

}  // namespace xj::alerts
