// Pure parts of the port check: /proc/net/tcp{,6} text, address matching and the escapes of
// what is sent and received; see port_check.hpp.
#include <arpa/inet.h>

#include <charconv>
#include <cstdio>
#include <cstring>

#include "xj/checks/port_check.hpp"

namespace xj {
namespace {

bool hex_u32(std::string_view s, std::uint32_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return ec == std::errc() && p == s.data() + s.size();
}

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// "0100007F:1F90" -> address and port; the address is 8 (IPv4) or 32 (IPv6) hex digits.
bool parse_endpoint(std::string_view text, IpAddress& addr, std::uint16_t& port) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view hex = text.substr(0, colon);
  std::uint32_t p = 0;
  if (!hex_u32(text.substr(colon + 1), p) || p > 0xFFFF || text.size() - colon - 1 != 4) {
    return false;
  }
  if (hex.size() != 8 && hex.size() != 32) return false;
  addr = IpAddress{};
  addr.v6 = hex.size() == 32;
  for (std::size_t word = 0; word * 8 < hex.size(); ++word) {
    std::uint32_t v = 0;
    if (!hex_u32(hex.substr(word * 8, 8), v)) return false;
    std::memcpy(addr.bytes.data() + word * 4, &v, 4);  // back to the kernel's memory order
  }
  port = static_cast<std::uint16_t>(p);
  return true;
}

// ::ffff:a.b.c.d is an IPv4 address reached through an IPv6 socket.
IpAddress unmap(const IpAddress& a) {
  static constexpr std::uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (!a.v6 || std::memcmp(a.bytes.data(), kPrefix, 12) != 0) return a;
  IpAddress v4;
  std::memcpy(v4.bytes.data(), a.bytes.data() + 12, 4);
  return v4;
}

}  // namespace

Expected<IpAddress> IpAddress::parse(std::string_view text) {
  std::string s(text);
  IpAddress a;
  if (::inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  a.v6 = true;
  if (::inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) return a;
  return make_error("'" + s + "' is not an IPv4 or IPv6 address");
}

std::string IpAddress::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

bool IpAddress::is_wildcard() const {
  for (std::size_t i = 0; i < (v6 ? 16u : 4u); ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

Expected<std::vector<TcpSocketEntry>> parse_proc_net_tcp(std::string_view text) {
  std::vector<TcpSocketEntry> out;
  int line_no = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    auto f = split_ws(line);
    if (f.empty() || (line_no == 1 && f[0] == "sl")) continue;
    TcpSocketEntry e;
    IpAddress remote;
    std::uint16_t remote_port = 0;
    std::uint32_t state = 0;
    if (f.size() < 4 || f[0].back() != ':' || !parse_endpoint(f[1], e.local, e.port) ||
        !parse_endpoint(f[2], remote, remote_port) || !hex_u32(f[3], state) || f[3].size() != 2) {
      return make_error("unexpected /proc/net/tcp line " + std::to_string(line_no) + ": '" +
                        escape_bytes(line, 100) + "'");
    }
    e.state = static_cast<int>(state);
    out.push_back(e);
  }
  return out;
}

bool listener_serves(const TcpSocketEntry& listener, const std::vector<IpAddress>& targets) {
  if (targets.empty()) return true;
  const IpAddress local = unmap(listener.local);
  for (const auto& raw : targets) {
    const IpAddress t = unmap(raw);
    if (local.v6 == t.v6 && (local == t || local.is_wildcard())) return true;
    if (local.v6 && !t.v6 && local.is_wildcard()) return true;
  }
  return false;
}

Expected<std::string> unescape_send(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (i + 1 >= text.size()) return make_error("ends with a lone backslash");
    char c = text[++i];
    switch (c) {
      case 'r':
        out += '\r';
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case '0':
        out += '\0';
        break;
      case '\\':
        out += '\\';
        break;
      case 'x': {
        std::uint32_t v = 0;
        if (i + 2 >= text.size() || !hex_u32(text.substr(i + 1, 2), v)) {
          return make_error("bad escape '\\x" + std::string(text.substr(i + 1, 2)) +
                            "': \\x needs two hex digits");
        }
        out += static_cast<char>(v);
        i += 2;
        break;
      }
      default:
        return make_error("unknown escape '\\" + std::string(1, c) +
                          "'; known: \\r \\n \\t \\0 \\\\ \\xHH");
    }
  }
  return out;
}

std::string escape_bytes(std::string_view data, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < data.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(data[i]);
    switch (c) {
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c >= 0x20 && c < 0x7F) {
          out += static_cast<char>(c);
        } else {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          out += buf;
        }
    }
  }
  if (data.size() > max) out += "...";
  return out;
}

}  // namespace xj
