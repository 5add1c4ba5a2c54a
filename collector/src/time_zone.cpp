#include "detail/time_zone.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace xj::detail {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Howard Hinnant's civil-calendar algorithms (proleptic Gregorian, day 0 = 1970-01-01).
std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::int64_t year_of_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return yoe + era * 400 + (m <= 2 ? 1 : 0);
}

int weekday_of_days(std::int64_t z) {  // 0 = Sunday
  return static_cast<int>(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

std::int64_t be(const std::string& b, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  if (bytes == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  return static_cast<std::int64_t>(v);
}

// POSIX TZ text reader: names, offsets ([+-]hh[:mm[:ss]]) and Mm.w.d rules.
struct PosixReader {
  const std::string& s;
  std::size_t pos = 0;

  bool at_end() const { return pos >= s.size(); }
  bool name() {
    if (!at_end() && s[pos] == '<') {
      auto close = s.find('>', pos);
      if (close == std::string::npos) return false;
      pos = close + 1;
      return true;
    }
    std::size_t start = pos;
    while (!at_end() && std::isalpha(static_cast<unsigned char>(s[pos]))) ++pos;
    return pos - start >= 3;
  }
  std::optional<std::int64_t> number() {
    std::size_t start = pos;
    while (!at_end() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
    if (pos == start) return std::nullopt;
    return std::stoll(s.substr(start, pos - start));
  }
  std::optional<std::int64_t> hms() {  // seconds, signed
    int sign = 1;
    if (!at_end() && (s[pos] == '+' || s[pos] == '-')) sign = s[pos++] == '-' ? -1 : 1;
    auto h = number();
    if (!h) return std::nullopt;
    std::int64_t secs = *h * 3600;
    for (int mult : {60, 1}) {
      if (at_end() || s[pos] != ':') break;
      ++pos;
      auto part = number();
      if (!part) return std::nullopt;
      secs += *part * mult;
    }
    return sign * secs;
  }
};

}  // namespace

Expected<TimeZone::Posix> TimeZone::parse_posix(const std::string& text) {
  PosixReader r{text};
  Posix p;
  auto bad = [&](const std::string& what) {
    return make_error("POSIX TZ rule '" + text + "': " + what);
  };
  if (!r.name()) return bad("no zone abbreviation");
  auto std_off = r.hms();
  if (!std_off) return bad("no UTC offset");
  p.std_off_s = -*std_off;  // POSIX offsets count west of Greenwich
  p.dst_off_s = p.std_off_s;
  if (r.at_end()) return p;
  if (!r.name()) return bad("bad daylight-saving abbreviation");
  p.dst_off_s = p.std_off_s + 3600;
  if (!r.at_end() && r.s[r.pos] != ',') {
    auto dst_off = r.hms();
    if (!dst_off) return bad("bad daylight-saving offset");
    p.dst_off_s = -*dst_off;
  }
  for (auto* rule : {&p.start, &p.end}) {
    if (r.at_end() || r.s[r.pos] != ',') return bad("daylight saving without start/end rules");
    ++r.pos;
    if (r.at_end() || r.s[r.pos] != 'M') return bad("only Mm.w.d rules are supported");
    ++r.pos;
    Rule rl;
    auto m = r.number();
    if (!m || r.at_end() || r.s[r.pos++] != '.') return bad("bad month in rule");
    auto w = r.number();
    if (!w || r.at_end() || r.s[r.pos++] != '.') return bad("bad week in rule");
    auto d = r.number();
    if (!d || *m < 1 || *m > 12 || *w < 1 || *w > 5 || *d < 0 || *d > 6) {
      return bad("rule out of range");
    }
    rl.month = static_cast<int>(*m);
    rl.week = static_cast<int>(*w);
    rl.wday = static_cast<int>(*d);
    if (!r.at_end() && r.s[r.pos] == '/') {
      ++r.pos;
      auto t = r.hms();
      if (!t) return bad("bad rule time");
      rl.time_s = *t;
    }
    *rule = rl;
  }
  if (!r.at_end()) return bad("unexpected text after the rules");
  return p;
}

std::int64_t TimeZone::posix_offset_s(std::int64_t utc_s) const {
  const Posix& p = *footer_;
  if (!p.start) return p.std_off_s;
  const std::int64_t year = year_of_days(floor_div(utc_s + p.std_off_s, 86400));
  auto local_s = [&](const Rule& r) {
    std::int64_t first = days_from_civil(year, r.month, 1);
    std::int64_t day = first + (r.wday - weekday_of_days(first) + 7) % 7 + 7 * (r.week - 1);
    std::int64_t next_month =
        r.month == 12 ? days_from_civil(year + 1, 1, 1) : days_from_civil(year, r.month + 1, 1);
    while (day >= next_month) day -= 7;  // week 5 = the last such weekday
    return day * 86400 + r.time_s;
  };
  const std::int64_t start = local_s(*p.start) - p.std_off_s;  // given in standard time
  const std::int64_t end = local_s(*p.end) - p.dst_off_s;      // given in daylight time
  bool dst = start < end ? (utc_s >= start && utc_s < end) : !(utc_s >= end && utc_s < start);
  return dst ? p.dst_off_s : p.std_off_s;
}

Expected<TimeZone> TimeZone::parse(const std::string& name, const std::string& b) {
  auto bad = [&](const std::string& what) {
    return make_error("time zone '" + name + "': " + what);
  };
  if (b.size() < 44 || b.compare(0, 4, "TZif") != 0) return bad("not a TZif file");
  auto counts = [&](std::size_t at, std::int64_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = be(b, at + 20 + 4 * i, 4);
  };
  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  std::int64_t c[6];
  counts(0, c);
  auto block_len = [&](const std::int64_t* k, int tsize) {
    return k[3] * tsize + k[3] + k[4] * 6 + k[5] + k[2] * (tsize + 4) + k[1] + k[0];
  };
  std::size_t data = 44;
  int tsize = 4;
  if (b[4] >= '2') {
    std::size_t h2 = 44 + static_cast<std::size_t>(block_len(c, 4));
    if (b.size() < h2 + 44 || b.compare(h2, 4, "TZif") != 0) return bad("truncated TZif file");
    counts(h2, c);
    data = h2 + 44;
    tsize = 8;
  }
  for (auto v : c) {
    if (v < 0 || v > 1'000'000) return bad("implausible TZif header");
  }
  const std::size_t end = data + static_cast<std::size_t>(block_len(c, tsize));
  if (b.size() < end || c[4] < 1) return bad("truncated TZif file");
  TimeZone tz;
  tz.name_ = name;
  const std::size_t idx_at = data + static_cast<std::size_t>(c[3] * tsize);
  const std::size_t types_at = idx_at + static_cast<std::size_t>(c[3]);
  auto type_off = [&](std::int64_t t) {
    return static_cast<std::int32_t>(be(b, types_at + static_cast<std::size_t>(t * 6), 4));
  };
  for (std::int64_t i = 0; i < c[3]; ++i) {
    auto t = static_cast<unsigned char>(b[idx_at + static_cast<std::size_t>(i)]);
    if (t >= c[4]) return bad("transition refers to a missing type");
    tz.transitions_s_.push_back(be(b, data + static_cast<std::size_t>(i * tsize), tsize));
    tz.offsets_s_.push_back(type_off(t));
  }
  tz.initial_offset_s_ = type_off(0);
  if (tsize == 8 && end < b.size() && b[end] == '\n') {
    auto close = b.find('\n', end + 1);
    std::string footer = b.substr(end + 1, close == std::string::npos ? 0 : close - end - 1);
    if (!footer.empty()) {
      auto p = parse_posix(footer);
      if (!p) return bad(p.error());
      tz.footer_ = *p;
    }
  }
  return tz;
}

Expected<TimeZone> TimeZone::load(const std::string& name) {
  bool sane = !name.empty() && name.front() != '/' && name.find("..") == std::string::npos &&
              std::all_of(name.begin(), name.end(), [](char ch) {
                return std::isalnum(static_cast<unsigned char>(ch)) || ch == '/' || ch == '_' ||
                       ch == '-' || ch == '+';
              });
  if (!sane) return make_error("time zone '" + name + "': not a tz database name like Asia/Shanghai");
  const char* dir = std::getenv("TZDIR");
  std::string path = std::string(dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo") +
                     "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("time zone '" + name + "': cannot read " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return parse(name, bytes.str());
}

std::int64_t TimeZone::offset_ms(std::int64_t utc_ms) const {
  const std::int64_t s = floor_div(utc_ms, 1000);
  if (transitions_s_.empty() || s < transitions_s_.front()) {
    return 1000 * (transitions_s_.empty() && footer_ ? posix_offset_s(s) : initial_offset_s_);
  }
  if (footer_ && s >= transitions_s_.back()) return 1000 * posix_offset_s(s);
  auto it = std::upper_bound(transitions_s_.begin(), transitions_s_.end(), s);
  return 1000 * static_cast<std::int64_t>(offsets_s_[static_cast<std::size_t>(
                    it - transitions_s_.begin() - 1)]);
}

std::int64_t TimeZone::local_day(std::int64_t utc_ms) const {
  return floor_div(utc_ms + offset_ms(utc_ms), kDayMs);
}

std::int64_t TimeZone::day_start(std::int64_t utc_ms) const {
  const std::int64_t day = local_day(utc_ms);
  const std::int64_t midnight = day * kDayMs;  // local clock reading
  std::int64_t cand = midnight - offset_ms(utc_ms);
  for (int i = 0; i < 2; ++i) cand = midnight - offset_ms(cand);
  if (cand <= utc_ms && local_day(cand) == day && local_day(cand - 1) < day) return cand;
  // Midnight does not exist that day (a transition skips it): the first instant of the day.
  std::int64_t lo = utc_ms - 2 * kDayMs, hi = utc_ms;
  while (hi - lo > 1) {
    std::int64_t mid = lo + (hi - lo) / 2;
    (local_day(mid) >= day ? hi : lo) = mid;
  }
  return hi;
}

std::int64_t TimeZone::next_day_start(std::int64_t day_start_ms) const {
  for (std::int64_t h = 36; h <= 108; h += 24) {
    std::int64_t next = day_start(day_start_ms + h * 3'600'000);
    if (next > day_start_ms) return next;
  }
  return day_start_ms + kDayMs;
}

}  // namespace xj::detail
