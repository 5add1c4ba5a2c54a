#include <catch2/catch.hpp>

#include <limits>

#include "xj/common/duration.hpp"

using namespace std::chrono_literals;

TEST_CASE("durations parse in the forms configs use", "[duration]") {
  CHECK(xj::parse_duration("30s") == 30s);
  CHECK(xj::parse_duration("5m") == 5min);
  CHECK(xj::parse_duration("26h") == 26h);
  CHECK(xj::parse_duration("1h30m") == 90min);
  CHECK(xj::parse_duration("250ms") == 250ms);
  CHECK(xj::parse_duration("2d") == 48h);
  CHECK(xj::parse_duration("10") == 10s);
  CHECK_FALSE(xj::parse_duration("10x"));
  CHECK_FALSE(xj::parse_duration(""));
  CHECK_FALSE(xj::parse_duration("-5s"));
  CHECK_FALSE(xj::parse_duration("s"));
}

TEST_CASE("durations print in their shortest exact form", "[duration]") {
  CHECK(xj::format_duration(10s) == "10s");
  CHECK(xj::format_duration(90min) == "1h30m");
  CHECK(xj::format_duration(250ms) == "250ms");
  CHECK(xj::format_duration(0ms) == "0s");
}

TEST_CASE("sizes parse with binary units", "[size]") {
  CHECK(xj::parse_size("512") == 512u);
  CHECK(xj::parse_size("1KB") == 1024u);
  CHECK(xj::parse_size("1MB") == 1048576u);
  CHECK(xj::parse_size("2GiB") == 2147483648u);
  CHECK(xj::parse_size("1.5 MB") == 1572864u);
  CHECK_FALSE(xj::parse_size("1XB"));
  CHECK_FALSE(xj::parse_size("MB"));
  CHECK(xj::format_size(1536) == "1.5 KiB");
}

TEST_CASE("percentages and numbers reject trailing garbage", "[number]") {
  CHECK(xj::parse_percent("85%") == 85.0);
  CHECK(xj::parse_percent("85") == 85.0);
  CHECK_FALSE(xj::parse_percent("85%%"));
  CHECK(xj::parse_number("1e3") == 1000.0);
  CHECK_FALSE(xj::parse_number("12abc"));
}

TEST_CASE("format_quantity: a metric's value as a person reads it") {
  using xj::format_quantity;
  // Bytes in binary units: 1.66404e+10 B was what the console showed before.
  CHECK(format_quantity(16640400000, "B") == "15.5 GiB");
  CHECK(format_quantity(1536, "B") == "1.50 KiB");
  CHECK(format_quantity(512, "B") == "512 B");
  CHECK(format_quantity(0, "B") == "0 B");
  CHECK(format_quantity(-2.5 * 1024 * 1024, "B") == "-2.50 MiB");
  // Percentages with one decimal, whole ones without.
  CHECK(format_quantity(11.666666, "%") == "11.7 %");
  CHECK(format_quantity(85, "%") == "85 %");
  CHECK(format_quantity(99.96, "%") == "99.96 %");  // not "100 %" while short of it
  CHECK(format_quantity(100, "%") == "100 %");
  // Seconds: short ones as seconds, long ones as the two largest clock parts.
  CHECK(format_quantity(0.25, "s") == "0.25 s");
  CHECK(format_quantity(45, "s") == "45 s");
  CHECK(format_quantity(125, "s") == "2 min 5 s");
  CHECK(format_quantity(7500, "s") == "2 h 5 min");
  CHECK(format_quantity(3 * 86400 + 4 * 3600 + 59, "s") == "3 d 4 h");
  CHECK(format_quantity(86400, "s") == "1 d");
  CHECK(format_quantity(12.345, "ms") == "12.35 ms");
  CHECK(format_quantity(2500, "ms") == "2.5 s");
  CHECK(format_quantity(90'000, "ms") == "1 min 30 s");
  CHECK(format_quantity(12.5, "d") == "12.5 d");
  // The words come from the page's language.
  const xj::DurationWords zh{"天", "小时", "分钟", "秒"};
  CHECK(format_quantity(7500, "s", zh) == "2 小时 5 分钟");
  CHECK(format_quantity(30, "s", zh) == "30 秒");
  // Plain numbers: whole ones in full (block heights), others to four significant digits.
  CHECK(format_quantity(1234567, "") == "1234567");
  CHECK(format_quantity(0.123456, "") == "0.1235");
  CHECK(format_quantity(3.14159, "") == "3.142");
  CHECK(format_quantity(1234.5678, "") == "1235");
  CHECK(format_quantity(0.00001234, "") == "1.234e-05");
  CHECK(format_quantity(42, "kB") == "42 kB");
  CHECK(format_quantity(std::numeric_limits<double>::quiet_NaN(), "%") == "NaN %");
}
