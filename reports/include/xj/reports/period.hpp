// Report periods in the contract's local time: a week is Monday 00:00 to Monday 00:00, a month
// the calendar month, any period whole local days [from, to]. Stored as UTC ms.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "xj/common/expected.hpp"

namespace xj::reports {

// Local time minus UTC at an instant, in ms (ReportSource::utc_offset_ms).
using UtcOffset = std::function<std::int64_t(std::int64_t utc_ms)>;

struct LocalDate {
  int year = 1970, month = 1, day = 1;
  std::string str() const;  // "2026-03-01"
  friend bool operator==(const LocalDate&, const LocalDate&) = default;
};

Expected<LocalDate> parse_local_date(const std::string& text);
std::int64_t days_from_civil(const LocalDate& d);  // days since 1970-01-01
LocalDate civil_from_days(std::int64_t days);
int weekday(const LocalDate& d);  // 1 Monday .. 7 Sunday

// UTC ms of local midnight starting `d`, and the local date of an instant.
std::int64_t local_midnight(const LocalDate& d, const UtcOffset& offset);
LocalDate local_date_of(std::int64_t utc_ms, const UtcOffset& offset);
// "2026-03-01 08:00" local.
std::string local_time_text(std::int64_t utc_ms, const UtcOffset& offset);

enum class ReportKind { kWeekly, kMonthly, kPeriod };
std::string_view to_string(ReportKind k);

struct Period {
  ReportKind kind = ReportKind::kPeriod;
  std::int64_t from_ms = 0, to_ms = 0;  // [from, to)
  LocalDate first_day, last_day;        // inclusive
  // Stable name of the period: "week-2026-03-02", "month-2026-03", "period-2026-03-01-2026-05-31".
  std::string key() const;
};

// The week (Monday..Sunday) containing `day`, the month of `year-month`, any whole days.
Period week_of(const LocalDate& day, const UtcOffset& offset);
Period month_of(int year, int month, const UtcOffset& offset);
Expected<Period> days_period(const LocalDate& first, const LocalDate& last, const UtcOffset& offset);

// The last complete week / month before the instant (what a schedule at `now` reports on).
Period previous_week(std::int64_t now_ms, const UtcOffset& offset);
Period previous_month(std::int64_t now_ms, const UtcOffset& offset);

}  // namespace xj::reports
