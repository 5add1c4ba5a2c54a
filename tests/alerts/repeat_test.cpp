// Reminders of firing alerts nobody acknowledged, with an injected clock: every
// repeat_interval while the alert fires, stopped by an acknowledgement of its incident, by
// recovery, and held back while the alert is muted.
#include <catch2/catch.hpp>

#include "memory_alert_store.hpp"
#include "xj/alerts/alert_pipeline.hpp"

using namespace xj;
using namespace xj::alerts;
using xj::alerts::test::MemoryAlertStore;

namespace {

constexpr std::int64_t kT0 = 1'760'000'000'000;
constexpr std::int64_t kMin = 60'000;

struct RepeatHarness {
  MemoryAlertStore store;
  std::int64_t now = kT0;
  std::unique_ptr<AlertPipeline> p;
  Subject web{"web-01", {}};

  explicit RepeatHarness(std::chrono::milliseconds every = std::chrono::minutes(30)) {
    AlertsConfig c;
    c.enabled = true;
    c.channels = {ChannelConfig{"ops", "wecom", "", "k", "", 20, {}}};
    c.rules.no_data_intervals = 1000;
    c.rules.for_warning = std::chrono::milliseconds(0);
    c.repeat_interval = every;
    c.incidents.warn_at = 0.999;  // keep deadline notices out of the way
    p = std::make_unique<AlertPipeline>(store, c, std::map<std::string, std::size_t>{}, [this] { return now; });
  }
  void result(const std::string& check, Status s) {
    Result r;
    r.check = check;
    r.kind = "process";
    r.status = s;
    r.summary = "x";
    r.ts_ms = now;
    p->on_results(web, {r});
  }
  void at(std::int64_t minutes) {
    now = kT0 + minutes * kMin;
    p->tick();
  }
  std::vector<std::string> sent() const {
    std::vector<std::string> out;
    for (const auto& m : store.outbox) {
      if (m.transition.rfind("respond", 0) != 0 && m.transition.rfind("repair", 0) != 0) out.push_back(m.transition);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("a firing alert nobody acknowledges is announced again every 30 minutes until it recovers") {
  RepeatHarness h;
  h.result("disk:/data", Status::kWarning);  // P4: no incident, nothing to acknowledge
  h.at(29);
  CHECK(h.sent() == std::vector<std::string>{"firing"});
  h.at(30);
  h.at(31);
  CHECK(h.sent() == std::vector<std::string>{"firing", "repeat1"});
  CHECK_THAT(h.store.outbox[1].text, Catch::Contains("（第 1 次提醒）"));
  CHECK_THAT(h.store.outbox[1].text, Catch::Contains("告警仍未恢复"));
  CHECK_THAT(h.store.outbox[1].idempotency_key, Catch::Contains("/repeat1/ops/"));
  h.at(95);  // a tick late: the reminder due at 90 goes out once, not 60 and 90 both
  CHECK(h.sent() == std::vector<std::string>{"firing", "repeat1", "repeat3"});
  h.now = kT0 + 100 * kMin;
  h.result("disk:/data", Status::kOk);
  h.at(200);
  CHECK(h.sent() == std::vector<std::string>{"firing", "repeat1", "repeat3", "resolved"});
}

TEST_CASE("acknowledging the incident stops the reminders of its alerts") {
  RepeatHarness h;
  h.result("proc:nginx", Status::kCritical);  // P1: an incident
  h.at(30);
  CHECK(h.sent() == std::vector<std::string>{"firing", "repeat1"});
  CHECK_THAT(h.store.outbox.back().text, Catch::Contains("INC-0001"));
  IncidentAction ack;
  ack.kind = ActionKind::kAcknowledge;
  ack.actor = "api:alice";
  REQUIRE(h.p->act(1, ack).ok());
  h.at(60);
  h.at(90);
  CHECK(h.sent() == std::vector<std::string>{"firing", "repeat1"});
}

TEST_CASE("a muted alert gets no reminders, and repeat_interval 0 turns reminders off") {
  RepeatHarness h;
  Silence s;
  s.matchers = {parse_matcher("host=web-01").value()};
  s.starts_ms = kT0;
  s.ends_ms = kT0 + 24 * 60 * kMin;
  REQUIRE(h.p->add_silence(s).ok());
  h.result("disk:/data", Status::kWarning);
  h.at(30);
  h.at(60);
  CHECK(h.sent() == std::vector<std::string>{"firing"});

  RepeatHarness off(std::chrono::milliseconds(0));
  off.result("disk:/data", Status::kWarning);
  off.at(600);
  CHECK(off.sent() == std::vector<std::string>{"firing"});
}

TEST_CASE("after a restart a reminder already enqueued is not enqueued again") {
  RepeatHarness h;
  h.result("disk:/data", Status::kWarning);
  h.at(30);
  AlertsConfig c;
  c.enabled = true;
  c.channels = {ChannelConfig{"ops", "wecom", "", "k", "", 20, {}}};
  c.rules.no_data_intervals = 1000;
  AlertPipeline after(h.store, c, {}, [&h] { return h.now; });
  after.restore();
  h.now = kT0 + 31 * kMin;
  after.tick();
  CHECK(h.sent() == std::vector<std::string>{"firing", "repeat1"});
}
