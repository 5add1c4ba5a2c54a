// SM3 (GB/T 32905-2016), the hash the audit chain uses, via OpenSSL 3's default provider.
#pragma once

#include <string>
#include <string_view>

namespace xj {

// Lower-case hex SM3 of `data` (64 characters); "" if OpenSSL offers no SM3.
std::string sm3_hex(std::string_view data);

}  // namespace xj
