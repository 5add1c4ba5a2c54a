#include "xj/collector/http_decode.hpp"

#include <zlib.h>

namespace xj {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Well-formed UTF-8 per RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    const auto second = static_cast<unsigned char>(s[i + 1]);
    if (second < lo || second > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < 0x80 || b > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

Expected<std::string> percent_decode(std::string_view in, bool plus_as_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+' && plus_as_space) {
      out += ' ';
    } else if (c == '%') {
      const int hi = i + 1 < in.size() ? hex_value(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return make_error("bad percent-escape '" + std::string(in.substr(i, 3)) + "' in '" +
                          std::string(in) + "'");
      }
      if (hi == 0 && lo == 0) return make_error("encoded NUL (%00) in '" + std::string(in) + "'");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  if (!valid_utf8(out)) return make_error("'" + std::string(in) + "' does not decode to UTF-8");
  return out;
}

Expected<std::map<std::string, std::string>> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    const auto eq = piece.find('=');
    auto key = percent_decode(piece.substr(0, eq), true);
    if (!key) return make_error("query parameter: " + key.error());
    auto value = percent_decode(eq == std::string_view::npos ? "" : piece.substr(eq + 1), true);
    if (!value) return make_error("query parameter '" + *key + "': " + value.error());
    out.emplace(std::move(key).value(), std::move(value).value());
  }
  return out;
}

Expected<std::string, GunzipError> gunzip(std::string_view data, std::size_t max_bytes) {
  if (data.empty()) return GunzipError{"bad gzip body: it is empty", false};
  z_stream zs{};
  // 16 + MAX_WBITS: gzip wrapper only; a zlib or raw deflate stream is a client bug.
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    return GunzipError{"gzip: inflateInit2 failed", false};
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());  // bodies are bounded far below 4 GiB
  std::string out;
  constexpr std::size_t kChunk = 64 * 1024;
  int rc = Z_OK;
  for (;;) {
    // One byte past the limit is enough to know the body is too large.
    const std::size_t left = max_bytes - out.size();
    const std::size_t room = left >= kChunk ? kChunk : left + 1;
    const std::size_t before = out.size();
    out.resize(before + room);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + before);
    zs.avail_out = static_cast<uInt>(room);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(before + (room - zs.avail_out));
    if (out.size() > max_bytes) {
      inflateEnd(&zs);
      return GunzipError{"decompressed request body exceeds the limit of " +
                             std::to_string(max_bytes) + " bytes (max_body_bytes)",
                         true};
    }
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      inflateReset(&zs);  // concatenated gzip members are one valid body (RFC 1952 2.2)
      continue;
    }
    if (rc == Z_BUF_ERROR) {  // no progress possible: the input ran out mid-stream
      inflateEnd(&zs);
      return GunzipError{"bad gzip body: truncated (ends before the gzip trailer)", false};
    }
    if (rc != Z_OK) {
      std::string why = zs.msg != nullptr ? zs.msg : "zlib error " + std::to_string(rc);
      inflateEnd(&zs);
      return GunzipError{"bad gzip body: " + why, false};
    }
  }
  inflateEnd(&zs);
  return out;
}

}  // namespace xj
