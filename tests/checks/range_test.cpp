#include <catch2/catch.hpp>

#include "xj/checks/range.hpp"

using xj::Direction;
using xj::Range;
using xj::ValueUnit;

static Range nagios(const char* s) {
  auto r = Range::parse_nagios(s);
  REQUIRE(r.ok());
  return *r;
}

TEST_CASE("a bare Nagios number alerts below zero and above the number", "[range]") {
  Range r = nagios("10");
  CHECK(r.alerts(-1));
  CHECK_FALSE(r.alerts(0));
  CHECK_FALSE(r.alerts(10));
  CHECK(r.alerts(10.5));
}

TEST_CASE("an open-ended Nagios range alerts only below its start", "[range]") {
  Range r = nagios("10:");
  CHECK(r.alerts(9.99));
  CHECK_FALSE(r.alerts(10));
  CHECK_FALSE(r.alerts(1e9));
}

TEST_CASE("a tilde range alerts only above its end", "[range]") {
  Range r = nagios("~:10");
  CHECK_FALSE(r.alerts(-1e9));
  CHECK_FALSE(r.alerts(10));
  CHECK(r.alerts(11));
}

TEST_CASE("a closed range alerts outside it and an at-range inside it", "[range]") {
  Range out = nagios("10:20");
  CHECK(out.alerts(9));
  CHECK_FALSE(out.alerts(15));
  CHECK(out.alerts(21));
  Range in = nagios("@10:20");
  CHECK_FALSE(in.alerts(9));
  CHECK(in.alerts(10));
  CHECK(in.alerts(20));
  CHECK_FALSE(in.alerts(21));
}

TEST_CASE("ranges print back in canonical Nagios form", "[range]") {
  CHECK(nagios("10").str() == "10");
  CHECK(nagios("10:").str() == "10:");
  CHECK(nagios("~:10").str() == "~:10");
  CHECK(nagios("10:20").str() == "10:20");
  CHECK(nagios("@10:20").str() == "@10:20");
  CHECK(Range::parse_nagios(nagios("~:80").str()).value() == nagios("~:80"));
}

TEST_CASE("malformed ranges are rejected with the reason", "[range]") {
  CHECK_FALSE(Range::parse_nagios("abc").ok());
  CHECK_FALSE(Range::parse_nagios("20:10").ok());
  CHECK(Range::parse_nagios("20:10").error().find("greater") != std::string::npos);
  CHECK_FALSE(Range::parse_nagios("1:x").ok());
  CHECK_FALSE(Range::parse_nagios("").ok());
}

TEST_CASE("friendly thresholds follow the key's direction", "[range]") {
  auto used = xj::parse_threshold("80%", Direction::kHigherIsWorse, ValueUnit::kPercent);
  REQUIRE(used.ok());
  CHECK(used->alerts(80.1));
  CHECK_FALSE(used->alerts(79));
  auto avail = xj::parse_threshold("10%", Direction::kLowerIsWorse, ValueUnit::kPercent);
  REQUIRE(avail.ok());
  CHECK(avail->alerts(9));
  CHECK_FALSE(avail->alerts(50));
  auto age = xj::parse_threshold("26h", Direction::kHigherIsWorse, ValueUnit::kSeconds);
  REQUIRE(age.ok());
  CHECK_FALSE(age->alerts(26 * 3600));
  CHECK(age->alerts(26 * 3600 + 1));
  auto size = xj::parse_threshold("1MB", Direction::kLowerIsWorse, ValueUnit::kBytes);
  REQUIRE(size.ok());
  CHECK(size->alerts(1000));
  CHECK_FALSE(size->alerts(2 * 1048576));
}

TEST_CASE("explicit Nagios syntax overrides the key's direction", "[range]") {
  auto r = xj::parse_threshold("@10:20", Direction::kHigherIsWorse, ValueUnit::kPercent);
  REQUIRE(r.ok());
  CHECK(r->alerts(15));
  CHECK_FALSE(r->alerts(30));
}

TEST_CASE("friendly thresholds reject values that are not of the key's unit", "[range]") {
  CHECK_FALSE(xj::parse_threshold("180%", Direction::kHigherIsWorse, ValueUnit::kPercent).ok());
  CHECK_FALSE(xj::parse_threshold("26 hours", Direction::kHigherIsWorse, ValueUnit::kSeconds).ok());
  CHECK_FALSE(xj::parse_threshold("lots", Direction::kHigherIsWorse, ValueUnit::kNumber).ok());
}
