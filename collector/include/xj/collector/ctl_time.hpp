// Times as xunjianctl's operator reads and types them: local dates and times in the
// contract's time zone (what the reports and the contract use), or relative to now.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "xj/common/expected.hpp"

namespace xj {
namespace detail {
class TimeZone;
}

class ContractZone {
 public:
  // `name` from the system tz database, e.g. "Asia/Shanghai" or "UTC".
  static Expected<ContractZone> load(const std::string& name);

  const std::string& name() const { return name_; }

  // A --from/--to value as UTC epoch ms. Accepted:
  //   now | -24h, -30m, -7d, -1h30m (that long before now_ms)
  //   2026-11-30 (local midnight) | 2026-11-30 08:00 | 2026-11-30 08:00:05 ('T' also separates)
  // Errors quote the text and list the accepted forms.
  Expected<std::int64_t> parse(std::string_view text, std::int64_t now_ms) const;

  // "2026-11-30 08:00:05" local; "-" for 0 (never).
  std::string format(std::int64_t utc_ms) const;

 private:
  std::string name_;
  std::shared_ptr<const detail::TimeZone> tz_;
};

}  // namespace xj
