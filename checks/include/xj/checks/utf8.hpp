// UTF-8 clean-up for text a check copies from the machine into a Result (log lines, file
// names, command output). Result JSON must be valid UTF-8 — nlohmann::json refuses to dump
// anything else — and such text can be anything, so it passes through here first.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace xj {

// At most max_bytes of the text's bytes, cut at a character boundary, with every invalid or
// incomplete byte sequence replaced by U+FFFD. The output may be longer than max_bytes by the
// replacement characters; the input consumed never is.
inline std::string utf8_clip(std::string_view text, std::size_t max_bytes = std::string::npos) {
  std::string out;
  const std::size_t limit = text.size() < max_bytes ? text.size() : max_bytes;
  out.reserve(limit);
  std::size_t i = 0;
  while (i < limit) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    bool valid = len != 0 && i + len <= text.size();
    for (std::size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (valid && len > 1) {
      // Overlong forms, surrogates and code points above U+10FFFF are not UTF-8 either.
      const auto c1 = static_cast<unsigned char>(text[i + 1]);
      if ((len == 2 && c < 0xC2) || (len == 3 && c == 0xE0 && c1 < 0xA0) ||
          (len == 3 && c == 0xED && c1 >= 0xA0) || (len == 4 && c == 0xF0 && c1 < 0x90) ||
          (len == 4 && (c > 0xF4 || (c == 0xF4 && c1 >= 0x90)))) {
        valid = false;
      }
    }
    if (!valid) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (i + len > limit) break;  // a whole character that does not fit: stop before it
    out.append(text.substr(i, len));
    i += len;
  }
  return out;
}

}  // namespace xj
