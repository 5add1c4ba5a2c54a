#include <catch2/catch.hpp>
#include <fstream>

#include "xj/checks/load_check.hpp"
#include "xj/checks/registry.hpp"

using namespace xj;

TEST_CASE("loadavg text parses into three averages", "[load]") {
  auto la = parse_loadavg("0.52 1.48 2.40 1/123 4567\n");
  REQUIRE(la.ok());
  CHECK(la->load1 == Approx(0.52));
  CHECK(la->load5 == Approx(1.48));
  CHECK(la->load15 == Approx(2.40));
  CHECK_FALSE(parse_loadavg("garbage").ok());
}

TEST_CASE("load per core over the threshold makes the check critical", "[load]") {
  std::string path = std::string(XJ_BINARY_DIR) + "/load_fixture.txt";
  std::ofstream(path) << "1000.0 1000.0 1000.0 1/1 1\n";
  YAML::Node n = YAML::Load("kind: load\npath: " + path + "\n");
  auto def = load_check(n, "t.yaml", "checks[0]", CheckEnv{});
  RunContext ctx(std::chrono::seconds(5));
  Result r = run_guarded(*def.check, ctx);
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.find("1000.00") != std::string::npos);
}

TEST_CASE("the load check on this machine reports its averages", "[load]") {
  YAML::Node n = YAML::Load("kind: load\n");
  auto def = load_check(n, "t.yaml", "checks[0]", CheckEnv{});
  RunContext ctx(std::chrono::seconds(5));
  Result r = run_guarded(*def.check, ctx);
  CHECK(r.status != Status::kUnknown);
  CHECK(r.metrics.size() == 7);
}

TEST_CASE("a missing loadavg file is unknown with the path in the reason", "[load]") {
  YAML::Node n = YAML::Load("kind: load\npath: /nonexistent/loadavg\n");
  auto def = load_check(n, "t.yaml", "checks[0]", CheckEnv{});
  RunContext ctx(std::chrono::seconds(5));
  Result r = run_guarded(*def.check, ctx);
  CHECK(r.status == Status::kUnknown);
  CHECK(r.summary.find("/nonexistent/loadavg") != std::string::npos);
}
