// The incident endpoints as the HTTP server calls them (the same Api object, no socket): roles,
// routing, error answers that name the cause, and the audit entry of every action. The
// collector, xunjianctl and a robot receiver end to end are in tests/alerts/alerts_e2e_test.cpp.
#include "api_fixture.hpp"

using namespace xj;
using json = nlohmann::json;
using xj::test::ApiFixture;

TEST_CASE("an operator opens and works an incident through the API and a viewer reads it") {
  ApiFixture f("incident-api");
  auto opened = f.call("POST", "/api/v1/incidents", f.op, R"({"title":"存证接口超时","level":"P2","host":"app-01"})");
  REQUIRE(opened.status == 200);
  CHECK(json::parse(opened.body)["incident"]["number"] == "INC-0001");
  CHECK(f.call("POST", "/api/v1/incidents/1/ack", f.op, R"({"text":"已到场"})").status == 200);
  CHECK(f.call("POST", "/api/v1/incidents/INC-0001/note", f.op, R"({"text":"重启服务"})").status == 200);
  auto resolved = f.call("POST", "/api/v1/incidents/1/resolve", f.op, R"({"cause":"连接池耗尽","handling":"扩容"})");
  REQUIRE(resolved.status == 200);
  CHECK(json::parse(resolved.body)["incident"]["cause"] == "连接池耗尽");

  auto shown = f.call("GET", "/api/v1/incidents/1", f.viewer);
  REQUIRE(shown.status == 200);
  auto j = json::parse(shown.body);
  CHECK(j["state"] == "resolved");
  CHECK(j["acknowledged_by"] == "api:zhangsan");
  REQUIRE(j["timeline"].size() == 4);
  CHECK(j["timeline"][2]["text"] == "重启服务");
  auto list = f.call("GET", "/api/v1/incidents", f.viewer, "", {{"state", "resolved"}});
  CHECK(json::parse(list.body)["incidents"].size() == 1);
  CHECK(json::parse(f.call("GET", "/api/v1/incidents", f.viewer, "", {{"active", "1"}}).body)["incidents"].empty());
  auto report = f.call("GET", "/api/v1/incidents/1/report", f.viewer);
  REQUIRE(report.status == 200);
  CHECK_THAT(report.content_type, Catch::StartsWith("text/markdown"));
  CHECK_THAT(report.body, Catch::Contains("连接池耗尽"));

  // Every action in the audit log, under the token's name, and the chain verifies.
  std::vector<std::string> actions;
  for (const auto& e : f.store->audit_entries(0, 100)) {
    if (e.object == "incident:INC-0001") {
      CHECK(e.actor == "api:zhangsan");
      actions.push_back(e.action);
    }
  }
  CHECK(actions == std::vector<std::string>{"incident.open", "incident.ack", "incident.note", "incident.resolve"});
  CHECK(f.store->verify_audit().ok);
}

TEST_CASE("a viewer may read incidents but not act on them, and no token is refused") {
  ApiFixture f("incident-api");
  REQUIRE(f.call("POST", "/api/v1/incidents", f.op, R"({"title":"x"})").status == 200);
  auto denied = f.call("POST", "/api/v1/incidents/1/ack", f.viewer, "{}");
  CHECK(denied.status == 403);
  CHECK_THAT(f.error_of(denied), Catch::Contains("operator"));
  CHECK(f.call("POST", "/api/v1/incidents", f.viewer, R"({"title":"y"})").status == 403);
  CHECK(f.call("GET", "/api/v1/incidents", "").status == 401);
  CHECK(f.call("GET", "/api/v1/incidents/1", f.viewer).status == 200);
  // Nothing the viewer tried was done or audited.
  CHECK(json::parse(f.call("GET", "/api/v1/incidents/1", f.viewer).body)["state"] == "open");
  for (const auto& e : f.store->audit_entries(0, 100)) CHECK(e.actor != "api:lisi");
}

TEST_CASE("bad incident requests are answered with the status and a message naming the cause") {
  ApiFixture f("incident-api");
  REQUIRE(f.call("POST", "/api/v1/incidents", f.op, R"({"title":"x"})").status == 200);
  auto unknown_field = f.call("POST", "/api/v1/incidents/1/note", f.op, R"({"txt":"a"})");
  CHECK(unknown_field.status == 400);
  CHECK_THAT(f.error_of(unknown_field), Catch::Contains("unknown field 'txt'; allowed: text, impact, cause, handling"));
  auto not_string = f.call("POST", "/api/v1/incidents/1/note", f.op, R"({"text":5})");
  CHECK_THAT(f.error_of(not_string), Catch::Contains("field 'text' must be a string"));
  CHECK(f.call("POST", "/api/v1/incidents/1/note", f.op, "[1]").status == 400);
  CHECK(f.call("POST", "/api/v1/incidents/1/note", f.op, "{}").status == 400);  // a note needs its text
  auto bad_level = f.call("POST", "/api/v1/incidents", f.op, R"({"title":"x","level":"P7"})");
  CHECK(bad_level.status == 400);
  CHECK_THAT(f.error_of(bad_level), Catch::Contains("level 'P7'"));
  CHECK(f.call("POST", "/api/v1/incidents", f.op, R"({"level":"P1"})").status == 400);  // no title
  CHECK(f.call("GET", "/api/v1/incidents/9", f.viewer).status == 404);
  CHECK(f.call("POST", "/api/v1/incidents/9/ack", f.op, "{}").status == 404);
  CHECK(f.call("GET", "/api/v1/incidents/abc", f.viewer).status == 404);
  CHECK(f.call("POST", "/api/v1/incidents/1/reopen", f.op, "{}").status == 404);
  CHECK(f.call("GET", "/api/v1/incidents/1/ack", f.viewer).status == 405);
  CHECK(f.call("DELETE", "/api/v1/incidents", f.op).status == 405);
  auto closed_early = f.call("POST", "/api/v1/incidents/1/close", f.op, "{}");
  CHECK(closed_early.status == 409);
  CHECK_THAT(f.error_of(closed_early), Catch::Contains("INC-0001 is open"));
  CHECK(f.call("GET", "/api/v1/incidents", f.viewer, "", {{"state", "gone"}}).status == 400);
}

TEST_CASE("without alerting the incident endpoints say why they are unavailable") {
  ApiFixture f("incident-api", /*alerting=*/false);
  auto r = f.call("GET", "/api/v1/incidents", f.viewer);
  CHECK(r.status == 503);
  CHECK_THAT(f.error_of(r), Catch::Contains("alerts: section"));
}
