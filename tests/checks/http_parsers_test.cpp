// Pure helpers of the http check on fixed and odd input.
#include <catch2/catch.hpp>
#include <chrono>

#include "xj/checks/http_check.hpp"

using namespace xj;

TEST_CASE("status patterns accept single codes and classes like 2xx", "[http]") {
  CHECK(parse_status_pattern("204")->matches(204));
  CHECK_FALSE(parse_status_pattern("204")->matches(200));
  auto cls = parse_status_pattern("2xx");
  REQUIRE(cls.ok());
  CHECK(cls->matches(200));
  CHECK(cls->matches(299));
  CHECK_FALSE(cls->matches(300));
  CHECK(parse_status_pattern("5XX")->matches(503));
  for (const char* bad : {"", "20", "2000", "2x0", "abc", "600", "099", " 200"}) {
    INFO(bad);
    CHECK_FALSE(parse_status_pattern(bad).ok());
  }
}

TEST_CASE("days left count fractions and go negative after expiry", "[http]") {
  using namespace std::chrono;
  const sys_seconds day = sys_days(2026y / March / 1);
  const system_clock::time_point now = day;
  CHECK(cert_days_left(day + 36h, now) == Approx(1.5));
  CHECK(cert_days_left(day - 24h, now) == Approx(-1.0));
  // "Never expires" certificates (notAfter 9999-12-31) count without overflowing.
  CHECK(cert_days_left(sys_days(9999y / December / 31) + 23h + 59min + 59s, now) > 2.9e6);
}

TEST_CASE("a JSON pointer compares strings by content and other values by their JSON text",
          "[http]") {
  const std::string body = R"({"status":"UP","db":{"ok":true,"conns":3},"list":["a"]})";
  CHECK_FALSE(json_pointer_mismatch(body, "/status", "UP").has_value());
  CHECK_FALSE(json_pointer_mismatch(body, "/db/ok", "true").has_value());
  CHECK_FALSE(json_pointer_mismatch(body, "/db/conns", "3").has_value());
  CHECK_FALSE(json_pointer_mismatch(body, "/list/0", "a").has_value());
  CHECK(*json_pointer_mismatch(body, "/status", "DOWN") == "/status is \"UP\", expected DOWN");
  CHECK(json_pointer_mismatch(body, "/db/missing", "x")->find("/db/missing is missing") == 0);
  CHECK(json_pointer_mismatch(body, "/list/7", "x")->find("is missing") != std::string::npos);
  CHECK(json_pointer_mismatch("<html>oops</html>", "/status", "UP")
            ->find("body is not JSON: '<html>oops") == 0);
}

TEST_CASE("body excerpts are short, single-line and never split a UTF-8 character", "[http]") {
  CHECK(body_excerpt("line1\nline2\t!") == "line1 line2 !");
  CHECK(body_excerpt(std::string(100, 'x'), 10) == std::string(10, 'x') + "...");
  // "巡检" is 6 bytes; a cut at 4 must fall back to the 3-byte boundary.
  CHECK(body_excerpt("巡检", 4) == "巡...");
  CHECK(body_excerpt("", 10).empty());
}
