#include "xj/alerts/channel.hpp"

namespace xj::alerts {
namespace {

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The byte offset where at most max_bytes bytes and max_chars characters end (max_chars 0:
// bytes only), on a character boundary.
std::size_t limit_at(std::string_view text, std::size_t max_bytes, std::size_t max_chars) {
  std::size_t cut = std::min(text.size(), max_bytes);
  if (max_chars > 0) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < cut; ++i) {
      if (continuation(text[i])) continue;
      if (++chars > max_chars) {
        cut = i;
        break;
      }
    }
  }
  // Back off to a character boundary: continuation bytes are 10xxxxxx.
  while (cut > 0 && cut < text.size() && continuation(text[cut])) --cut;
  return cut;
}

}  // namespace

std::vector<std::string> split_utf8(std::string_view text, std::size_t max_bytes) {
  return split_utf8(text, max_bytes, 0);
}

std::vector<std::string> split_utf8(std::string_view text, std::size_t max_bytes,
                                    std::size_t max_chars) {
  std::vector<std::string> parts;
  if (max_bytes < 4) max_bytes = 4;  // room for the longest UTF-8 character
  for (;;) {
    std::size_t cut = limit_at(text, max_bytes, max_chars);
    if (cut >= text.size()) break;
    // Prefer the last line end in the second half, so a line stays whole when it can.
    std::size_t nl = text.rfind('\n', cut - 1);
    if (nl != std::string_view::npos && nl >= cut / 2) cut = nl + 1;
    parts.emplace_back(text.substr(0, cut));
    text.remove_prefix(cut);
  }
  if (!text.empty() || parts.empty()) parts.emplace_back(text);
  return parts;
}

std::string truncate_utf8(std::string_view text, std::size_t max_bytes, std::size_t max_chars) {
  if (limit_at(text, max_bytes, max_chars) >= text.size()) return std::string(text);
  static constexpr std::string_view kEllipsis = "…";  // 3 bytes, 1 character
  const std::size_t bytes = max_bytes > kEllipsis.size() ? max_bytes - kEllipsis.size() : 0;
  const std::size_t chars = max_chars == 0 ? 0 : std::max<std::size_t>(max_chars - 1, 1);
  const std::size_t cut = limit_at(text, bytes, chars);
  return std::string(text.substr(0, cut)) + std::string(kEllipsis);
}

}  // namespace xj::alerts
