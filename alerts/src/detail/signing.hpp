// HMAC-SHA256/SHA1, base64 and URL encoding for the signed robots (DingTalk, Feishu) and
// Aliyun SMS.
#pragma once

#include <string>
#include <string_view>

namespace xj::alerts::detail {

std::string hmac_sha256(std::string_view key, std::string_view message);  // raw bytes
std::string hmac_sha1(std::string_view key, std::string_view message);    // raw bytes (Aliyun RPC)
std::string sha256(std::string_view bytes);                               // raw bytes (attachments)
std::string random_hex(std::size_t bytes);                                // a nonce
std::string hex(std::string_view bytes);                                  // lower case
std::string base64(std::string_view bytes);
std::string url_encode(std::string_view s);  // RFC 3986 unreserved kept, the rest %XX

}  // namespace xj::alerts::detail
