// The HTTP server's pure decoding steps on odd and hostile input.
#include "xj/collector/http_decode.hpp"

#include "http_test_client.hpp"

using namespace xj;
using xj::test::gzip_bytes;

TEST_CASE("percent-decoding turns escapes into bytes and '+' into a space only in queries",
          "[http_decode]") {
  CHECK(percent_decode("/a%20b/%41%4a%4A", false).value() == "/a b/AJJ");
  CHECK(percent_decode("a+b", false).value() == "a+b");
  CHECK(percent_decode("a+b%2B", true).value() == "a b+");
  CHECK(percent_decode("%E4%B8%AD%E6%96%87", true).value() == "中文");
  CHECK(percent_decode("", true).value().empty());
}

TEST_CASE("percent-decoding refuses bad escapes, NUL and what is not UTF-8", "[http_decode]") {
  CHECK(percent_decode("/a%zz", false).error() == "bad percent-escape '%zz' in '/a%zz'");
  CHECK(percent_decode("/a%4", false).error() == "bad percent-escape '%4' in '/a%4'");
  CHECK(percent_decode("%", false).error() == "bad percent-escape '%' in '%'");
  CHECK(percent_decode("a%00b", false).error() == "encoded NUL (%00) in 'a%00b'");
  CHECK(percent_decode("%FF", false).error() == "'%FF' does not decode to UTF-8");
  CHECK_FALSE(percent_decode("%C0%AF", false).ok());        // overlong '/'
  CHECK_FALSE(percent_decode("%ED%A0%80", false).ok());     // a UTF-16 surrogate
  CHECK_FALSE(percent_decode("%E4%B8", false).ok());        // cut in the middle
  CHECK_FALSE(percent_decode("%F4%90%80%80", false).ok());  // above U+10FFFF
  CHECK(percent_decode("%F0%9F%98%80", false).ok());        // an emoji is fine
}

TEST_CASE("a query splits on & and =, skips empty pieces and keeps the first repeat",
          "[http_decode]") {
  using Q = std::map<std::string, std::string>;
  CHECK(parse_query("").value().empty());
  CHECK(parse_query("a=1&b=x+y&c").value() == Q{{"a", "1"}, {"b", "x y"}, {"c", ""}});
  CHECK(parse_query("&&a=1&&").value() == Q{{"a", "1"}});
  CHECK(parse_query("a=1&a=2").value() == Q{{"a", "1"}});
  CHECK(parse_query("k=a=b").value() == Q{{"k", "a=b"}});
  CHECK(parse_query("=v").value() == Q{{"", "v"}});
  CHECK(parse_query("status=critical&host=web%2D01").value() ==
        Q{{"status", "critical"}, {"host", "web-01"}});
  CHECK(parse_query("ok=1&bad=%zz").error() ==
        "query parameter 'bad': bad percent-escape '%zz' in '%zz'");
  CHECK(parse_query("%zz=1").error() == "query parameter: bad percent-escape '%zz' in '%zz'");
}

TEST_CASE("gunzip restores the body, also from concatenated gzip members", "[http_decode]") {
  const std::string text = "{\"results\":[]} repeated repeated repeated";
  CHECK(gunzip(gzip_bytes(text), 1 << 20).value() == text);
  CHECK(gunzip(gzip_bytes("ab") + gzip_bytes("cd"), 1 << 20).value() == "abcd");
  CHECK(gunzip(gzip_bytes(""), 10).value().empty());
}

TEST_CASE("gunzip allows exactly max_bytes and refuses one byte more as too large",
          "[http_decode]") {
  const std::string text(1000, 'z');
  CHECK(gunzip(gzip_bytes(text), 1000).value() == text);
  auto over = gunzip(gzip_bytes(text), 999);
  REQUIRE_FALSE(over.ok());
  CHECK(over.failure().too_large);
  CHECK(over.error() ==
        "decompressed request body exceeds the limit of 999 bytes (max_body_bytes)");
}

TEST_CASE("a gzip bomb stops at the limit instead of inflating everything", "[http_decode]") {
  const std::string bomb = gzip_bytes(std::string(32u << 20, '\0'));  // 32 MiB of zeros
  CHECK(bomb.size() < 1u << 20);
  auto r = gunzip(bomb, 1 << 20);
  REQUIRE_FALSE(r.ok());
  CHECK(r.failure().too_large);
}

TEST_CASE("gunzip names what is wrong with a body that is not gzip", "[http_decode]") {
  const std::string good = gzip_bytes("hello hello hello");
  auto not_gzip = gunzip("plain text", 1000);
  CHECK_FALSE(not_gzip.failure().too_large);
  CHECK(not_gzip.error() == "bad gzip body: incorrect header check");
  CHECK(gunzip(good.substr(0, good.size() - 4), 1000).error() ==
        "bad gzip body: truncated (ends before the gzip trailer)");
  CHECK(gunzip(good.substr(0, 5), 1000).error() ==
        "bad gzip body: truncated (ends before the gzip trailer)");
  std::string bad_crc = good;
  bad_crc[bad_crc.size() - 5] ^= 0x55;
  CHECK(gunzip(bad_crc, 1000).error() == "bad gzip body: incorrect data check");
  CHECK(gunzip(good + "trailing junk", 1000).error() == "bad gzip body: incorrect header check");
  CHECK(gunzip("", 1000).error() == "bad gzip body: it is empty");
}
