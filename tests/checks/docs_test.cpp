#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "xj/checks/registry.hpp"

TEST_CASE("docs/checks.md is the documentation generated from the check declarations", "[docs]") {
  std::ifstream in(std::string(XJ_SOURCE_DIR) + "/docs/checks.md");
  REQUIRE(in);
  std::ostringstream ss;
  ss << in.rdbuf();
  INFO("regenerate with: xunjian-agent kinds --markdown > docs/checks.md");
  CHECK(ss.str() == xj::checks_markdown());
}
