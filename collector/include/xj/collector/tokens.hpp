// Bearer tokens: generated from the OS's CSPRNG, shown once, stored only as a SHA-256 hash.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace xj {

enum class TokenKind { kAgent, kApi };

// "xja_" (agent) or "xjo_" (operator API) followed by 43 base64url characters (256 bits).
std::string generate_token(TokenKind kind);
// `bytes` random bytes from the OS's CSPRNG as base64url without padding (console sessions).
std::string random_urlsafe(std::size_t bytes);
// Lower-case hex of bytes.
std::string to_hex(const unsigned char* data, std::size_t size);

// Lower-case hex SHA-256 of the token: what the store keeps and looks up.
std::string token_hash(std::string_view token);
// Lower-case hex SHA-256 of any bytes (archived reports).
std::string sha256_hex(std::string_view bytes);

// The token from "Authorization: Bearer <token>", or "" when absent or malformed.
std::string bearer_token(std::string_view authorization_header);

}  // namespace xj
