#include "xj/agent/check_table.hpp"

#include <algorithm>
#include <string_view>

namespace xj {
namespace {

// Display width of UTF-8 text: East Asian wide characters take two columns.
std::size_t display_width(std::string_view s) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = c;
    std::size_t len = 1;
    if (c >= 0xF0) len = 4, cp = c & 0x07;
    else if (c >= 0xE0) len = 3, cp = c & 0x0F;
    else if (c >= 0xC0) len = 2, cp = c & 0x1F;
    for (std::size_t k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
    i += len;
    bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
    width += wide ? 2 : 1;
  }
  return width;
}

std::string pad(const std::string& s, std::size_t width) {
  std::size_t w = display_width(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}

const char* color_of(Status s) {
  switch (s) {
    case Status::kOk: return "\033[32m";
    case Status::kWarning: return "\033[33m";
    case Status::kCritical: return "\033[31m";
    case Status::kUnknown: return "\033[35m";
  }
  return "";
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Status worst_status(const std::vector<Result>& results) {
  Status s = Status::kOk;
  for (const auto& r : results) s = worst(s, r.status);
  return s;
}

std::string format_check_table(const std::vector<Result>& results, bool color) {
  std::size_t w_check = 5;
  for (const auto& r : results) w_check = std::max(w_check, display_width(r.check));
  std::string out = pad("STATUS", 10) + pad("CHECK", w_check + 2) + pad("DURATION", 10) + "SUMMARY\n";
  for (const auto& r : results) {
    std::string st = upper(to_string(r.status));
    std::string st_cell = pad(st, 10);
    if (color) st_cell = std::string(color_of(r.status)) + st + "\033[0m" + std::string(10 - st.size(), ' ');
    std::string dur = std::to_string(r.duration_ms) + "ms";
    std::string summary = r.summary;
    if (auto nl = summary.find('\n'); nl != std::string::npos) summary.resize(nl);
    out += st_cell + pad(r.check, w_check + 2) + pad(dur, 10) + summary + "\n";
  }
  return out;
}

}  // namespace xj
