// The `console:` section of collector.yaml: who may reach the console, lockout, session
// timeouts, password policy. Read by ConsoleAuth (console_auth.hpp).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "xj/common/config_section.hpp"

namespace xj {

// One CIDR block, IPv4 or IPv6 ("10.0.0.0/8", "2001:db8::/32", a bare address = /32 or /128).
struct AddressRange {
  bool v6 = false;
  std::array<unsigned char, 16> bytes{};
  int prefix = 0;

  static std::optional<AddressRange> parse(const std::string& cidr);
  // `address` without port; IPv4-mapped IPv6 addresses match IPv4 ranges.
  bool contains(const std::string& address) const;
};

struct ConsoleConfig {
  std::vector<AddressRange> allow;  // empty: every address
  int max_failures = 5;
  std::chrono::milliseconds failure_window{15 * 60'000};  // failures counted within this
  std::chrono::milliseconds lock_for{15 * 60'000};
  std::chrono::milliseconds idle{30 * 60'000};
  std::chrono::milliseconds absolute{12 * 3'600'000};
  std::size_t password_min_length = 12;
};

// Throws ConfigError naming file, line and key.
ConsoleConfig parse_console_config(const ConfigSection& console);

}  // namespace xj
