#include "xj/alerts/alert.hpp"

#include <cstdio>

namespace xj::alerts {

std::string_view to_string(AlertKind k) {
  switch (k) {
    case AlertKind::kStatus: return "status";
    case AlertKind::kNoData: return "no_data";
    case AlertKind::kFlapping: return "flapping";
    case AlertKind::kExternal: return "external";
    case AlertKind::kMetric: return "metric";
  }
  return "status";
}

std::string_view to_string(AlertState s) {
  switch (s) {
    case AlertState::kPending: return "pending";
    case AlertState::kFiring: return "firing";
    case AlertState::kResolved: return "resolved";
  }
  return "pending";
}

std::string_view to_string(Transition t) { return t == Transition::kFiring ? "firing" : "resolved"; }

std::optional<AlertKind> parse_alert_kind(std::string_view s) {
  for (auto k : {AlertKind::kStatus, AlertKind::kNoData, AlertKind::kFlapping, AlertKind::kExternal,
                 AlertKind::kMetric}) {
    if (to_string(k) == s) return k;
  }
  return std::nullopt;
}

std::optional<AlertState> parse_alert_state(std::string_view s) {
  for (auto k : {AlertState::kPending, AlertState::kFiring, AlertState::kResolved}) {
    if (to_string(k) == s) return k;
  }
  return std::nullopt;
}

std::string fingerprint(std::string_view rule, std::string_view host, std::string_view check,
                        const Labels& labels) {
  // FNV-1a 64 over the fields, each followed by a 0 byte so ("ab","c") != ("a","bc"). Labels
  // come sorted (std::map), so equal label sets give equal fingerprints.
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0;
    h *= 1099511628211ULL;
  };
  mix(rule);
  mix(host);
  mix(check);
  for (const auto& [k, v] : labels) {
    mix(k);
    mix(v);
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace xj::alerts
