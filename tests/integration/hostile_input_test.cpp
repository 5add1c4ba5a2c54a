// Issue 3, acceptance 4: malformed and hostile requests against the real collector process
// get the documented 4xx, store nothing, and do not disturb a good agent shipping through it
// at the same time. Raw sockets (tests/collector/http_test_client.hpp) so every byte and
// every pause is the test's.
#include <catch2/catch.hpp>

#include "../collector/http_test_client.hpp"
#include "fleet.hpp"

using namespace xj::itest;
using xj::test::Conn;
using xj::test::gzip_bytes;

namespace {

std::string batch(const std::string& agent, const std::string& results) {
  return R"({"agent":{"id":")" + agent + R"(","hostname":"h","version":"t"},"results":[)" + results + "]}";
}

std::string result(int seq, const std::string& extra = "") {
  return R"({"seq":)" + std::to_string(seq) +
         R"(,"check":"c","kind":"exec","status":"ok","summary":"s","ts":1796000000000,"duration_ms":1)" +
         extra + "}";
}

std::string post(const std::string& body, const std::string& token,
                 const std::string& type = "application/json", const std::string& extra = "") {
  return "POST /api/v1/results HTTP/1.1\r\nHost: c\r\n" +
         (token.empty() ? std::string() : "Authorization: Bearer " + token + "\r\n") +
         "Content-Type: " + type + "\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

struct Case {
  std::string name;
  std::string request;
  int status;
  std::string says;  // a piece of the error message: it names the field or the cause
};

}  // namespace

TEST_CASE("hostile requests get the documented 4xx, store nothing, and good agents are served "
          "throughout",
          "[integration]") {
  auto dir = scratch_dir("hostile");
  CollectorProc collector(dir / "collector");
  collector.start();

  // A good agent ships all along.
  AgentOptions good;
  good.id = "good-01";
  good.collector_url = collector.url();
  good.token_file = dir / "good.token";
  collector.agent_token(good.id, good.token_file);
  AgentProc agent(dir / "agent", good);
  agent.start();
  REQUIRE(wait_until(10s, [&] { return collector.seqs(good.id).rows > 0; }));

  const std::string tok = collector.agent_token("evil-01", dir / "evil.token");
  const std::string revoked = collector.agent_token("evil-02", dir / "revoked.token");
  {
    // Revoke through the CLI, the way an operator does; the id is the newest in `token list`.
    auto list = run(kCollector, {"token", "list", "-c", collector.config()}, dir);
    REQUIRE(list.exit_code == 0);
    std::string id;
    std::istringstream in(list.out);
    for (std::string line; std::getline(in, line);) {
      if (line.find("evil-02") != std::string::npos) id = line.substr(0, line.find(' '));
    }
    REQUIRE(!id.empty());
    REQUIRE(run(kCollector, {"token", "revoke", id, "-c", collector.config()}, dir).exit_code == 0);
  }
  const std::string& viewer = collector.api_token();  // an operator API token, not an agent's

  std::string deep(20000, '[');
  std::string many;
  for (int i = 1; i <= 10001; ++i) many += (i > 1 ? "," : "") + result(i);

  const std::vector<Case> cases = {
      {"not JSON", post("{\"agent\":", tok), 400, "not valid JSON"},
      {"a JSON array", post("[1,2,3]", tok), 400, "JSON object"},
      {"agent missing", post(R"({"results":[]})", tok), 400, "agent"},
      {"agent.id a number", post(R"({"agent":{"id":7},"results":[]})", tok), 400, "agent.id"},
      {"results an object", post(R"({"agent":{"id":"evil-01"},"results":{}})", tok), 400, "results"},
      {"seq a string", post(batch("evil-01", R"({"seq":"1","check":"c","kind":"k","status":"ok","ts":1})"), tok),
       400, "results[0].seq"},
      {"negative seq", post(batch("evil-01", result(-5)), tok), 400, "results[0].seq"},
      {"unknown status", post(batch("evil-01", R"({"seq":1,"check":"c","kind":"k","status":"fine","ts":1})"), tok),
       400, "status"},
      {"metric value a string", post(batch("evil-01", result(1, R"(,"metrics":[{"name":"m","value":"high"}])")), tok),
       400, "metrics[0].value"},
      {"a bad result after a good one", post(batch("evil-01", result(1) + "," + result(2, R"(,"ts":"now")")), tok),
       400, "results[1]"},
      {"unknown top-level field", post(R"({"agent":{"id":"evil-01"},"results":[],"admin":true})", tok), 400,
       "admin"},
      {"huge string", post(batch("evil-01", result(1, R"(,"details":{"x":")" + std::string(100000, 'A') + "\"}")), tok),
       400, "results[0]"},
      {"huge array", post(batch("evil-01", many), tok), 400, "more than"},
      {"deeply nested JSON", post(deep, tok), 400, "JSON"},
      {"invalid UTF-8", post(batch("evil-01", result(1, ",\"summary2\":\"\xff\xfe\"")), tok), 400, ""},
      {"missing token", post(batch("evil-01", result(1)), ""), 401, "bearer"},
      {"wrong token", post(batch("evil-01", result(1)), "xja_" + std::string(40, 'z')), 401, "token"},
      {"revoked token", post(batch("evil-02", result(1)), revoked), 401, "revoked"},
      {"another agent's id", post(batch("good-01", result(999999)), tok), 403, "evil-01"},
      {"an operator API token", post(batch("evil-01", result(1)), viewer), 403, "API token"},
      {"text/plain body", post(batch("evil-01", result(1)), tok, "text/plain"), 415, "Content-Type"},
      {"GET on the ingest path", "GET /api/v1/results HTTP/1.1\r\nHost: c\r\n\r\n", 405, "POST"},
      {"a body that is not gzip", post("plainly not gzip", tok, "application/json", "Content-Encoding: gzip\r\n"),
       400, "gzip"},
      {"a gzip bomb", post(gzip_bytes(std::string(64u << 20, '{')), tok, "application/json",
                           "Content-Encoding: gzip\r\n"),
       413, ""},
      {"a body over max_body", post(std::string(9u << 20, ' '), tok), 413, ""},
      {"garbage instead of HTTP", "\x16\x03\x01\x02\x00 hello\r\n\r\n", 400, ""},
  };
  REQUIRE(cases.size() >= 20);

  const auto good_before = collector.seqs(good.id).rows;
  for (const auto& c : cases) {
    INFO("case: " << c.name);
    Conn conn(collector.port());
    conn.send(c.request);
    auto reply = conn.read_reply(10s);
    REQUIRE(reply);
    CHECK(reply->status == c.status);
    if (!c.says.empty()) CHECK(reply->body.find(c.says) != std::string::npos);
  }

  // Slowloris: a body promised and never finished. The collector times it out (read_timeout
  // 2 s here) with 408 and meanwhile serves the good agent.
  {
    Conn slow(collector.port());
    std::string body = batch("evil-01", result(1));
    std::string head = "POST /api/v1/results HTTP/1.1\r\nHost: c\r\nAuthorization: Bearer " + tok +
                       "\r\nContent-Type: application/json\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n";
    REQUIRE(slow.send(head + body.substr(0, 10)));
    auto reply = slow.read_reply(6s);
    REQUIRE(reply);
    CHECK(reply->status == 408);
  }

  // Nothing of the evil agents was stored: not a host, not a result.
  CHECK(sql_int(collector.store(), "SELECT count(*) FROM hosts WHERE id LIKE 'evil-%'") == 0);
  CHECK(collector.get("/api/v1/hosts/evil-01").status == 404);
  // The good agent's seq 999999 that the other token tried to inject is not there either.
  CHECK(sql_int(collector.store(), "SELECT count(*) FROM results WHERE seq = 999999") == 0);

  // The good agent was served during the barrage and still is afterwards.
  const auto good_during = collector.seqs(good.id).rows;
  CHECK(good_during > good_before);
  REQUIRE(wait_until(10s, [&] { return collector.seqs(good.id).rows > good_during; }));
  CHECK(collector.running());
  REQUIRE(agent.stop() == 0);
  auto s = collector.seqs(good.id);
  CHECK(s.rows == s.distinct);

  // Every refusal was counted on /metrics, by reason.
  auto metrics = http("GET", collector.url() + "/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.body.find("xunjian_http_rejected_total{reason=\"bad_request\"}") != std::string::npos);
  CHECK(metrics.body.find("xunjian_http_rejected_total{reason=\"unauthorized\"}") != std::string::npos);
}
