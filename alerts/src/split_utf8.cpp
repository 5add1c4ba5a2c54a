#include "xj/alerts/channel.hpp"

namespace xj::alerts {

std::vector<std::string> split_utf8(std::string_view text, std::size_t max_bytes) {
  std::vector<std::string> parts;
  if (max_bytes < 4) max_bytes = 4;  // room for the longest UTF-8 character
  while (text.size() > max_bytes) {
    std::size_t cut = max_bytes;
    // Back off to a character boundary: continuation bytes are 10xxxxxx.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    // Prefer the last line end in the second half, so a line stays whole when it can.
    std::size_t nl = text.rfind('\n', cut - 1);
    if (nl != std::string_view::npos && nl >= max_bytes / 2) cut = nl + 1;
    parts.emplace_back(text.substr(0, cut));
    text.remove_prefix(cut);
  }
  if (!text.empty() || parts.empty()) parts.emplace_back(text);
  return parts;
}

}  // namespace xj::alerts
