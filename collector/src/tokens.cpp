#include "xj/collector/tokens.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <vector>
#include <stdexcept>

namespace xj {

std::string random_urlsafe(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    throw std::runtime_error("cannot generate a token: the OpenSSL random generator failed");
  }
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  // base64url without padding: 6 bits per character.
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : raw) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += alphabet[(acc << (6 - bits)) & 0x3F];
  return out;
}

std::string generate_token(TokenKind kind) {
  return (kind == TokenKind::kAgent ? "xja_" : "xjo_") + random_urlsafe(32);
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += hex[data[i] >> 4];
    out += hex[data[i] & 0x0F];
  }
  return out;
}

std::string token_hash(std::string_view token) { return sha256_hex(token); }

std::string sha256_hex(std::string_view token) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(token.data(), token.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return to_hex(digest, len);
}

std::string bearer_token(std::string_view header) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (header.size() <= kPrefix.size()) return "";
  for (std::size_t i = 0; i < kPrefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) !=
        std::tolower(static_cast<unsigned char>(kPrefix[i]))) {
      return "";
    }
  }
  std::string_view token = header.substr(kPrefix.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\r')) token.remove_suffix(1);
  if (token.empty() || token.size() > 256 || token.find(' ') != std::string_view::npos) return "";
  return std::string(token);
}

}  // namespace xj
