// URL parsing of the HTTP client (declared in http_client.hpp); pure, no networking.
#include <cctype>
#include <charconv>

#include "xj/common/http_client.hpp"

namespace xj {

namespace {

bool is_ipv6_literal(const std::string& host) { return host.find(':') != std::string::npos; }

std::uint16_t default_port(const std::string& scheme) { return scheme == "https" ? 443 : 80; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

// Path and query as sent on the request line: bytes beyond ASCII are percent-encoded (a
// URL written in a config may hold 中文), spaces and control characters are refused.
Expected<std::string> encode_target(std::string_view text, std::string_view url) {
  std::string out = text.empty() || text[0] == '?' ? "/" : "";
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) {
      return make_error("'" + std::string(url) + "' contains a space or control character");
    }
    if (u >= 0x80) {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  return out;
}

// RFC 3986 5.2.4, so that "../x" in a Location does not reach the server verbatim.
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> kept;
  std::size_t pos = 1;  // path starts with '/'
  while (pos <= path.size()) {
    std::size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    const auto seg = path.substr(pos, end - pos);
    const bool last = end == path.size();
    if (seg == "..") {
      if (!kept.empty()) kept.pop_back();
      if (last) kept.push_back("");
    } else if (seg == ".") {
      if (last) kept.push_back("");
    } else {
      kept.push_back(seg);
    }
    pos = end + 1;
  }
  std::string out;
  for (auto seg : kept) {
    out += '/';
    out += seg;
  }
  return out.empty() ? "/" : out;
}

}  // namespace

std::string Url::host_port() const {
  return (is_ipv6_literal(host) ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Url::authority() const {
  if (port != default_port(scheme)) return host_port();
  return is_ipv6_literal(host) ? "[" + host + "]" : host;
}

std::string Url::str() const { return scheme + "://" + authority() + target; }

Expected<Url> parse_url(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  const auto sep = text.find("://");
  Url url;
  if (sep != std::string_view::npos) url.scheme = lower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") {
    return make_error(quoted + " is not an http:// or https:// URL");
  }
  std::string_view rest = text.substr(sep + 3);
  const auto hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  const auto auth_end = rest.find_first_of("/?");
  std::string_view auth = rest.substr(0, auth_end);
  const std::string_view target =
      auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);
  if (auth.find('@') != std::string_view::npos) {
    return make_error(quoted + ": user:password in a URL is not supported; send an " +
                      "Authorization header instead");
  }
  std::string_view port_text;
  if (!auth.empty() && auth[0] == '[') {
    const auto close = auth.find(']');
    if (close == std::string_view::npos) return make_error(quoted + ": '[' without ']'");
    url.host = lower(auth.substr(1, close - 1));
    if (url.host.find_first_not_of("0123456789abcdef:.") != std::string::npos ||
        !is_ipv6_literal(url.host)) {
      return make_error(quoted + ": '" + url.host + "' in brackets is not an IPv6 address");
    }
    const auto after = auth.substr(close + 1);
    if (!after.empty() && after[0] != ':') return make_error(quoted + ": text after ']'");
    if (!after.empty()) port_text = after.substr(1);
  } else {
    const auto colon = auth.find(':');
    url.host = lower(auth.substr(0, colon));
    if (colon != std::string_view::npos) port_text = auth.substr(colon + 1);
    if (port_text.find(':') != std::string_view::npos) {
      return make_error(quoted + ": an IPv6 address needs brackets, e.g. http://[::1]:8080/");
    }
    for (char c : url.host) {
      if (!host_char(c)) {
        return make_error(quoted + ": character '" + std::string(1, c) + "' in the host name");
      }
    }
  }
  if (url.host.empty()) return make_error(quoted + " has no host");
  url.port = default_port(url.scheme);
  if (!port_text.empty()) {
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return make_error(quoted + ": port '" + std::string(port_text) + "' is not 1 to 65535");
    }
    url.port = static_cast<std::uint16_t>(port);
  }
  auto encoded = encode_target(target, text);
  if (!encoded) return make_error(encoded.error());
  url.target = *encoded;
  return url;
}

Expected<Url> resolve_location(const Url& base, std::string_view location) {
  while (!location.empty() && std::isspace(static_cast<unsigned char>(location.front())))
    location.remove_prefix(1);
  while (!location.empty() && std::isspace(static_cast<unsigned char>(location.back())))
    location.remove_suffix(1);
  const auto scheme_end = location.find("://");
  if (scheme_end != std::string_view::npos &&
      location.substr(0, scheme_end).find_first_of("/?#") == std::string_view::npos) {
    return parse_url(location);
  }
  if (location.rfind("//", 0) == 0) return parse_url(base.scheme + ":" + std::string(location));
  const auto hash = location.find('#');
  if (hash != std::string_view::npos) location = location.substr(0, hash);
  const std::string base_path = base.target.substr(0, base.target.find('?'));
  std::string target;
  if (location.empty()) {
    target = base.target;
  } else if (location[0] == '?') {
    target = base_path + std::string(location);
  } else {
    const std::string joined =
        location[0] == '/' ? std::string(location)
                           : base_path.substr(0, base_path.rfind('/') + 1) + std::string(location);
    const auto q = joined.find('?');
    target = remove_dot_segments(std::string_view(joined).substr(0, q)) +
             (q == std::string::npos ? "" : joined.substr(q));
  }
  return parse_url(base.scheme + "://" + base.authority() + target);
}

}  // namespace xj
