#include "xj/collector/sm3.hpp"

#include <openssl/evp.h>

namespace xj {

std::string sm3_hex(std::string_view data) {
  // Fetched once; OpenSSL's EVP_MD objects are safe to share between threads.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SM3", nullptr);
  if (md == nullptr) return "";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, md, nullptr) != 1) return "";
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0x0F];
  }
  return out;
}

}  // namespace xj
