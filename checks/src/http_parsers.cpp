// Pure helpers of the http check (declared in http_check.hpp), kept apart from the libcurl code.
#include <array>
#include <cstdio>
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

namespace {

std::optional<int> month_number(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == name) return static_cast<int>(i) + 1;
  }
  return std::nullopt;
}

}  // namespace

Expected<std::chrono::sys_seconds> parse_cert_expiry(std::string_view text) {
  auto bad = [&] {
    return make_error("unrecognised certificate date '" + std::string(text) + "'");
  };
  const std::string s(text);
  char mon[4] = {};
  char zone[4] = {};
  int y = 0, m = 0, d = 0, hh = 0, mm = 0, ss = 0, used = 0;
  // OpenSSL: "Mar  1 00:00:00 2027 GMT", possibly "00:00:00.5" for GeneralizedTime fractions.
  if (std::sscanf(s.c_str(), "%3s %d %d:%d:%d%n", mon, &d, &hh, &mm, &ss, &used) == 5) {
    auto month = month_number(mon);
    if (!month) return bad();
    m = *month;
    std::size_t pos = static_cast<std::size_t>(used);
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    }
    int tail = 0;
    if (std::sscanf(s.c_str() + pos, " %d %3s%n", &y, zone, &tail) != 2) return bad();
    if (s.find_first_not_of(' ', pos + static_cast<std::size_t>(tail)) != std::string::npos) {
      return bad();
    }
  } else if (std::sscanf(s.c_str(), "%d-%d-%d %d:%d:%d %3s%n", &y, &m, &d, &hh, &mm, &ss, zone,
                         &used) == 7) {
    if (s.find_first_not_of(' ', static_cast<std::size_t>(used)) != std::string::npos) return bad();
  } else {
    return bad();
  }
  if (std::string_view(zone) != "GMT" && std::string_view(zone) != "UTC") return bad();
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60) return bad();
  return sys_seconds(sys_days(ymd)) + hours(hh) + minutes(mm) + seconds(ss);
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
