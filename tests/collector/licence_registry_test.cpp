// The licence registry against the built `xunjian-collector serve`: operators' licences over
// POST /api/v1/licences (and through the built xunjianctl), licences seen by licence checks,
// lifecycle events in the SM3 audit chain, and bad input answered with the field at fault.
#include <ctime>

#include "collector_process.hpp"
#include "xj/checks/result.hpp"

using namespace xj;
using namespace xj::test;
using nlohmann::json;

namespace {


// The Shanghai calendar day `days` from now (UTC+8 all year since 1991), "2026-12-11".
std::string shanghai_day(int days) {
  std::time_t t = static_cast<std::time_t>(now_epoch_ms() / 1000 + 8 * 3600 + days * 86400LL);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

// UTC ms of the end of a Shanghai day: the next local midnight.
std::int64_t end_of_shanghai_day(const std::string& day) {
  std::tm tm{};
  REQUIRE(strptime(day.c_str(), "%Y-%m-%d", &tm) != nullptr);
  return (static_cast<std::int64_t>(timegm(&tm)) + 86400 - 8 * 3600) * 1000;
}

struct Answer {
  int status = 0;
  json body;
};

struct Registry {
  TempDir dir;
  RunningCollector collector{dir.path()};
  std::string operator_token = collector.api_token("wang", "operator");

  Answer call(const std::string& method, const std::string& path, const json& body = nullptr,
              const std::string* token = nullptr) const {
    HttpClientRequest req;
    req.method = method;
    req.url = collector.url() + path;
    req.headers = {{"Authorization", "Bearer " + (token ? *token : operator_token)},
                   {"Content-Type", "application/json"}};
    if (!body.is_null()) req.body = body.dump();
    auto r = http_request(req);
    INFO(method << " " << path << ": " << (r ? r->body : r.error()));
    REQUIRE(r.ok());
    return Answer{r->status, json::parse(r->body, nullptr, false)};
  }
  Answer post(const std::string& path, const json& body) const { return call("POST", path, body); }
  Answer get(const std::string& path) const { return call("GET", path); }

  Run ctl(std::vector<std::string> args) {
    args.insert(args.begin(), XJ_CTL_BIN);
    return run(args, {"XJ_URL=" + collector.url(), "XJ_TOKEN=" + operator_token}, dir.path());
  }
};

json licence_result(const std::string& check, const std::string& product, std::int64_t expires_s,
                    std::int64_t seq) {
  return {{"seq", seq},
          {"check", check},
          {"kind", "licence"},
          {"status", "ok"},
          {"summary", "licence " + product},
          {"ts", now_epoch_ms()},
          {"metrics", json::array({{{"name", "days_left"}, {"value", 100}, {"unit", "d"}}})},
          {"details", {{"source", "/opt/app/license.json"}, {"expires_epoch_s", expires_s}, {"product", product}}}};
}

json web01(std::vector<json> results) {
  return {{"agent", {{"id", "web-01"}, {"hostname", "web-01"}, {"version", "0.1.0"}}}, {"results", results}};
}

}  // namespace

TEST_CASE("an operator's licence goes through 申请, 激活, 续期 and 注销, each an event and an audit entry",
          "[licences]") {
  Registry r;
  const std::string first = shanghai_day(40), later = shanghai_day(400);
  Answer added = r.post("/api/v1/licences", {{"product", "区块链存证平台 BaaS"},
                                             {"holder", "某市市场监督管理局"},
                                             {"host", "web-01"},
                                             {"expiry", first},
                                             {"contract", "HT-2026-017"},
                                             {"state", "applied"}});
  REQUIRE(added.status == 201);
  const json& l = added.body["licence"];
  const std::int64_t id = l["id"];
  CHECK(l["state"] == "applied");
  CHECK(l["source"] == "operator");
  CHECK(l["valid_until"] == first);
  CHECK(l["expiry"] == end_of_shanghai_day(first));
  CHECK(l["days_left"].get<double>() > 39);
  CHECK(l["days_left"].get<double>() <= 41);

  const std::string base = "/api/v1/licences/" + std::to_string(id);
  CHECK(r.post(base + "/activate", json::object()).status == 200);
  Answer renewed = r.post(base + "/renew", {{"expiry", later}, {"contract", "HT-2027-003"}, {"note", "续签一年"}});
  REQUIRE(renewed.status == 200);
  CHECK(renewed.body["licence"]["valid_until"] == later);
  CHECK(renewed.body["licence"]["contract"] == "HT-2027-003");
  Answer revoked = r.post(base + "/revoke", {{"note", "系统下线"}});
  REQUIRE(revoked.status == 200);
  CHECK(revoked.body["licence"]["state"] == "revoked");

  Answer shown = r.get(base);
  REQUIRE(shown.status == 200);
  const json& events = shown.body["events"];
  REQUIRE(events.size() == 4);
  const char* kinds[] = {"applied", "activated", "renewed", "revoked"};
  const char* zh[] = {"申请", "激活", "续期", "注销"};
  for (int i = 0; i < 4; ++i) {
    CHECK(events[i]["event"] == kinds[i]);
    CHECK(events[i]["event_zh"] == zh[i]);
    CHECK(events[i]["actor"] == "api:wang");
    CHECK(events[i]["audit_id"].get<std::int64_t>() > 0);
  }
  CHECK(events[2]["detail"]["from_expiry"] == end_of_shanghai_day(first));
  CHECK(events[2]["detail"]["expiry"] == end_of_shanghai_day(later));
  CHECK(events[2]["detail"]["note"] == "续签一年");

  // The same four in the SM3-chained audit log, which still verifies.
  Run list = r.collector.cli({"audit", "list"});
  REQUIRE(list.code == 0);
  for (const char* action : {"licence.applied", "licence.activated", "licence.renewed", "licence.revoked"}) {
    CHECK(list.out.find(std::string("api:wang  ") + action + "  licence:" + std::to_string(id)) != std::string::npos);
  }
  CHECK(list.out.find("\"event_zh\":\"续期\"") != std::string::npos);
  Run verify = r.collector.cli({"audit", "verify"});
  CHECK(verify.code == 0);
  CHECK(verify.out.find("audit log intact") != std::string::npos);
}

TEST_CASE("GET /api/v1/licences lists licences by days left, revoked ones last", "[licences]") {
  Registry r;
  auto add = [&](const std::string& product, int days) {
    Answer a = r.post("/api/v1/licences", {{"product", product}, {"holder", "h"}, {"expiry", shanghai_day(days)}});
    REQUIRE(a.status == 201);
    return a.body["licence"]["id"].get<std::int64_t>();
  };
  add("far", 300);
  const auto gone = add("gone", 1);
  add("soon", 5);
  add("expired", -3);
  REQUIRE(r.post("/api/v1/licences/" + std::to_string(gone) + "/revoke", json::object()).status == 200);
  // A viewer may read.
  const std::string viewer = r.collector.viewer_token();
  Answer list = r.call("GET", "/api/v1/licences", nullptr, &viewer);
  REQUIRE(list.status == 200);
  std::vector<std::string> order;
  for (const auto& l : list.body["licences"]) order.push_back(l["product"]);
  CHECK(order == std::vector<std::string>{"expired", "soon", "far", "gone"});
  CHECK(list.body["licences"][0]["days_left"].get<double>() < 0);
}

TEST_CASE("bad licence input is refused with 400 naming the field, and so are a wrong role, id or state too", "[licences]") {
  Registry r;
  const json good = {{"product", "p"}, {"holder", "h"}, {"expiry", shanghai_day(30)}};
  struct Case {
    json body;
    std::string expected;
  };
  std::vector<Case> cases = {
      {{{"holder", "h"}, {"expiry", "2027-01-01"}}, "field 'product': is required"},
      {{{"product", ""}, {"holder", "h"}, {"expiry", "2027-01-01"}}, "field 'product': must not be empty"},
      {{{"product", "p"}, {"holder", 7}, {"expiry", "2027-01-01"}}, "field 'holder': must be a string"},
      {{{"product", "p"}, {"holder", "h"}}, "field 'expiry': is required"},
      {{{"product", "p"}, {"holder", "h"}, {"expiry", "2027-02-30"}}, "field 'expiry': '2027-02-30' is not a calendar date"},
      {{{"product", "p"}, {"holder", "h"}, {"expiry", "next year"}}, "field 'expiry': 'next year' is not a date like 2026-10-31"},
      {{{"product", "p"}, {"holder", "h"}, {"expiry", "2027-01-01"}, {"state", "revoked"}}, "field 'state'"},
      {{{"product", "p"}, {"holder", "h"}, {"expiry", "2027-01-01"}, {"expires", "x"}}, "field 'expires': unknown field"},
      {{{"product", std::string(300, 'x')}, {"holder", "h"}, {"expiry", "2027-01-01"}}, "field 'product': longer than 200 bytes"},
  };
  for (const auto& c : cases) {
    Answer a = r.post("/api/v1/licences", c.body);
    INFO(c.body.dump() << " -> " << a.body.dump());
    CHECK(a.status == 400);
    CHECK(a.body.value("error", "").find(c.expected) != std::string::npos);
  }
  HttpClientRequest raw;
  raw.method = "POST";
  raw.url = r.collector.url() + "/api/v1/licences";
  raw.headers = {{"Authorization", "Bearer " + r.operator_token}};
  raw.body = "{not json";
  auto not_json = http_request(raw);
  REQUIRE(not_json.ok());
  CHECK(not_json->status == 400);

  Answer added = r.post("/api/v1/licences", good);
  REQUIRE(added.status == 201);
  const std::string base = "/api/v1/licences/" + std::to_string(added.body["licence"]["id"].get<std::int64_t>());
  Answer earlier = r.post(base + "/renew", {{"expiry", shanghai_day(10)}});
  CHECK(earlier.status == 400);
  CHECK(earlier.body["error"].get<std::string>().find("field 'expiry': the new expiry must be later") == 0);
  Answer no_expiry = r.post(base + "/renew", json::object());
  CHECK(no_expiry.status == 400);
  CHECK(no_expiry.body["error"].get<std::string>().find("field 'expiry'") == 0);
  CHECK(r.post(base + "/activate", json::object()).status == 409);  // already active
  CHECK(r.post(base + "/revoke", json::object()).status == 200);
  Answer again = r.post(base + "/revoke", json::object());
  CHECK(again.status == 409);
  CHECK(again.body["error"].get<std::string>().find("is revoked") != std::string::npos);
  CHECK(r.post("/api/v1/licences/999/renew", {{"expiry", "2030-01-01"}}).status == 404);
  CHECK(r.post(base + "/extend", json::object()).status == 404);

  // A viewer reads but may not change; an agent token may do neither.
  const std::string viewer = r.collector.viewer_token(), agent = r.collector.agent_token();
  CHECK(r.call("POST", "/api/v1/licences", good, &viewer).status == 403);
  CHECK(r.call("GET", "/api/v1/licences", nullptr, &agent).status == 403);
  CHECK(r.get("/api/v1/licences").body["licences"].size() == 1);  // nothing half-stored
}

TEST_CASE("licence check results fill the registry, and a later expiry on the box is a renewal", "[licences]") {
  Registry r;
  const std::int64_t expires = now_epoch_ms() / 1000 + 90 * 86400;
  REQUIRE(r.collector.ingest(web01({licence_result("licence:app", "达梦数据库 DM8", expires, 1)}),
                             r.collector.agent_token()) == 200);
  // The same licence again: nothing new.
  REQUIRE(r.collector.ingest(web01({licence_result("licence:app", "达梦数据库 DM8", expires, 2)}),
                             r.collector.agent_token()) == 200);
  Answer list = r.get("/api/v1/licences");
  REQUIRE(list.body["licences"].size() == 1);
  const json l = list.body["licences"][0];
  CHECK(l["source"] == "check");
  CHECK(l["check"] == "licence:app");
  CHECK(l["host"] == "web-01");
  CHECK(l["product"] == "达梦数据库 DM8");
  CHECK(l["expiry"] == expires * 1000);
  CHECK(l["state"] == "active");

  // The file on the box was replaced with a licence valid a year longer.
  const std::int64_t renewed = expires + 365 * 86400;
  REQUIRE(r.collector.ingest(web01({licence_result("licence:app", "达梦数据库 DM8", renewed, 3)}),
                             r.collector.agent_token()) == 200);
  Answer shown = r.get("/api/v1/licences/" + std::to_string(l["id"].get<std::int64_t>()));
  const json& events = shown.body["events"];
  REQUIRE(events.size() == 2);
  CHECK(events[0]["event"] == "seen");
  CHECK(events[0]["actor"] == "agent:web-01");
  CHECK(events[1]["event"] == "renewed");
  CHECK(events[1]["event_zh"] == "续期");
  CHECK(events[1]["detail"]["from_expiry"] == expires * 1000);
  CHECK(shown.body["expiry"] == renewed * 1000);
  CHECK(shown.body["days_left"].get<double>() > 454);
  CHECK(r.collector.cli({"audit", "list"}).out.find("agent:web-01  licence.renewed") != std::string::npos);
}

TEST_CASE("xunjianctl licence add, list, renew, revoke and show drive the registry", "[licences][xunjianctl]") {
  Registry r;
  const std::string day = shanghai_day(20), next = shanghai_day(385);
  Run add = r.ctl({"licence", "add", "--product", "金仓数据库 KES", "--holder", "某市大数据中心", "--expiry", day,
                   "--host", "db-02", "--contract", "HT-9"});
  INFO(add.err);
  REQUIRE(add.code == 0);
  CHECK(add.out.find("金仓数据库 KES") != std::string::npos);
  CHECK(add.out.find("ACTIVE") != std::string::npos);

  Run list = r.ctl({"licence", "list"});
  REQUIRE(list.code == 0);
  CHECK(list.out.rfind("ID  DAYS LEFT  VALID UNTIL", 0) == 0);
  CHECK(list.out.find(day) != std::string::npos);
  CHECK(list.out.find("某市大数据中心") != std::string::npos);

  Run renew = r.ctl({"licence", "renew", "1", "--expiry", next, "--note", "续签"});
  INFO(renew.err);
  REQUIRE(renew.code == 0);
  CHECK(renew.out.find(next) != std::string::npos);
  Run revoke = r.ctl({"licence", "revoke", "1", "--note", "停用"});
  REQUIRE(revoke.code == 0);
  CHECK(revoke.out.find("REVOKED") != std::string::npos);

  Run show = r.ctl({"licence", "show", "1"});
  REQUIRE(show.code == 0);
  for (const char* e : {"激活 activated", "续期 renewed", "注销 revoked"}) {
    CHECK(show.out.find(e) != std::string::npos);
  }
  CHECK(show.out.find("note=续签") != std::string::npos);

  Run json_out = r.ctl({"licence", "list", "--json"});
  REQUIRE(json_out.code == 0);
  CHECK(json::parse(json_out.out)["licences"][0]["state"] == "revoked");

  // The collector's refusal reaches the operator with the field named; a bad id is usage.
  Run bad = r.ctl({"licence", "renew", "1", "--expiry", "2027-13-01"});
  CHECK(bad.code == 1);
  CHECK(bad.err.find("field 'expiry'") != std::string::npos);
  CHECK(r.ctl({"licence", "revoke", "abc"}).code == 2);
}
