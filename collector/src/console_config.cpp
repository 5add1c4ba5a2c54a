#include "xj/collector/console_config.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "xj/common/config_error.hpp"
#include "xj/common/yaml_file.hpp"

namespace xj {
namespace {

// One address as a full-length range (IPv4 in the first 4 bytes), or nullopt.
std::optional<AddressRange> parse_address(const std::string& text) {
  AddressRange r;
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    std::memcpy(r.bytes.data(), &v4, 4);
    r.prefix = 32;
    return r;
  }
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(&v6, mapped, 12) == 0) {  // ::ffff:a.b.c.d is that IPv4 address
      std::memcpy(r.bytes.data(), reinterpret_cast<const unsigned char*>(&v6) + 12, 4);
      r.prefix = 32;
      return r;
    }
    r.v6 = true;
    std::memcpy(r.bytes.data(), &v6, 16);
    r.prefix = 128;
    return r;
  }
  return std::nullopt;
}

}  // namespace

std::optional<AddressRange> AddressRange::parse(const std::string& cidr) {
  const auto slash = cidr.find('/');
  auto r = parse_address(cidr.substr(0, slash));
  if (!r) return std::nullopt;
  if (slash == std::string::npos) return r;
  const std::string bits = cidr.substr(slash + 1);
  if (bits.empty() || bits.size() > 3 ||
      bits.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  const int n = std::stoi(bits);
  if (n > r->prefix) return std::nullopt;
  r->prefix = n;
  return r;
}

bool AddressRange::contains(const std::string& address) const {
  auto a = parse_address(address);
  if (!a || a->v6 != v6) return false;
  for (int bit = 0; bit < prefix; ++bit) {
    const unsigned char mask = static_cast<unsigned char>(0x80 >> (bit % 8));
    if ((a->bytes[bit / 8] & mask) != (bytes[bit / 8] & mask)) return false;
  }
  return true;
}

ConsoleConfig parse_console_config(const ConfigSection& console) {
  ConsoleConfig cfg;
  console.allow_only({"allow", "lockout", "session", "password_min_length"});
  const auto allow = console.list("allow");
  for (std::size_t i = 0; i < allow.size(); ++i) {
    auto r = AddressRange::parse(allow[i]);
    if (!r) {
      const YAML::Node item = console.node()["allow"].IsSequence() ? console.node()["allow"][i]
                                                                   : console.node()["allow"];
      throw ConfigError(
          console.file(), yaml_line(item), console.where() + ".allow[" + std::to_string(i) + "]",
          "'" + allow[i] + "' is not an IPv4 or IPv6 address or CIDR block (like 10.0.0.0/8)");
    }
    cfg.allow.push_back(*r);
  }
  ConfigSection lockout = console.section("lockout");
  lockout.allow_only({"max_failures", "window", "lock_for"});
  cfg.max_failures = static_cast<int>(lockout.integer("max_failures", cfg.max_failures, 1, 1000));
  cfg.failure_window = lockout.duration("window", cfg.failure_window, std::chrono::seconds(1));
  cfg.lock_for = lockout.duration("lock_for", cfg.lock_for, std::chrono::seconds(1));
  ConfigSection session = console.section("session");
  session.allow_only({"idle", "absolute"});
  cfg.idle = session.duration("idle", cfg.idle, std::chrono::seconds(1));
  cfg.absolute = session.duration("absolute", cfg.absolute, std::chrono::seconds(1));
  if (cfg.absolute < cfg.idle) {
    session.fail(session.has("absolute") ? "absolute" : "idle",
                 "absolute must not be shorter than idle");
  }
  cfg.password_min_length =
      static_cast<std::size_t>(console.integer("password_min_length", 12, 8, 1024));
  return cfg;
}

}  // namespace xj
