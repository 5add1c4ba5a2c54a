// The HTTP client's URL parsing and redirect resolution, on fixed and odd input.
#include <catch2/catch.hpp>

#include "xj/common/http_client.hpp"

using namespace xj;

TEST_CASE("URLs split into scheme, host, port and target with the scheme's default port",
          "[http_client][url]") {
  struct Case {
    const char* text;
    const char* scheme;
    const char* host;
    int port;
    const char* target;
    const char* authority;
  };
  const Case cases[] = {
      {"http://example.com", "http", "example.com", 80, "/", "example.com"},
      {"https://Example.COM/a/b?x=1#frag", "https", "example.com", 443, "/a/b?x=1", "example.com"},
      {"HTTP://h:8080?q", "http", "h", 8080, "/?q", "h:8080"},
      {"http://h:/x", "http", "h", 80, "/x", "h"},
      {"http://h:80/x", "http", "h", 80, "/x", "h"},
      {"https://h:80/", "https", "h", 80, "/", "h:80"},
      {"http://[::1]:8080/x", "http", "::1", 8080, "/x", "[::1]:8080"},
      {"https://[2001:DB8::5]/", "https", "2001:db8::5", 443, "/", "[2001:db8::5]"},
      {"http://10.1.2.3:9/health", "http", "10.1.2.3", 9, "/health", "10.1.2.3:9"},
      {"http://h/%E8%B7%AF?a=b&c=%20", "http", "h", 80, "/%E8%B7%AF?a=b&c=%20", "h"},
      {"http://h/路径", "http", "h", 80, "/%E8%B7%AF%E5%BE%84", "h"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto url = parse_url(c.text);
    REQUIRE(url.ok());
    CHECK(url->scheme == c.scheme);
    CHECK(url->host == c.host);
    CHECK(url->port == c.port);
    CHECK(url->target == c.target);
    CHECK(url->authority() == c.authority);
  }
  CHECK(parse_url("http://[::1]/x")->host_port() == "[::1]:80");
  CHECK(parse_url("https://h:443/x?y")->str() == "https://h/x?y");
  CHECK(parse_url("http://[::1]:8080")->str() == "http://[::1]:8080/");
}

TEST_CASE("malformed URLs are refused naming the text and the problem", "[http_client][url]") {
  struct Case {
    const char* text;
    const char* problem;
  };
  const Case cases[] = {
      {"", "is not an http:// or https:// URL"},
      {"not a url", "is not an http:// or https:// URL"},
      {"ftp://h/x", "is not an http:// or https:// URL"},
      {"//h/x", "is not an http:// or https:// URL"},
      {"http://", "has no host"},
      {"http:///x", "has no host"},
      {"http://:80/", "has no host"},
      {"http://h:0/", "port '0' is not 1 to 65535"},
      {"http://h:65536/", "port '65536'"},
      {"http://h:8o/", "port '8o'"},
      {"http://u:pw@h/", "user:password in a URL is not supported"},
      {"http://::1/", "an IPv6 address needs brackets"},
      {"http://[::1/", "'[' without ']'"},
      {"http://[zz::1]/", "is not an IPv6 address"},
      {"http://[127.0.0.1]/", "is not an IPv6 address"},
      {"http://[::1]x/", "text after ']'"},
      {"http://bad!host/", "character '!' in the host name"},
      {"http://h/a b", "contains a space or control character"},
      {"http://h/a\nb", "contains a space or control character"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto url = parse_url(c.text);
    REQUIRE_FALSE(url.ok());
    CHECK(url.error().rfind("'" + std::string(c.text) + "'", 0) == 0);
    CHECK(url.error().find(c.problem) != std::string::npos);
  }
}

TEST_CASE("a redirect's Location resolves against the URL that answered", "[http_client][url]") {
  const Url base = *parse_url("https://h:8443/a/b/c?q=1");
  struct Case {
    const char* location;
    const char* expected;
  };
  const Case cases[] = {
      {"/x", "https://h:8443/x"},
      {"d", "https://h:8443/a/b/d"},
      {"./d", "https://h:8443/a/b/d"},
      {"../d?y=2", "https://h:8443/a/d?y=2"},
      {"../../../../d", "https://h:8443/d"},
      {"./", "https://h:8443/a/b/"},
      {"..", "https://h:8443/a/"},
      {"?z", "https://h:8443/a/b/c?z"},
      {"#top", "https://h:8443/a/b/c?q=1"},
      {"  /x  ", "https://h:8443/x"},
      {"//other/p", "https://other/p"},
      {"http://o:81/p", "http://o:81/p"},
      {"HTTPS://O/p", "https://o/p"},
      {"/p?next=http://x/", "https://h:8443/p?next=http://x/"},
  };
  for (const auto& c : cases) {
    INFO(c.location);
    auto url = resolve_location(base, c.location);
    REQUIRE(url.ok());
    CHECK(url->str() == c.expected);
  }
  const Url v6 = *parse_url("http://[::1]:8080/a");
  CHECK(resolve_location(v6, "b")->str() == "http://[::1]:8080/b");
  CHECK_FALSE(resolve_location(base, "ftp://h/x").ok());
  CHECK_FALSE(resolve_location(base, "http://h:99999/").ok());
  CHECK_FALSE(resolve_location(base, "/a b").ok());
}
