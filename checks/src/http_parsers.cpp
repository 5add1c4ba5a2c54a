// Pure helpers of the http check (declared in http_check.hpp), kept apart from the requests.
#include <nlohmann/json.hpp>

#include "xj/checks/http_check.hpp"
#include "xj/checks/utf8.hpp"

namespace xj {

Expected<StatusPattern> parse_status_pattern(std::string_view text) {
  auto bad = [&] {
    return make_error("'" + std::string(text) + "' is not an HTTP status like 200 or 2xx");
  };
  if (text.size() != 3 || text[0] < '1' || text[0] > '5') return bad();
  const int hundreds = (text[0] - '0') * 100;
  auto is_x = [](char c) { return c == 'x' || c == 'X'; };
  if (is_x(text[1]) && is_x(text[2])) return StatusPattern{hundreds, hundreds + 99};
  for (char c : text.substr(1)) {
    if (c < '0' || c > '9') return bad();
  }
  const int code = hundreds + (text[1] - '0') * 10 + (text[2] - '0');
  return StatusPattern{code, code};
}

double cert_days_left(std::chrono::sys_seconds expiry, std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  const auto left = expiry - floor<seconds>(now);
  return duration<double, std::ratio<86400>>(left).count();
}

std::string body_excerpt(std::string_view body, std::size_t max_chars) {
  // Result JSON must be valid UTF-8 and a body can be anything: utf8_clip repairs and cuts.
  std::string out = utf8_clip(body, max_chars);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = ' ';
  }
  if (body.size() > max_chars) out += "...";
  return out;
}

std::optional<std::string> json_pointer_mismatch(std::string_view body, const std::string& pointer,
                                                 const std::string& expected) {
  auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return "body is not JSON: '" + body_excerpt(body) + "'";
  try {
    const nlohmann::json::json_pointer ptr(pointer);
    if (!doc.contains(ptr)) return pointer + " is missing in '" + body_excerpt(body) + "'";
    const auto& v = doc.at(ptr);
    const std::string actual = v.is_string() ? v.get<std::string>() : v.dump();
    if (actual == expected) return std::nullopt;
    return pointer + " is " + v.dump() + ", expected " + expected;
  } catch (const nlohmann::json::exception& e) {
    return pointer + " cannot be read: " + e.what();
  }
}

}  // namespace xj
