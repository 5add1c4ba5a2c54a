// Pure decoding steps of the HTTP server (request target and gzip bodies), kept apart from the
// socket code so tests can feed them odd and hostile input directly. No Beast here.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "xj/common/expected.hpp"

namespace xj {

// "%41b" -> "Ab". With plus_as_space (query strings) '+' becomes ' '. Fails on a truncated or
// non-hex escape, on an encoded NUL and on a result that is not valid UTF-8: handlers put
// these strings into JSON, and nlohmann::json refuses invalid UTF-8 when dumping.
Expected<std::string> percent_decode(std::string_view in, bool plus_as_space);

// "a=1&b=x+y&c" -> {a:"1", b:"x y", c:""}. Empty pieces are skipped; when a key repeats, the
// first value wins. The error names the piece that did not decode.
Expected<std::map<std::string, std::string>> parse_query(std::string_view query);

// Why a gzip body was refused: too_large (-> 413) or not gzip at all (-> 400).
struct GunzipError {
  std::string message;
  bool too_large = false;
};

// Inflates a gzip body (RFC 1952, several members allowed), producing at most max_bytes:
// a gzip bomb stops as soon as the output passes the limit, so memory stays bounded.
Expected<std::string, GunzipError> gunzip(std::string_view data, std::size_t max_bytes);

}  // namespace xj
