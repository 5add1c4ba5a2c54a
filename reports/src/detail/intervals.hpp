// Disjoint half-open time intervals [from, to), kept sorted: unions of down time across a
// host's checks and across a system's hosts, minus the time without data.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace xj::reports::detail {

class Intervals {
 public:
  Intervals() = default;
  Intervals(std::int64_t from, std::int64_t to) { add(from, to); }

  void add(std::int64_t from, std::int64_t to) {
    if (to <= from) return;
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    out.reserve(v_.size() + 1);
    bool placed = false;
    for (const auto& [a, b] : v_) {
      if (b < from) {
        out.emplace_back(a, b);
      } else if (to < a) {
        if (!placed) out.emplace_back(from, to), placed = true;
        out.emplace_back(a, b);
      } else {
        from = std::min(from, a);
        to = std::max(to, b);
      }
    }
    if (!placed) out.emplace_back(from, to);
    v_ = std::move(out);
  }
  void unite(const Intervals& o) {
    for (const auto& [a, b] : o.v_) add(a, b);
  }
  Intervals intersect(const Intervals& o) const {
    Intervals r;
    std::size_t i = 0, j = 0;
    while (i < v_.size() && j < o.v_.size()) {
      const std::int64_t a = std::max(v_[i].first, o.v_[j].first);
      const std::int64_t b = std::min(v_[i].second, o.v_[j].second);
      if (a < b) r.v_.emplace_back(a, b);
      (v_[i].second < o.v_[j].second ? i : j)++;
    }
    return r;
  }
  Intervals minus(const Intervals& o) const {
    Intervals r;
    for (auto [a, b] : v_) {
      for (const auto& [c, d] : o.v_) {
        if (d <= a || c >= b) continue;
        if (c > a) r.v_.emplace_back(a, c);
        a = std::max(a, d);
        if (a >= b) break;
      }
      if (a < b) r.v_.emplace_back(a, b);
    }
    return r;
  }
  std::int64_t length() const {
    std::int64_t n = 0;
    for (const auto& [a, b] : v_) n += b - a;
    return n;
  }
  std::int64_t length_within(std::int64_t from, std::int64_t to) const {
    return intersect(Intervals(from, to)).length();
  }
  bool empty() const { return v_.empty(); }
  const std::vector<std::pair<std::int64_t, std::int64_t>>& parts() const { return v_; }

 private:
  std::vector<std::pair<std::int64_t, std::int64_t>> v_;
};

}  // namespace xj::reports::detail
