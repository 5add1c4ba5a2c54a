#include "xj/common/duration.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

namespace xj {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Reads a leading decimal number; returns the number of characters consumed (0 if none).
std::size_t read_number(std::string_view s, double& out) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  bool digits = false;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
    digits = digits || std::isdigit(static_cast<unsigned char>(s[i]));
    ++i;
  }
  if (!digits) return 0;
  // Exponent form (1e6) is accepted for plain numbers.
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E') && i + 1 < s.size() &&
      (std::isdigit(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '-' || s[i + 1] == '+')) {
    std::size_t j = i + 1;
    if (s[j] == '-' || s[j] == '+') ++j;
    if (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) {
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      i = j;
    }
  }
  std::string tmp(s.substr(0, i));
  char* end = nullptr;
  out = std::strtod(tmp.c_str(), &end);
  if (end != tmp.c_str() + tmp.size()) return 0;
  return i;
}

}  // namespace

std::optional<double> parse_number(std::string_view text) {
  text = trim(text);
  double v = 0;
  std::size_t n = read_number(text, v);
  if (n == 0 || n != text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::string s = lower(trim(text));
  if (s.empty()) return std::nullopt;
  if (auto plain = parse_number(s)) {
    if (*plain < 0) return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(*plain * 1000)));
  }
  std::string_view rest(s);
  double total_ms = 0;
  while (!rest.empty()) {
    double v = 0;
    std::size_t n = read_number(rest, v);
    if (n == 0 || v < 0) return std::nullopt;
    rest.remove_prefix(n);
    std::size_t u = 0;
    while (u < rest.size() && std::isalpha(static_cast<unsigned char>(rest[u]))) ++u;
    std::string_view unit = rest.substr(0, u);
    rest.remove_prefix(u);
    double scale = 0;
    if (unit == "ms") scale = 1;
    else if (unit == "s" || unit == "sec") scale = 1000;
    else if (unit == "m" || unit == "min") scale = 60'000;
    else if (unit == "h") scale = 3'600'000;
    else if (unit == "d") scale = 86'400'000;
    else if (unit == "w") scale = 7 * 86'400'000.0;
    else return std::nullopt;
    total_ms += v * scale;
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(total_ms)));
}

std::string format_duration(std::chrono::milliseconds d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  if (ms % 1000 != 0 && ms < 60'000) return out + std::to_string(ms) + "ms";
  std::int64_t secs = ms / 1000;
  const std::pair<std::int64_t, const char*> units[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
  for (auto [size, name] : units) {
    if (secs >= size) {
      out += std::to_string(secs / size) + name;
      secs %= size;
    }
  }
  return out;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::string s = lower(trim(text));
  double v = 0;
  std::size_t n = read_number(s, v);
  if (n == 0 || v < 0) return std::nullopt;
  std::string_view unit = trim(std::string_view(s).substr(n));
  double scale = 0;
  if (unit.empty() || unit == "b") scale = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") scale = 1024.0;
  else if (unit == "m" || unit == "mb" || unit == "mib") scale = 1024.0 * 1024;
  else if (unit == "g" || unit == "gb" || unit == "gib") scale = 1024.0 * 1024 * 1024;
  else if (unit == "t" || unit == "tb" || unit == "tib") scale = 1024.0 * 1024 * 1024 * 1024;
  else return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(v * scale));
}

std::string format_size(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

namespace {

std::string plain_number(double v) {
  char buf[64];
  if (!std::isfinite(v)) return std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf");
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else if (std::fabs(v) >= 1e15 || std::fabs(v) < 1e-4) {
    std::snprintf(buf, sizeof buf, "%.3e", v);
  } else {
    // Four significant digits, but never exponent form for ordinary magnitudes.
    const int whole = v == 0 ? 1 : static_cast<int>(std::floor(std::log10(std::fabs(v)))) + 1;
    std::snprintf(buf, sizeof buf, "%.*f", std::max(0, 4 - whole), v);
    std::string s = buf;
    if (s.find('.') != std::string::npos) {
      while (s.back() == '0') s.pop_back();
      if (s.back() == '.') s.pop_back();
    }
    return s;
  }
  return buf;
}

std::string with_unit(const std::string& n, std::string_view unit) {
  return unit.empty() ? n : n + " " + std::string(unit);
}

// 3 d 4 h, 2 h 5 min, 12 min, 45 s: the two largest parts, as on a clock face.
std::string long_duration(double seconds, const DurationWords& w) {
  const bool neg = seconds < 0;
  auto s = static_cast<std::int64_t>(std::llround(std::fabs(seconds)));
  const std::int64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60;
  auto part = [](std::int64_t n, const std::string& word) { return std::to_string(n) + " " + word; };
  std::string out;
  if (d > 0) out = part(d, w.day) + (h > 0 ? " " + part(h, w.hour) : "");
  else if (h > 0) out = part(h, w.hour) + (m > 0 ? " " + part(m, w.minute) : "");
  else if (m > 0) out = part(m, w.minute) + (sec > 0 ? " " + part(sec, w.second) : "");
  else out = part(sec, w.second);
  return neg ? "-" + out : out;
}

}  // namespace

std::string format_quantity(double v, std::string_view unit, const DurationWords& words) {
  if (!std::isfinite(v)) return with_unit(plain_number(v), unit);
  if (unit == "B") {
    const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double a = std::fabs(v);
    int u = 0;
    while (a >= 1024 && u < 5) a /= 1024, ++u;
    if (u == 0) return plain_number(v) + " B";
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s%.*f %s", v < 0 ? "-" : "", a < 10 ? 2 : 1, a, units[u]);
    return buf;
  }
  if (unit == "%") {
    char buf[48];
    // Two decimals where one would round up to a full 100 % that is not reached.
    std::snprintf(buf, sizeof buf, "%.*f", v < 100 && v >= 99.95 ? 2 : 1, v);
    std::string s = buf;
    if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
    return s + " %";
  }
  if (unit == "s" && std::fabs(v) >= 60) return long_duration(v, words);
  if (unit == "ms" && std::fabs(v) >= 60'000) return long_duration(v / 1000, words);
  if (unit == "ms" && std::fabs(v) >= 1000) return plain_number(v / 1000) + " " + words.second;
  if (unit == "s") return plain_number(v) + " " + words.second;
  if (unit == "d") return plain_number(v) + " " + words.day;
  return with_unit(plain_number(v), unit);
}

std::optional<double> parse_percent(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.back() == '%') text.remove_suffix(1);
  return parse_number(text);
}

}  // namespace xj
