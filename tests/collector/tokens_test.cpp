#include <catch2/catch.hpp>
#include <set>

#include "xj/collector/collector_metrics.hpp"
#include "xj/collector/tokens.hpp"

using namespace xj;

TEST_CASE("generated tokens are long, prefixed by kind and never repeat", "[tokens]") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string t = generate_token(TokenKind::kAgent);
    CHECK(t.rfind("xja_", 0) == 0);
    CHECK(t.size() == 4 + 43);
    CHECK(seen.insert(t).second);
  }
  CHECK(generate_token(TokenKind::kApi).rfind("xjo_", 0) == 0);
}

TEST_CASE("a token is stored as its SHA-256", "[tokens]") {
  CHECK(token_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("the bearer token is taken from the Authorization header only in bearer form", "[tokens]") {
  CHECK(bearer_token("Bearer xja_abc") == "xja_abc");
  CHECK(bearer_token("bearer  xja_abc ") == "xja_abc");
  CHECK(bearer_token("Basic dXNlcjpwYXNz").empty());
  CHECK(bearer_token("Bearer ").empty());
  CHECK(bearer_token("Bearer a b").empty());
  CHECK(bearer_token("").empty());
}

TEST_CASE("label names are made valid for Prometheus", "[metrics]") {
  CHECK(prometheus_label_name("mount") == "mount");
  CHECK(prometheus_label_name("system-name") == "system_name");
  CHECK(prometheus_label_name("9x") == "_9x");
  CHECK(prometheus_label_name("__name") == "x__name");
}
