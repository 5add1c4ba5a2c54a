// Parsing and printing of the human forms used in configs: durations (30s, 5m, 2h, 1d,
// 250ms), sizes (512, 10KB, 1MB, 2GiB) and percentages (85%).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xj {

// "250ms", "30s", "5m", "2h", "1d", "1h30m"; a bare number is seconds.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Shortest exact form: 10000ms -> "10s", 5400000ms -> "1h30m", 250ms -> "250ms".
std::string format_duration(std::chrono::milliseconds d);

// "1MB" = 1048576; units B, K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB (all binary).
std::optional<std::uint64_t> parse_size(std::string_view text);

// "1.5 GiB", "512 B".
std::string format_size(std::uint64_t bytes);

// A metric's value as a person reads it, by its unit: bytes in binary units ("15.5 GiB"),
// seconds and milliseconds as a duration once they are long ("3 d 4 h", "2.5 s"), percentages
// with one decimal ("11.7 %"); other units and plain numbers in the shortest form of up to
// four significant digits, whole numbers in full ("1234567", "0.1235", "42 kB").
// `day`, `hour`, `minute` are the duration words ("d", "h", "min" or "天", "小时", "分钟").
struct DurationWords {
  std::string day = "d", hour = "h", minute = "min", second = "s";
};
std::string format_quantity(double value, std::string_view unit, const DurationWords& words = {});

// "85%" or "85" -> 85.0
std::optional<double> parse_percent(std::string_view text);

// Plain decimal number with nothing after it.
std::optional<double> parse_number(std::string_view text);

}  // namespace xj
