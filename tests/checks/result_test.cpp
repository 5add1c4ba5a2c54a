#include <catch2/catch.hpp>
#include <cmath>

#include "xj/checks/check.hpp"
#include "xj/checks/result.hpp"

using namespace xj;

TEST_CASE("status codes are the Nagios exit codes", "[status]") {
  CHECK(code_of(Status::kOk) == 0);
  CHECK(code_of(Status::kWarning) == 1);
  CHECK(code_of(Status::kCritical) == 2);
  CHECK(code_of(Status::kUnknown) == 3);
  CHECK(status_from_code(7) == Status::kUnknown);
  CHECK(worst(Status::kWarning, Status::kUnknown) == Status::kUnknown);
  CHECK(worst(Status::kCritical, Status::kUnknown) == Status::kCritical);
}

TEST_CASE("a metric is evaluated against crit before warn", "[metric]") {
  Metric m{"used_pct", 95, "%", {}, Range::above(80), Range::above(90)};
  CHECK(m.evaluate() == Status::kCritical);
  m.value = 85;
  CHECK(m.evaluate() == Status::kWarning);
  m.value = 50;
  CHECK(m.evaluate() == Status::kOk);
}

TEST_CASE("a result survives the JSON wire form unchanged", "[result]") {
  Result r;
  r.check = "disk:/data";
  r.kind = "disk";
  r.status = Status::kWarning;
  r.summary = "/data 85% used";
  r.metrics.push_back({"used_pct", 85.5, "%", {{"mount", "/data"}}, Range::above(80), Range::above(90)});
  r.ts_ms = 1700000000123;
  r.duration_ms = 12;
  r.details = {{"fs", "ext4"}};
  auto back = result_from_json(to_json(r));
  REQUIRE(back.ok());
  CHECK(back->check == r.check);
  CHECK(back->status == Status::kWarning);
  CHECK(back->metrics.at(0).labels.at("mount") == "/data");
  CHECK(back->metrics.at(0).warn->str() == "~:80");
  CHECK(back->ts_ms == r.ts_ms);
  CHECK(back->details["fs"] == "ext4");
}

TEST_CASE("a malformed wire result names the offending field", "[result]") {
  auto j = to_json(unknown_result("x", "load", "no data"));
  j["status"] = "bad";
  CHECK(result_from_json(j).error().find("'status'") != std::string::npos);
  j = to_json(unknown_result("x", "load", "no data"));
  j["metrics"] = nlohmann::json::array({{{"name", "a"}, {"value", "high"}}});
  CHECK(result_from_json(j).error().find("metrics[0].value") != std::string::npos);
  j = to_json(unknown_result("x", "load", "no data"));
  j.erase("ts");
  CHECK(result_from_json(j).error().find("'ts'") != std::string::npos);
}

TEST_CASE("a non-finite metric value goes on the wire as null", "[result]") {
  Metric m{"ratio", std::nan(""), "", {}, std::nullopt, std::nullopt};
  CHECK(to_json(m)["value"].is_null());
}

namespace {
class ThrowingCheck : public Check {
 public:
  ThrowingCheck() : Check("boom", "test") {}
  Result run(const RunContext&) override { throw std::runtime_error("exploded"); }
};
}  // namespace

TEST_CASE("an exception out of run() becomes an unknown result with the reason", "[check]") {
  ThrowingCheck c;
  RunContext ctx(std::chrono::seconds(1));
  Result r = run_guarded(c, ctx);
  CHECK(r.status == Status::kUnknown);
  CHECK(r.summary.find("exploded") != std::string::npos);
  CHECK(r.check == "boom");
  CHECK(r.ts_ms > 0);
}
