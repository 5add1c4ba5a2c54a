// A time zone from the system tz database (TZif files, RFC 8536), for the local days of the
// daily rollups. Read once at open; after that pure and thread-safe, unlike localtime_r,
// whose zone is the process-wide TZ.
//
// Times before the file's first transition take its first type (RFC 8536); times after the
// last transition follow the file's POSIX TZ footer (e.g. "CET-1CEST,M3.5.0,M10.5.0/3"), so
// "slim" files that stop at the last rule change work too. Footers with Julian-day rules
// ("Jn", "n") are rejected at load: tzdata does not use them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "xj/common/expected.hpp"

namespace xj::detail {

class TimeZone {
 public:
  // `name` like "Asia/Shanghai", read from $TZDIR or /usr/share/zoneinfo.
  static Expected<TimeZone> load(const std::string& name);
  // Parses TZif bytes (exposed for tests); `name` only names errors.
  static Expected<TimeZone> parse(const std::string& name, const std::string& bytes);

  const std::string& name() const { return name_; }
  // Local time minus UTC, in ms, at the instant `utc_ms`.
  std::int64_t offset_ms(std::int64_t utc_ms) const;
  // UTC ms of the start of the local day that contains `utc_ms` (local midnight, or the
  // first existing instant of the day when a transition skips midnight).
  std::int64_t day_start(std::int64_t utc_ms) const;
  // Start of the following local day (23, 24 or 25 hours later around DST changes).
  std::int64_t next_day_start(std::int64_t day_start_ms) const;

 private:
  struct Rule {  // Mm.w.d/time
    int month = 0, week = 0, wday = 0;
    std::int64_t time_s = 7200;
  };
  struct Posix {
    std::int64_t std_off_s = 0, dst_off_s = 0;
    std::optional<Rule> start, end;  // no rules: std_off_s all year
  };
  static Expected<Posix> parse_posix(const std::string& text);
  std::int64_t posix_offset_s(std::int64_t utc_s) const;
  std::int64_t local_day(std::int64_t utc_ms) const;

  std::string name_;
  std::vector<std::int64_t> transitions_s_;  // UTC seconds, ascending
  std::vector<std::int32_t> offsets_s_;      // offset in force from each transition on
  std::int32_t initial_offset_s_ = 0;
  std::optional<Posix> footer_;
};

}  // namespace xj::detail
