#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace xj {

// How often a source reports, for those who judge its silence (no data in the alert rules, a
// stale member in the chain view): the longest of its last kGaps gaps between results.
// One short gap, such as a result written early because its verdict changed, does not make a
// few seconds' quiet look like silence; a shortened interval is taken after kGaps results.
class ReportInterval {
 public:
  static constexpr std::size_t kGaps = 4;

  void add_gap(std::int64_t ms) {
    if (ms <= 0) return;
    gaps_[next_] = ms;
    next_ = (next_ + 1) % kGaps;
  }
  // 0: not known yet (fewer than two results).
  std::int64_t ms() const { return *std::max_element(gaps_.begin(), gaps_.end()); }

 private:
  std::array<std::int64_t, kGaps> gaps_{};
  std::size_t next_ = 0;
};

}  // namespace xj
