// The silence endpoints as the HTTP server calls them (the Api object, no socket): what they
// accept, the errors naming the cause, roles, and the audit entries.
#include "api_fixture.hpp"

using namespace xj;
using json = nlohmann::json;
using xj::test::ApiFixture;

TEST_CASE("an operator adds a silence and a weekly maintenance window and ends the silence, each audited") {
  ApiFixture f("silence-api");
  auto s = f.call("POST", "/api/v1/silences", f.op, R"({"matchers":["host=db-01"],"duration":"2h","comment":"升级"})");
  REQUIRE(s.status == 200);
  auto sj = json::parse(s.body)["silence"];
  CHECK(sj["label"] == "S-1");
  CHECK(sj["active"] == true);
  CHECK(sj["author"] == "api:zhangsan");
  CHECK(sj["ends"].get<std::int64_t>() - sj["starts"].get<std::int64_t>() == 7'200'000);
  auto w = f.call("POST", "/api/v1/silences", f.op,
                  R"({"matchers":["system=平台"],"maintenance":true,"days":"sat,sun","time":"22:00-02:00","holidays":"skip","comment":"周末补丁"})");
  REQUIRE(w.status == 200);
  auto wj = json::parse(w.body)["silence"];
  CHECK(wj["label"] == "M-2");
  CHECK(wj["days"] == "sat,sun");
  CHECK(wj["time"] == "22:00-02:00");
  CHECK(wj["holidays"] == "skip");
  auto list = json::parse(f.call("GET", "/api/v1/silences", f.viewer).body)["silences"];
  CHECK(list.size() == 2);
  CHECK(json::parse(f.call("GET", "/api/v1/silences", f.viewer, "", {{"maintenance", "1"}}).body)["silences"].size() == 1);
  REQUIRE(f.call("POST", "/api/v1/silences/S-1/expire", f.op, "{}").status == 200);
  CHECK(json::parse(f.call("GET", "/api/v1/silences", f.viewer, "", {{"maintenance", "0"}, {"active", "1"}}).body)["silences"].empty());
  CHECK(f.call("POST", "/api/v1/silences/1/expire", f.op, "{}").status == 409);
  std::vector<std::string> actions;
  for (const auto& e : f.store->audit_entries(0, 100)) {
    if (e.action.find("silence") != std::string::npos || e.action.find("maintenance") != std::string::npos) {
      actions.push_back(e.action + " " + e.object);
    }
  }
  CHECK(actions == std::vector<std::string>{"silence.add silence:S-1", "maintenance.add silence:M-2", "silence.expire silence:S-1"});
  // Restored from the store by a new pipeline, as after a collector restart.
  alerts::AlertsConfig cfg;
  alerts::AlertPipeline after(*f.alert_store, cfg, {}, [] { return now_epoch_ms(); });
  after.restore();
  REQUIRE(after.silences().size() == 2);
  CHECK(after.silences()[0].recurrence->days == std::set<int>{6, 7});
  CHECK(after.silences()[1].ended_ms != 0);
}

TEST_CASE("a silence request that cannot be understood is refused naming the cause") {
  ApiFixture f("silence-api");
  auto post = [&](const std::string& body) { return f.call("POST", "/api/v1/silences", f.op, body); };
  CHECK_THAT(f.error_of(post(R"({"matchers":[],"duration":"1h","comment":"x"})")), Catch::Contains("'matchers' must be a non-empty list"));
  CHECK_THAT(f.error_of(post(R"({"matchers":["host"],"duration":"1h","comment":"x"})")), Catch::Contains("matcher 'host' has no name and operator"));
  CHECK_THAT(f.error_of(post(R"({"matchers":["host=a"],"duration":"1h"})")), Catch::Contains("'comment' is required"));
  CHECK_THAT(f.error_of(post(R"({"matchers":["host=a"],"duration":"soon","comment":"x"})")), Catch::Contains("'duration' 'soon'"));
  CHECK_THAT(f.error_of(post(R"({"matchers":["host=a"],"comment":"x"})")), Catch::Contains("needs its start and end"));
  CHECK_THAT(f.error_of(post(R"({"matchers":["host=a"],"time":"25:00-26:00","comment":"x"})")), Catch::Contains("time range '25:00-26:00'"));
  CHECK_THAT(f.error_of(post(R"({"matchers":["host=a"],"days":"mon","comment":"x","duration":"1h"})")), Catch::Contains("need 'time'"));
  CHECK_THAT(f.error_of(post(R"({"matchers":["host=a"],"duration":"1h","comment":"x","who":"me"})")), Catch::Contains("unknown field 'who'"));
  CHECK(post("not json").status == 400);
  CHECK(f.call("POST", "/api/v1/silences", f.viewer, R"({"matchers":["host=a"],"duration":"1h","comment":"x"})").status == 403);
  CHECK(f.call("POST", "/api/v1/silences/9/expire", f.op, "{}").status == 404);
  CHECK(f.call("POST", "/api/v1/silences/abc", f.op, "{}").status == 404);
  CHECK(f.call("GET", "/api/v1/silences/1/expire", f.op).status == 405);
}
