#include "xj/agent/agent_metrics.hpp"

#include <catch2/catch.hpp>

#include "agent_test_util.hpp"

using namespace xj;
using test::http_get;
using test::metric_value;

namespace {

std::unique_ptr<AgentMetrics> serve() {
  auto m = AgentMetrics::start("127.0.0.1:0");
  INFO((m.ok() ? std::string() : m.error()));
  REQUIRE(m.ok());
  REQUIRE((*m)->port() > 0);
  return std::move(m).value();
}

std::string scrape(const AgentMetrics& m) {
  auto reply = http_get("http://127.0.0.1:" + std::to_string(m.port()) + "/metrics");
  INFO(reply.error);
  REQUIRE(reply.code == 200);
  return reply.body;
}

Result result(Status s, std::int64_t duration_ms) {
  Result r = unknown_result("disk:/data", "disk", "x");
  r.status = s;
  r.duration_ms = duration_ms;
  return r;
}

const std::string kDisk = R"({check="disk:/data",kind="disk"})";

}  // namespace

TEST_CASE(
    "check runs, failures, timeouts and skips are served over HTTP on a port picked at "
    "run time",
    "[metrics]") {
  auto m = serve();
  m->observe("disk:/data", "disk", result(Status::kOk, 250), false);
  m->observe("disk:/data", "disk", result(Status::kUnknown, 10'000), true);
  m->observe("disk:/data", "disk", result(Status::kCritical, 1500), false);
  m->skipped("disk:/data", "disk");
  m->set_interval("disk:/data", "disk", 60);
  auto body = scrape(*m);
  CHECK(metric_value(body, "xunjian_check_status" + kDisk) == 2.0);
  CHECK(metric_value(body, "xunjian_check_duration_seconds" + kDisk) == 1.5);
  CHECK(metric_value(body, "xunjian_check_runs_total" + kDisk) == 3.0);
  CHECK(metric_value(body, "xunjian_check_failures_total" + kDisk) == 1.0);
  CHECK(metric_value(body, "xunjian_check_timeouts_total" + kDisk) == 1.0);
  CHECK(metric_value(body, "xunjian_check_skipped_total" + kDisk) == 1.0);
  CHECK(metric_value(body, "xunjian_check_interval_seconds" + kDisk) == 60.0);
}

TEST_CASE("spool, process and self-limit figures are served", "[metrics]") {
  auto m = serve();
  m->set_spool(42, 0);
  m->set_spool(40, 5);
  m->set_spool(40, 7);
  m->set_process(8 * 1024 * 1024, 1.25);
  m->set_process(8 * 1024 * 1024, 2.5);
  m->limit_exceeded("rss");
  m->limit_exceeded("rss");
  m->limit_exceeded("cpu");
  auto body = scrape(*m);
  CHECK(metric_value(body, "xunjian_spool_depth") == 40.0);
  CHECK(metric_value(body, "xunjian_spool_dropped_total") == 7.0);  // a total, not a sum
  CHECK(metric_value(body, "xunjian_agent_rss_bytes") == 8.0 * 1024 * 1024);
  CHECK(metric_value(body, "xunjian_agent_cpu_seconds_total") == 2.5);
  CHECK(metric_value(body, R"(xunjian_agent_limit_exceeded_total{resource="rss"})") == 2.0);
  CHECK(metric_value(body, R"(xunjian_agent_limit_exceeded_total{resource="cpu"})") == 1.0);
}

TEST_CASE("checks gone after a reload disappear from /metrics", "[metrics]") {
  auto m = serve();
  m->observe("disk:/data", "disk", result(Status::kOk, 1), false);
  m->observe("load", "load", result(Status::kOk, 1), false);
  m->retain_checks({"load"});
  auto body = scrape(*m);
  CHECK_FALSE(metric_value(body, "xunjian_check_runs_total" + kDisk));
  CHECK(metric_value(body, R"(xunjian_check_runs_total{check="load",kind="load"})") == 1.0);
}

TEST_CASE("a metrics port already in use is an error naming the address", "[metrics]") {
  auto first = serve();
  const std::string taken = "127.0.0.1:" + std::to_string(first->port());
  auto second = AgentMetrics::start(taken);
  REQUIRE_FALSE(second.ok());
  CHECK_THAT(second.error(), Catch::Contains(taken));
}

TEST_CASE("an empty metrics address keeps the metrics but serves nothing", "[metrics]") {
  auto m = AgentMetrics::start("");
  REQUIRE(m.ok());
  CHECK((*m)->port() == 0);
  (*m)->observe("load", "load", result(Status::kOk, 1), false);  // still safe to update
}
