// Log values for key=value lines: a value with spaces, quotes or newlines is quoted and
// escaped, so every event stays one line a machine can split.
#pragma once

#include <string>
#include <string_view>

namespace xj::detail {

inline std::string log_value(std::string_view s) {
  bool plain = !s.empty();
  for (char c : s) {
    if (c == ' ' || c == '"' || c == '\\' || c == '=' || static_cast<unsigned char>(c) < 0x20) {
      plain = false;
      break;
    }
  }
  if (plain) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace xj::detail
