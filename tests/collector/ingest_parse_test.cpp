#include <catch2/catch.hpp>

#include "xj/collector/ingest.hpp"

using namespace xj;

namespace {
const char* kGood = R"({
  "agent": {"id": "web-01", "hostname": "web-01.local", "version": "0.1.0", "labels": {"system": "平台"}},
  "results": [
    {"seq": 7, "check": "disk", "kind": "disk", "status": "warning", "summary": "/ 85% used",
     "metrics": [{"name": "used_pct", "value": 85.0, "unit": "%", "labels": {"mount": "/"}, "warn": "~:80"}],
     "ts": 1700000000000, "duration_ms": 3, "details": {}},
    {"seq": 8, "check": "load", "kind": "load", "status": "ok", "summary": "", "metrics": [], "ts": 1700000000100}
  ],
  "gaps": [{"from_seq": 1, "to_seq": 6, "count": 6, "from_ts": 1699999990000, "to_ts": 1699999999000}]
})";

std::string parse_error(const std::string& body) {
  auto b = parse_ingest_batch(body, IngestLimits{});
  return b ? "(accepted)" : b.error();
}
}  // namespace

TEST_CASE("a well-formed batch parses with its agent, results and gaps", "[ingest]") {
  auto b = parse_ingest_batch(kGood, IngestLimits{});
  REQUIRE(b.ok());
  CHECK(b->agent.id == "web-01");
  CHECK(b->agent.labels.at("system") == "平台");
  REQUIRE(b->results.size() == 2);
  CHECK(b->results[0].seq == 7);
  CHECK(b->results[0].result.status == Status::kWarning);
  CHECK(b->results[0].result.metrics.at(0).warn->str() == "~:80");
  REQUIRE(b->gaps.size() == 1);
  CHECK(b->gaps[0].count == 6);
}

TEST_CASE("an empty result list is a heartbeat", "[ingest]") {
  auto b = parse_ingest_batch(R"({"agent":{"id":"a"},"results":[]})", IngestLimits{});
  REQUIRE(b.ok());
  CHECK(b->results.empty());
}

TEST_CASE("malformed batches are rejected naming the field", "[ingest]") {
  struct Case {
    const char* body;
    const char* expected;
  };
  const Case cases[] = {
      {"not json", "not valid JSON"},
      {"[1,2]", "must be a JSON object"},
      {R"({"results":[]})", "field 'agent': missing"},
      {R"({"agent":{"id":""},"results":[]})", "field 'agent.id': must not be empty"},
      {R"({"agent":{"id":5},"results":[]})", "field 'agent.id': must be a string"},
      {R"({"agent":{"id":"a","labels":{"x":1}},"results":[]})", "field 'agent.labels.x'"},
      {R"({"agent":{"id":"a"}})", "field 'results': missing"},
      {R"({"agent":{"id":"a"},"results":{}})", "field 'results': must be an array"},
      {R"({"agent":{"id":"a"},"results":[5]})", "field 'results[0]': must be an object"},
      {R"({"agent":{"id":"a"},"results":[{"check":"x"}]})", "field 'results[0].seq'"},
      {R"({"agent":{"id":"a"},"results":[{"seq":-1}]})", "field 'results[0].seq'"},
      {R"({"agent":{"id":"a"},"results":[{"seq":"1"}]})", "field 'results[0].seq'"},
      {R"({"agent":{"id":"a"},"results":[{"seq":2,"check":"x","kind":"k","status":"ok","ts":1},{"seq":2,"check":"x","kind":"k","status":"ok","ts":1}]})",
       "field 'results[1].seq': must increase"},
      {R"({"agent":{"id":"a"},"results":[{"seq":1,"check":"x","kind":"k","status":"fine","ts":1}]})",
       "results[0]: field 'status'"},
      {R"({"agent":{"id":"a"},"results":[{"seq":1,"check":"x","kind":"k","status":"ok","ts":"now"}]})",
       "results[0]: field 'ts'"},
      {R"({"agent":{"id":"a"},"results":[{"seq":1,"check":"x","kind":"k","status":"ok","ts":1,"metrics":[{"name":"m","value":"high"}]}]})",
       "results[0]: field 'metrics[0].value'"},
      {R"({"agent":{"id":"a"},"results":[],"gaps":[{"from_seq":5,"to_seq":1,"count":1,"from_ts":0,"to_ts":0}]})",
       "field 'gaps[0]'"},
      {R"({"agent":{"id":"a"},"results":[],"extra":1})", "field 'extra': unknown field"},
  };
  for (const auto& c : cases) {
    std::string e = parse_error(c.body);
    INFO(c.body << "\n-> " << e);
    CHECK(e.find(c.expected) != std::string::npos);
  }
}

TEST_CASE("huge strings and huge arrays are refused before they reach the store", "[ingest]") {
  IngestLimits limits;
  limits.max_string_bytes = 100;
  limits.max_results = 3;
  std::string big(200, 'x');
  auto e = parse_ingest_batch(R"({"agent":{"id":"a","hostname":")" + big + R"("},"results":[]})", limits);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().find("agent.hostname") != std::string::npos);
  std::string many = R"({"agent":{"id":"a"},"results":[)";
  for (int i = 1; i <= 4; ++i) {
    many += (i > 1 ? "," : "") + std::string(R"({"seq":)") + std::to_string(i) +
            R"(,"check":"x","kind":"k","status":"ok","ts":1})";
  }
  many += "]}";
  auto m = parse_ingest_batch(many, limits);
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().find("more than 3 results") != std::string::npos);
}
