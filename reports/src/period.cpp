#include "xj/reports/period.hpp"

#include <cstdio>

namespace xj::reports {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if (a % b != 0 && a < 0) --q;
  return q;
}

LocalDate first_of_next_month(int year, int month) {
  return month == 12 ? LocalDate{year + 1, 1, 1} : LocalDate{year, month + 1, 1};
}

}  // namespace

std::string LocalDate::str() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
  return buf;
}

Expected<LocalDate> parse_local_date(const std::string& text) {
  int y = 0, m = 0, d = 0;
  char tail = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) {
    return make_error("'" + text + "' is not a date like 2026-03-01");
  }
  LocalDate out{y, m, d};
  if (y < 1970 || m < 1 || m > 12 || d < 1 || !(civil_from_days(days_from_civil(out)) == out)) {
    return make_error("'" + text + "' is not a calendar date");
  }
  return out;
}

// Howard Hinnant's days_from_civil / civil_from_days.
std::int64_t days_from_civil(const LocalDate& dt) {
  const std::int64_t y = dt.year - (dt.month <= 2 ? 1 : 0);
  const std::int64_t era = floor_div(y, 400);
  const std::int64_t yoe = y - era * 400;
  const std::int64_t mp = (dt.month + 9) % 12;
  const std::int64_t doy = (153 * mp + 2) / 5 + dt.day - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

LocalDate civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = floor_div(z, 146097);
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return LocalDate{static_cast<int>(yoe + era * 400 + (m <= 2 ? 1 : 0)), m, d};
}

int weekday(const LocalDate& d) {
  // 1970-01-01 was a Thursday (4).
  return static_cast<int>(((days_from_civil(d) % 7) + 7 + 3) % 7) + 1;
}

std::int64_t local_midnight(const LocalDate& d, const UtcOffset& offset) {
  const std::int64_t local = days_from_civil(d) * kDayMs;
  // The offset at the instant itself: two steps settle it for any real zone.
  std::int64_t utc = local - offset(local);
  utc = local - offset(utc);
  return utc;
}

LocalDate local_date_of(std::int64_t utc_ms, const UtcOffset& offset) {
  return civil_from_days(floor_div(utc_ms + offset(utc_ms), kDayMs));
}

std::string local_time_text(std::int64_t utc_ms, const UtcOffset& offset) {
  const std::int64_t local = utc_ms + offset(utc_ms);
  const std::int64_t in_day = local - floor_div(local, kDayMs) * kDayMs;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s %02d:%02d", local_date_of(utc_ms, offset).str().c_str(),
                static_cast<int>(in_day / 3'600'000), static_cast<int>(in_day / 60'000 % 60));
  return buf;
}

std::string_view to_string(ReportKind k) {
  switch (k) {
    case ReportKind::kWeekly: return "weekly";
    case ReportKind::kMonthly: return "monthly";
    case ReportKind::kPeriod: return "period";
  }
  return "period";
}

std::string Period::key() const {
  switch (kind) {
    case ReportKind::kWeekly: return "week-" + first_day.str();
    case ReportKind::kMonthly: return "month-" + first_day.str().substr(0, 7);
    case ReportKind::kPeriod: return "period-" + first_day.str() + "-" + last_day.str();
  }
  return "";
}

Period week_of(const LocalDate& day, const UtcOffset& offset) {
  const std::int64_t monday = days_from_civil(day) - (weekday(day) - 1);
  Period p;
  p.kind = ReportKind::kWeekly;
  p.first_day = civil_from_days(monday);
  p.last_day = civil_from_days(monday + 6);
  p.from_ms = local_midnight(p.first_day, offset);
  p.to_ms = local_midnight(civil_from_days(monday + 7), offset);
  return p;
}

Period month_of(int year, int month, const UtcOffset& offset) {
  Period p;
  p.kind = ReportKind::kMonthly;
  p.first_day = LocalDate{year, month, 1};
  const LocalDate next = first_of_next_month(year, month);
  p.last_day = civil_from_days(days_from_civil(next) - 1);
  p.from_ms = local_midnight(p.first_day, offset);
  p.to_ms = local_midnight(next, offset);
  return p;
}

Expected<Period> days_period(const LocalDate& first, const LocalDate& last, const UtcOffset& offset) {
  if (days_from_civil(last) < days_from_civil(first)) {
    return make_error("the period ends (" + last.str() + ") before it begins (" + first.str() + ")");
  }
  Period p;
  p.kind = ReportKind::kPeriod;
  p.first_day = first;
  p.last_day = last;
  p.from_ms = local_midnight(first, offset);
  p.to_ms = local_midnight(civil_from_days(days_from_civil(last) + 1), offset);
  return p;
}

Period previous_week(std::int64_t now_ms, const UtcOffset& offset) {
  const LocalDate today = local_date_of(now_ms, offset);
  return week_of(civil_from_days(days_from_civil(today) - 7), offset);
}

Period previous_month(std::int64_t now_ms, const UtcOffset& offset) {
  const LocalDate today = local_date_of(now_ms, offset);
  return today.month == 1 ? month_of(today.year - 1, 12, offset)
                          : month_of(today.year, today.month - 1, offset);
}

}  // namespace xj::reports
