// `port`: a TCP service answers — connect latency, optionally a banner after sending a request —
// or, in listening mode, something on this host listens on a port (from /proc/net/tcp{,6}).
// The text parsers and the address matching are pure functions for fixture tests.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "xj/common/expected.hpp"

namespace xj {

// An IPv4 or IPv6 address as bytes in network order (IPv4 uses the first four).
struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};

  static Expected<IpAddress> parse(std::string_view text);  // "127.0.0.1", "::1"
  std::string str() const;
  bool is_wildcard() const;  // 0.0.0.0 or ::
  bool operator==(const IpAddress&) const = default;
};

// One socket line of /proc/net/tcp or /proc/net/tcp6.
struct TcpSocketEntry {
  IpAddress local;
  std::uint16_t port = 0;
  int state = 0;  // kernel TCP state; kTcpListen for listening sockets
};

inline constexpr int kTcpListen = 0x0A;

// Parses the whole text of /proc/net/tcp or /proc/net/tcp6 (header line included). The
// kernel prints each 32-bit word of an address as the hex of its in-memory value, so on the
// little-endian machines we run on "0100007F" is 127.0.0.1.
Expected<std::vector<TcpSocketEntry>> parse_proc_net_tcp(std::string_view text);

// Whether a listening socket accepts connections to one of the targets: same address, or a
// wildcard of the family. An IPv6 wildcard also takes IPv4 (dual stack, the Linux default),
// and an IPv4-mapped IPv6 address (::ffff:a.b.c.d) stands for its IPv4 address. An empty
// target list means any address.
bool listener_serves(const TcpSocketEntry& listener, const std::vector<IpAddress>& targets);

// The `send` key's escapes: \r \n \t \0 \\ and \xHH. Error names the bad escape.
Expected<std::string> unescape_send(std::string_view text);

// Bytes received from a service, shown to a human: at most max bytes, printable ASCII kept,
// \r \n \t and \xHH for everything else, so the result is always valid UTF-8.
std::string escape_bytes(std::string_view data, std::size_t max);

}  // namespace xj
