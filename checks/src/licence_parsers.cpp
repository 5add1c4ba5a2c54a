#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "xj/checks/licence_check.hpp"
#include "xj/checks/utf8.hpp"

namespace xj {

namespace {

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n\"'");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n\"'");
  return std::string(s.substr(b, e - b + 1));
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

std::optional<std::int64_t> civil(int y, int m, int d) {
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || y < 1970 || y > 9999) return std::nullopt;
  return sys_days{ymd}.time_since_epoch().count() * 86400LL;
}

}  // namespace

Expected<std::int64_t> parse_expiry(std::string_view raw, int utc_offset_s) {
  const std::string text = trim(raw);
  const auto bad = [&](const std::string& why) {
    return make_error("'" + utf8_clip(text, 60) + "' is not a date: " + why);
  };
  if (text.empty()) return make_error("no date text");
  if (all_digits(text)) {
    if (text.size() == 8) {  // 20261031
      auto day = civil(std::atoi(text.substr(0, 4).c_str()), std::atoi(text.substr(4, 2).c_str()),
                       std::atoi(text.substr(6, 2).c_str()));
      if (!day) return bad("no such day");
      return *day + 86400 - utc_offset_s;
    }
    if (text.size() >= 9 && text.size() <= 11) return std::atoll(text.c_str());
    if (text.size() == 13) return std::atoll(text.c_str()) / 1000;
    return bad("a number that is neither YYYYMMDD nor epoch seconds/milliseconds");
  }
  // Year, month, day separated by -, /, . or 年 月 日; then optionally a time and a zone. The
  // regex works on UTF-8 bytes: a multi-byte character is grouped before it takes a `?`.
  static const std::regex date_re(
      R"(^(\d{4})(?:[-/.]|年)(\d{1,2})(?:[-/.]|月)(\d{1,2})(?:日)?)"
      R"((?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$)");
  std::smatch m;
  if (!std::regex_match(text, m, date_re)) return bad("unknown format");
  auto day = civil(std::stoi(m[1]), std::stoi(m[2]), std::stoi(m[3]));
  if (!day) return bad("no such day");
  if (!m[4].matched) return *day + 86400 - utc_offset_s;  // valid through that whole day
  const int h = std::stoi(m[4]), mi = std::stoi(m[5]), s = m[6].matched ? std::stoi(m[6]) : 0;
  if (h > 23 || mi > 59 || s > 60) return bad("no such time");
  int offset = utc_offset_s;
  if (m[7].matched) {
    const std::string z = m[7];
    if (z == "Z") {
      offset = 0;
    } else {
      const std::string digits = z.substr(1, 2) + z.substr(z.size() - 2);
      offset = (std::stoi(digits.substr(0, 2)) * 3600 + std::stoi(digits.substr(2, 2)) * 60) *
               (z[0] == '-' ? -1 : 1);
    }
  }
  return *day + h * 3600 + mi * 60 + s - offset;
}

Expected<std::string> extract_expiry_text(const std::string& content, const std::string& pointer,
                                          const std::optional<std::regex>& regex,
                                          const std::string& regex_text) {
  if (!pointer.empty()) {
    nlohmann::json j = nlohmann::json::parse(content, nullptr, false);
    if (j.is_discarded()) return make_error("content is not JSON");
    try {
      const nlohmann::json::json_pointer p(pointer);
      if (!j.contains(p)) return make_error(pointer + " is missing");
      const nlohmann::json& v = j.at(p);
      if (v.is_string()) return v.get<std::string>();
      if (v.is_number())
        return v.is_number_float() ? std::to_string(v.get<std::int64_t>()) : v.dump();
      return make_error(pointer + " is " + utf8_clip(v.dump(), 40) + ", not a date");
    } catch (const nlohmann::json::exception& e) {
      return make_error(pointer + ": " + e.what());
    }
  }
  if (regex) {
    std::smatch m;
    if (!std::regex_search(content, m, *regex))
      return make_error("no match for /" + regex_text + "/");
    return m.size() > 1 && m[1].matched ? m[1].str() : m[0].str();
  }
  return trim(content);
}

}  // namespace xj
