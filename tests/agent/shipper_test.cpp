// The shipper's decisions, with the transport replaced by a function that plays the collector's
// documented answers. The end-to-end path against the real collector is in
// tests/integration/.
#include <catch2/catch.hpp>
#include <filesystem>

#include "xj/agent/shipper.hpp"

using namespace xj;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<Spool> fresh_spool(const std::string& name, SpoolOptions options = {}) {
  auto dir = std::filesystem::path(XJ_BINARY_DIR) / "shipper_test" / name;
  std::filesystem::remove_all(dir);
  auto s = Spool::open(dir, options);
  REQUIRE(s.ok());
  return std::move(s).value();
}

Result sample(int i) {
  Result r;
  r.check = "c" + std::to_string(i);
  r.kind = "load";
  r.status = Status::kOk;
  r.ts_ms = 1000 + i;
  return r;
}

// A fake collector that stores what it is sent and answers like the real one.
struct FakeCollector {
  std::vector<nlohmann::json> bodies;
  std::function<PostReply(const nlohmann::json&)> answer = [](const nlohmann::json& j) {
    std::int64_t ack = 0;
    for (const auto& r : j["results"]) ack = std::max(ack, r["seq"].get<std::int64_t>());
    return PostReply{200, nlohmann::json{{"accepted", j["results"].size()}, {"ack_seq", ack}}.dump()};
  };
  PostFn fn() {
    return [this](const std::string& body) -> Expected<PostReply> {
      auto j = nlohmann::json::parse(body);
      bodies.push_back(j);
      return answer(j);
    };
  }
};

const nlohmann::json kAgent = {{"id", "web-01"}, {"hostname", "web-01"}, {"version", "t"}, {"labels", nlohmann::json::object()}};

}  // namespace

TEST_CASE("results are deleted from the spool only after the collector acknowledges them", "[shipper]") {
  auto spool = fresh_spool("ack");
  for (int i = 1; i <= 5; ++i) REQUIRE(spool->append(sample(i)).ok());
  FakeCollector c;
  c.answer = [](const nlohmann::json&) { return PostReply{200, R"({"accepted":5,"ack_seq":3})"}; };
  Shipper s(*spool, kAgent, c.fn(), ShipperOptions{}, 1);
  auto step = s.step(std::chrono::steady_clock::now());
  CHECK(step.outcome == Shipper::Outcome::kShipped);
  CHECK(step.acked == 3);
  CHECK(spool->depth() == 2);
  REQUIRE(c.bodies.size() == 1);
  CHECK(c.bodies[0]["results"].size() == 5);
  CHECK(c.bodies[0]["results"][0]["seq"] == 1);
  CHECK(c.bodies[0]["results"][0]["check"] == "c1");
  CHECK(c.bodies[0]["agent"]["id"] == "web-01");
}

TEST_CASE("a failed post keeps every result and backs off with jitter up to the cap", "[shipper]") {
  auto spool = fresh_spool("backoff");
  REQUIRE(spool->append(sample(1)).ok());
  ShipperOptions o;
  o.backoff_min = 1000ms;
  o.backoff_max = 8000ms;
  Shipper s(*spool, kAgent, [](const std::string&) -> Expected<PostReply> { return make_error("connect: Connection refused"); }, o, 7);
  std::vector<std::int64_t> waits;
  for (int i = 0; i < 6; ++i) {
    auto step = s.step(std::chrono::steady_clock::now());
    CHECK(step.outcome == Shipper::Outcome::kRetry);
    CHECK(step.error.find("Connection refused") != std::string::npos);
    waits.push_back(step.wait.count());
  }
  CHECK(spool->depth() == 1);
  CHECK(waits[0] >= 500);
  CHECK(waits[0] <= 1000);
  CHECK(waits[3] >= 4000);
  CHECK(waits[5] <= 8000);  // capped
  CHECK(waits[5] >= 4000);
}

TEST_CASE("server errors and refused tokens are retried, never dropped", "[shipper]") {
  for (int status : {500, 503, 401, 403}) {
    auto spool = fresh_spool("status" + std::to_string(status));
    REQUIRE(spool->append(sample(1)).ok());
    FakeCollector c;
    c.answer = [status](const nlohmann::json&) { return PostReply{status, R"({"error":"x"})"}; };
    Shipper s(*spool, kAgent, c.fn(), ShipperOptions{}, 1);
    auto step = s.step(std::chrono::steady_clock::now());
    CHECK(step.outcome == Shipper::Outcome::kRetry);
    CHECK(spool->depth() == 1);
  }
}

TEST_CASE("a batch the collector finds too large is halved", "[shipper]") {
  auto spool = fresh_spool("split");
  for (int i = 1; i <= 8; ++i) REQUIRE(spool->append(sample(i)).ok());
  FakeCollector c;
  auto normal = c.answer;
  c.answer = [normal](const nlohmann::json& j) {
    if (j["results"].size() > 2) return PostReply{413, R"({"error":"body over 8 MiB"})"};
    return normal(j);
  };
  Shipper s(*spool, kAgent, c.fn(), ShipperOptions{}, 1);
  auto now = std::chrono::steady_clock::now();
  CHECK(s.step(now).outcome == Shipper::Outcome::kSplit);  // 8 -> 4
  CHECK(s.step(now).outcome == Shipper::Outcome::kSplit);  // 4 -> 2
  auto ok = s.step(now);
  CHECK(ok.outcome == Shipper::Outcome::kShipped);
  CHECK(ok.acked == 2);
  while (spool->depth() > 0) REQUIRE(s.step(now).outcome != Shipper::Outcome::kRetry);
  std::int64_t expected = 1;
  for (const auto& b : c.bodies) {
    if (b["results"].size() > 2) continue;
    for (const auto& r : b["results"]) CHECK(r["seq"] == expected++);
  }
  CHECK(expected == 9);
}

TEST_CASE("a single result the collector refuses is quarantined, not lost, and does not block the rest", "[shipper]") {
  auto spool = fresh_spool("quarantine");
  for (int i = 1; i <= 4; ++i) REQUIRE(spool->append(sample(i)).ok());
  FakeCollector c;
  auto normal = c.answer;
  c.answer = [normal](const nlohmann::json& j) {
    for (const auto& r : j["results"]) {
      if (r["seq"] == 2) return PostReply{400, R"({"error":"field 'results[0].check': bad"})"};
    }
    return normal(j);
  };
  Shipper s(*spool, kAgent, c.fn(), ShipperOptions{}, 1);
  auto now = std::chrono::steady_clock::now();
  std::vector<Shipper::Outcome> outcomes;
  for (int i = 0; i < 10 && spool->depth() > 0; ++i) outcomes.push_back(s.step(now).outcome);
  CHECK(spool->depth() == 0);
  CHECK(spool->rejected() == 1);
  CHECK(std::count(outcomes.begin(), outcomes.end(), Shipper::Outcome::kQuarantined) == 1);
}

TEST_CASE("an idle agent sends a heartbeat every heartbeat interval", "[shipper]") {
  auto spool = fresh_spool("heartbeat");
  FakeCollector c;
  ShipperOptions o;
  o.heartbeat = 30s;
  Shipper s(*spool, kAgent, c.fn(), o, 1);
  auto t0 = std::chrono::steady_clock::now();
  CHECK(s.step(t0).outcome == Shipper::Outcome::kHeartbeat);
  REQUIRE(c.bodies.size() == 1);
  CHECK(c.bodies[0]["results"].empty());
  auto idle = s.step(t0 + 10s);
  CHECK(idle.outcome == Shipper::Outcome::kIdle);
  CHECK(idle.wait == 20s);
  CHECK(s.step(t0 + 30s).outcome == Shipper::Outcome::kHeartbeat);
  CHECK(c.bodies.size() == 2);
}

TEST_CASE("gap records left by the spool cap are shipped and cleared once acknowledged", "[shipper]") {
  SpoolOptions so;
  so.max_rows = 3;
  auto spool = fresh_spool("gaps", so);
  for (int i = 1; i <= 6; ++i) REQUIRE(spool->append(sample(i)).ok());
  REQUIRE(spool->gaps()->size() == 1);
  FakeCollector c;
  Shipper s(*spool, kAgent, c.fn(), ShipperOptions{}, 1);
  auto step = s.step(std::chrono::steady_clock::now());
  CHECK(step.outcome == Shipper::Outcome::kShipped);
  REQUIRE(c.bodies.size() == 1);
  REQUIRE(c.bodies[0]["gaps"].size() == 1);
  CHECK(c.bodies[0]["gaps"][0]["from_seq"] == 1);
  CHECK(c.bodies[0]["gaps"][0]["to_seq"] == 3);
  CHECK(c.bodies[0]["gaps"][0]["count"] == 3);
  CHECK(spool->gaps()->empty());
  CHECK(spool->depth() == 0);
}

TEST_CASE("an ack_seq beyond what was sent never deletes unsent results", "[shipper]") {
  auto spool = fresh_spool("overack");
  for (int i = 1; i <= 3; ++i) REQUIRE(spool->append(sample(i)).ok());
  FakeCollector c;
  c.answer = [](const nlohmann::json&) { return PostReply{200, R"({"accepted":1,"ack_seq":999})"}; };
  ShipperOptions o;
  o.max_batch_results = 1;
  Shipper s(*spool, kAgent, c.fn(), o, 1);
  auto step = s.step(std::chrono::steady_clock::now());
  CHECK(step.acked == 1);
  CHECK(spool->depth() == 2);
}
