#include <catch2/catch.hpp>

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
