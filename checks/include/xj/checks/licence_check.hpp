// `licence`: days until a software licence expires, read from a file (by JSON pointer or
// regex) or from a command's output. Extracting the date text and reading the many date
// forms licences use are pure and exposed here for tests.
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

#include "xj/common/expected.hpp"

namespace xj {

// The moment a licence stops being valid, in epoch seconds (UTC). Accepted:
//   2026-10-31, 2026/10/31, 2026.10.31, 20261031, 2026年10月31日 (a date: valid through the end of
//   that day at `utc_offset_s`, the contract's time zone);
//   2026-10-31T12:00:00Z, 2026-10-31 12:00:00+08:00, ...T12:00 (ISO 8601 with a time; no zone
//   means `utc_offset_s`);
//   1793462400 (epoch seconds, 9 to 11 digits) and 1793462400000 (epoch milliseconds, 13).
Expected<std::int64_t> parse_expiry(std::string_view text, int utc_offset_s);

// The date text in `content`: the value at a JSON pointer (a number becomes its digits), the
// first capture group of `regex` (or the whole match when it has none), or, with neither,
// the whole content trimmed. Errors say what was not found.
Expected<std::string> extract_expiry_text(const std::string& content, const std::string& pointer,
                                          const std::optional<std::regex>& regex,
                                          const std::string& regex_text);

}  // namespace xj
