// `http`: one HTTP(S) request through xj::http_request; status, body content, latency and the
// server certificate's days left. The pure pieces (status patterns, certificate dates, body
// matching) are exposed here so tests can feed them odd input directly.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "xj/common/expected.hpp"

namespace xj {

// An accepted HTTP status: one code ("204") or a class ("2xx"), as written in expect_status.
struct StatusPattern {
  int lo = 0;
  int hi = 0;
  bool matches(long code) const { return code >= lo && code <= hi; }
};

// "200" -> 200..200, "2xx" / "2XX" -> 200..299. Anything else is an error naming the text.
Expected<StatusPattern> parse_status_pattern(std::string_view text);

// Days from `now` until `expiry` (a certificate's notAfter), fractional; negative once
// expired. Seconds, not system_clock's nanoseconds: "no expiry" certificates say 9999-12-31,
// beyond what a nanosecond count reaches.
double cert_days_left(std::chrono::sys_seconds expiry, std::chrono::system_clock::time_point now);

// Compares the value at an RFC 6901 pointer in a JSON body with the expected text. A string
// value compares by its content, anything else by its JSON text ("true", "42", "null").
// Returns nullopt on a match, otherwise what went wrong ("body is not JSON: ...",
// "/db/ok is false, expected true", "/db/ok is missing").
std::optional<std::string> json_pointer_mismatch(std::string_view body, const std::string& pointer,
                                                 const std::string& expected);

// At most `max_chars` bytes of text for a summary: control characters become spaces, a cut
// never splits a UTF-8 sequence, and a cut is marked with "...".
std::string body_excerpt(std::string_view body, std::size_t max_chars = 80);

}  // namespace xj
