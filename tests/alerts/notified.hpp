// The events of a rule engine step that send a message (firing, resolved); the others are
// only recorded.
#pragma once

#include <vector>

#include "xj/alerts/alert.hpp"

namespace xj::alerts::test {

inline std::vector<AlertEvent> notified(const std::vector<AlertEvent>& evs) {
  std::vector<AlertEvent> out;
  for (const auto& e : evs) {
    if (e.transition) out.push_back(e);
  }
  return out;
}

}  // namespace xj::alerts::test
