#include "xj/collector/ctl_time.hpp"

#include <chrono>
#include <cstdio>
#include <regex>

#include "detail/time_zone.hpp"
#include "xj/common/duration.hpp"

namespace xj {
namespace {

using namespace std::chrono;

constexpr const char* kForms =
    "now, -24h (a duration before now), 2026-11-30, 2026-11-30 08:00 or 2026-11-30 08:00:05";

}  // namespace

Expected<ContractZone> ContractZone::load(const std::string& name) {
  auto tz = detail::TimeZone::load(name);
  if (!tz) return make_error(tz.error());
  ContractZone z;
  z.name_ = name;
  z.tz_ = std::make_shared<const detail::TimeZone>(std::move(tz).value());
  return z;
}

Expected<std::int64_t> ContractZone::parse(std::string_view text, std::int64_t now_ms) const {
  const std::string t(text);
  if (t == "now") return now_ms;
  if (!t.empty() && t[0] == '-') {
    auto d = parse_duration(std::string_view(t).substr(1));
    if (!d) return make_error("time '" + t + "': '" + t.substr(1) + "' is not a duration like 24h or 1h30m");
    return now_ms - d->count();
  }
  static const std::regex form(R"((\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?)");
  std::smatch m;
  if (!std::regex_match(t, m, form)) {
    return make_error("time '" + t + "' is not one of: " + kForms);
  }
  auto num = [&](int i) { return m[i].matched ? std::stoi(m[i].str()) : 0; };
  const year_month_day date{year{num(1)}, month{static_cast<unsigned>(num(2))},
                            day{static_cast<unsigned>(num(3))}};
  if (!date.ok()) return make_error("time '" + t + "': no such date");
  if (num(4) > 23 || num(5) > 59 || num(6) > 59) return make_error("time '" + t + "': no such time of day");
  const std::int64_t local_ms =
      duration_cast<milliseconds>(sys_days(date).time_since_epoch() + hours(num(4)) +
                                  minutes(num(5)) + seconds(num(6)))
          .count();
  // The offset at the instant itself, found from a first guess; exact except inside a
  // daylight-saving jump, where the result lands on one side of it.
  const std::int64_t guess = local_ms - tz_->offset_ms(local_ms);
  return local_ms - tz_->offset_ms(guess);
}

std::string ContractZone::format(std::int64_t utc_ms) const {
  if (utc_ms == 0) return "-";
  const sys_time<milliseconds> local{milliseconds(utc_ms + tz_->offset_ms(utc_ms))};
  const auto day_start = floor<days>(local);
  const year_month_day date{day_start};
  const hh_mm_ss<milliseconds> time{local - day_start};
  char buf[64];  // what -Wformat-truncation assumes %ld may need at -O2, not what is used
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02ld:%02ld:%02ld", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<long>(time.hours().count()), static_cast<long>(time.minutes().count()),
                static_cast<long>(time.seconds().count()));
  return buf;
}

}  // namespace xj
