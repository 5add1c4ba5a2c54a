// Escalation with an injected clock: level 1 is the route itself, each further level is
// enqueued when its delay since firing has passed with nobody acknowledging; an acknowledged
// incident stops the levels; a restart neither sends a level twice nor skips it; the levels
// appear in the incident's timeline.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <ctime>

#include "memory_alert_store.hpp"
#include "xj/alerts/alert_pipeline.hpp"

using namespace xj;
using namespace xj::alerts;
using xj::alerts::test::MemoryAlertStore;

namespace {

constexpr std::int64_t kT0 = 1'796'054'400'000 + 22 * 3'600'000;  // 2026-12-01 22:00 +08:00
constexpr std::int64_t kMin = 60'000;

AlertsConfig escalating() {
  ::setenv("TZ", "Asia/Shanghai", 1);
  ::tzset();
  AlertsConfig c;
  c.enabled = true;
  c.channels = {ChannelConfig{"ops", "wecom", "", "k", "", 20, {}},
                ChannelConfig{"sms", "sms_http", "http://127.0.0.1:1/", "", "", 0, {}}};
  c.people = {{"zhang", Person{"zhang", "张三", "13800000001", "", ""}},
              {"pm", Person{"pm", "项目经理", "13800000009", "", ""}}};
  c.duty.rotation = {"zhang"};
  c.duty.start = "2026-11-30";
  Route r;
  r.name = "routes[0]";
  r.channels = {"ops"};
  r.escalate = {EscalationLevel{std::chrono::minutes(10), Target{{"sms"}, {kOnDuty}}},
                EscalationLevel{std::chrono::minutes(30), Target{{"sms"}, {"pm"}}}};
  c.routes = {r};
  c.rules.no_data_intervals = 1000;
  c.repeat_interval = std::chrono::milliseconds(0);  // reminders are repeat_test's business
  c.incidents.warn_at = 0.999;
  return c;
}

struct Harness {
  MemoryAlertStore store;
  std::int64_t now = kT0;
  std::unique_ptr<AlertPipeline> p;
  Harness() { restart(); }
  void restart() {
    p = std::make_unique<AlertPipeline>(store, escalating(), std::map<std::string, std::size_t>{},
                                        [this] { return now; });
    p->restore();
  }
  void result(Status s) {
    Result r;
    r.check = "proc:nginx";
    r.kind = "process";
    r.status = s;
    r.summary = "x";
    r.ts_ms = now;
    p->on_results(Subject{"web-01", {}}, {r});
  }
  void at(std::int64_t minutes) {
    now = kT0 + minutes * kMin;
    p->tick();
  }
  // "transition channel>recipient" of the alert's messages (incident notices left out).
  std::vector<std::string> sent() const {
    std::vector<std::string> out;
    for (const auto& m : store.outbox) {
      if (m.transition.rfind("respond", 0) == 0 || m.transition.rfind("repair", 0) == 0) continue;
      out.push_back(m.transition + " " + m.channel + ">" + m.recipient);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("nobody acknowledges: level 2 after 10 minutes, level 3 after 30, each once") {
  Harness h;
  h.result(Status::kCritical);
  h.at(9);
  CHECK(h.sent() == std::vector<std::string>{"firing ops>"});
  h.at(10);
  h.at(11);
  CHECK(h.sent() == std::vector<std::string>{"firing ops>", "escalate2 sms>13800000001"});
  const auto& l2 = h.store.outbox.back();
  CHECK_THAT(l2.text, Catch::Contains("（升级至第 2 级") &&
                          Catch::Contains("10m 无人确认"));
  CHECK_THAT(l2.idempotency_key, Catch::EndsWith("/escalate2/sms/13800000001#1"));
  h.at(45);
  CHECK(h.sent() == std::vector<std::string>{"firing ops>", "escalate2 sms>13800000001",
                                             "escalate3 sms>13800000009"});
  // The incident's timeline shows both levels.
  int escalated = 0;
  for (const auto& e : h.store.timeline_rows) escalated += e.kind == "escalated";
  CHECK(escalated == 2);
  // Recovery goes to level 1 as usual, and no further level after it.
  h.now = kT0 + 50 * kMin;
  h.result(Status::kOk);
  h.at(120);
  CHECK(h.sent().back() == "resolved ops>");
  CHECK(h.sent().size() == 4);
}

TEST_CASE("acknowledging the incident before a level stops it and every later one") {
  Harness h;
  h.result(Status::kCritical);
  h.at(12);
  IncidentAction ack;
  ack.kind = ActionKind::kAcknowledge;
  ack.actor = "api:zhang";
  REQUIRE(h.p->act(1, ack).ok());
  h.at(31);
  h.at(90);
  CHECK(h.sent() == std::vector<std::string>{"firing ops>", "escalate2 sms>13800000001"});

  Harness early;
  early.result(Status::kCritical);
  early.at(1);
  REQUIRE(early.p->act(1, ack).ok());
  early.at(40);
  CHECK(early.sent() == std::vector<std::string>{"firing ops>"});
}

TEST_CASE("a restart neither repeats an escalation level already enqueued nor skips a due one") {
  Harness h;
  h.result(Status::kCritical);
  h.at(10);
  REQUIRE(h.sent().size() == 2);
  const std::size_t lines = h.store.timeline_rows.size();
  h.restart();
  h.at(11);
  CHECK(h.sent() == std::vector<std::string>{"firing ops>", "escalate2 sms>13800000001"});
  CHECK(h.store.timeline_rows.size() == lines);
  // The collector was down across level 3's due time: sent at the first tick after restart.
  h.now = kT0 + 50 * kMin;
  h.restart();
  h.at(50);
  CHECK(h.sent().back() == "escalate3 sms>13800000009");
  CHECK(h.sent().size() == 3);
}

TEST_CASE("a muted alert is not escalated while the silence lasts") {
  Harness h;
  Silence s;
  s.matchers = {parse_matcher("host=web-01").value()};
  s.starts_ms = kT0;
  s.ends_ms = kT0 + 60 * kMin;
  REQUIRE(h.p->add_silence(s).ok());
  h.result(Status::kCritical);
  h.at(40);
  REQUIRE(h.sent() == std::vector<std::string>{"firing ops>"});  // stored, suppressed
  CHECK(h.store.outbox.front().status == DeliveryStatus::kSuppressed);
}
