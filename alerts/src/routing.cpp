#include "xj/alerts/routing.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace xj::alerts {

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, no time zone).
std::optional<std::int64_t> civil_days(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return std::nullopt;
  for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u}) {
    if (d[i] < '0' || d[i] > '9') return std::nullopt;
  }
  auto num = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (d[i] - '0');
    return v;
  };
  int y = num(0, 4);
  const int m = num(5, 2), day = num(8, 2);
  if (m < 1 || m > 12 || day < 1 || day > 31) return std::nullopt;
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = static_cast<unsigned>((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + day - 1);
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days = era * 146097 + static_cast<std::int64_t>(doe) - 719468;
  if (civil_date(days) != d) return std::nullopt;  // 2026-02-30
  return days;
}

std::string civil_date(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y + (m <= 2)), m, d);
  return buf;
}

std::int64_t local_epoch_ms(std::int64_t days, int minute) {
  const std::string d = civil_date(days);
  std::tm tm{};
  tm.tm_year = std::stoi(d.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(d.substr(5, 2)) - 1;
  tm.tm_mday = std::stoi(d.substr(8, 2));
  tm.tm_hour = minute / 60;
  tm.tm_min = minute % 60;
  tm.tm_isdst = -1;
  return static_cast<std::int64_t>(std::mktime(&tm)) * 1000;
}

namespace {

// The duty date of an instant: its local date, or the day before when before the handover.
std::int64_t duty_day(const DutyRoster& r, std::int64_t now_ms) {
  std::time_t t = static_cast<std::time_t>(now_ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  std::int64_t day = *civil_days(buf);
  if (tm.tm_hour * 60 + tm.tm_min < r.handover_min) --day;
  return day;
}

std::pair<std::string, std::string> person_on(const DutyRoster& r, std::int64_t day,
                                              const std::set<std::string>& holidays) {
  const std::string date = civil_date(day);
  if (auto it = r.overrides.find(date); it != r.overrides.end()) return {it->second, "override"};
  if (!r.holiday_person.empty() && holidays.count(date)) return {r.holiday_person, "holiday"};
  const std::int64_t start = civil_days(r.start).value_or(0);
  const std::int64_t period = std::max(1, r.period_days);
  const std::int64_t diff = day - start;
  const std::int64_t k = diff >= 0 ? diff / period : -((-diff + period - 1) / period);
  const std::int64_t n = static_cast<std::int64_t>(r.rotation.size());
  return {r.rotation[static_cast<std::size_t>(((k % n) + n) % n)], "rotation"};
}

}  // namespace

DutyNow duty_at(const DutyRoster& r, std::int64_t now_ms, const std::set<std::string>& holidays) {
  DutyNow out;
  if (!r.configured()) return out;
  const std::int64_t today = duty_day(r, now_ms);
  std::tie(out.person, out.reason) = person_on(r, today, holidays);
  out.duty_date = civil_date(today);
  constexpr int kHorizon = 400;  // days looked at either way
  std::int64_t first = today;
  while (first > today - kHorizon && person_on(r, first - 1, holidays).first == out.person) --first;
  out.since_ms = local_epoch_ms(first, r.handover_min);
  for (std::int64_t d = today + 1; d <= today + kHorizon; ++d) {
    auto next = person_on(r, d, holidays).first;
    if (next != out.person) {
      out.next_person = std::move(next);
      out.next_handover_ms = local_epoch_ms(d, r.handover_min);
      break;
    }
  }
  return out;
}

bool Route::matches(const Alert& a, std::int64_t at_ms,
                    const std::set<std::string>& holidays) const {
  if (!severities.empty() && !severities.count(a.severity)) return false;
  for (const auto& m : matchers) {
    if (!m.matches(a)) return false;
  }
  return !when || recurrence_active(*when, at_ms, holidays);
}

bool person_addressed(std::string_view type) {
  return type == "sms_http" || type == "aliyun_sms" || type == "email";
}

std::string address_of(const Person& p, std::string_view type) {
  if (type == "email") return p.email;
  if (type == "sms_http" || type == "aliyun_sms") return p.phone;
  return "";
}

std::vector<const Route*> Routing::routes_for(const Alert& a, std::int64_t at_ms,
                                              const std::set<std::string>& holidays) const {
  std::vector<const Route*> out;
  for (const auto& r : routes) {
    if (!r.matches(a, at_ms, holidays)) continue;
    out.push_back(&r);
    if (!r.continue_matching) break;
  }
  if (out.empty() && default_route) out.push_back(&*default_route);
  return out;
}

std::vector<Delivery> Routing::deliveries(const Target& t, std::int64_t at_ms,
                                          const std::set<std::string>& holidays) const {
  std::vector<std::string> ids;
  for (const auto& p : t.people) {
    std::string id = p == kOnDuty ? duty_at(duty, at_ms, holidays).person : p;
    if (!id.empty() && std::find(ids.begin(), ids.end(), id) == ids.end())
      ids.push_back(std::move(id));
  }
  std::vector<Delivery> out;
  auto add = [&out](Delivery d) {
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(std::move(d));
  };
  for (const auto& ch : t.channels) {
    auto type = channel_types.find(ch);
    if (type == channel_types.end() || !person_addressed(type->second)) {
      add({ch, "", ""});
      continue;
    }
    // No person named: the channel's own to: list (the channel fills it in when it enqueues).
    if (ids.empty()) add({ch, "", ""});
    for (const auto& id : ids) {
      auto p = people.find(id);
      if (p == people.end()) continue;
      std::string addr = address_of(p->second, type->second);
      if (!addr.empty()) add({ch, std::move(addr), id});
    }
  }
  return out;
}

}  // namespace xj::alerts
