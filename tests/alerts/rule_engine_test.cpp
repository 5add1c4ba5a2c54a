// Rule semantics with an injected clock: every time below is exact, nothing sleeps.
#include <catch2/catch.hpp>

#include "notified.hpp"
#include "xj/alerts/rule_engine.hpp"

using namespace xj;
using namespace xj::alerts;
using xj::alerts::test::notified;

namespace {

constexpr std::int64_t kT0 = 1'760'000'000'000;  // some epoch ms
constexpr std::int64_t kS = 1000;

struct Harness {
  std::int64_t now = kT0;
  RuleEngine engine;
  Subject web{"web-01", {{"system", "区块链平台"}}};

  explicit Harness(RuleOptions o = {}) : engine(o, [this] { return now; }) {}

  // A result of `check` at clock time now (the check ran now).
  std::vector<AlertEvent> result(Status s, const std::string& check = "disk:/data") {
    Result r;
    r.check = check;
    r.kind = "disk";
    r.status = s;
    r.summary = std::string("disk is ") + std::string(to_string(s));
    r.ts_ms = now;
    return engine.on_result(web, r);
  }
  void advance(std::int64_t ms) { now += ms; }
};

}  // namespace

TEST_CASE("a critical result fires at once, since for defaults to 0 for critical") {
  Harness h;
  auto ev = notified(h.result(Status::kCritical));
  REQUIRE(ev.size() == 1);
  CHECK(*ev[0].transition == Transition::kFiring);
  CHECK(ev[0].alert.state == AlertState::kFiring);
  CHECK(ev[0].alert.severity == Status::kCritical);
  CHECK(ev[0].alert.since_ms == kT0);
  CHECK(ev[0].alert.host == "web-01");
}

TEST_CASE("a warning fires only after it held for 2 minutes") {
  Harness h;
  CHECK(notified(h.result(Status::kWarning)).empty());
  CHECK(h.engine.active().at(0).state == AlertState::kPending);
  h.advance(60 * kS);
  CHECK(notified(h.result(Status::kWarning)).empty());
  h.advance(59 * kS);
  CHECK(notified(h.result(Status::kWarning)).empty());
  h.advance(1 * kS);
  auto ev = notified(h.result(Status::kWarning));
  REQUIRE(ev.size() == 1);
  CHECK(*ev[0].transition == Transition::kFiring);
  CHECK(ev[0].alert.since_ms == kT0);  // "since when" is the first bad result
}

TEST_CASE("a warning that clears before its for sends nothing at all") {
  Harness h;
  h.result(Status::kWarning);
  h.advance(60 * kS);
  auto ev = h.result(Status::kOk);
  CHECK(notified(ev).empty());
  REQUIRE(ev.size() == 1);  // recorded as resolved, silently
  CHECK(ev[0].alert.state == AlertState::kResolved);
  CHECK(h.engine.active().empty());
}

TEST_CASE("a warning that turns critical fires at once") {
  Harness h;
  h.result(Status::kWarning);
  h.advance(30 * kS);
  auto ev = notified(h.result(Status::kCritical));
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].alert.severity == Status::kCritical);
  CHECK(ev[0].alert.since_ms == kT0);
}

TEST_CASE("host down fires at once by default") {
  Harness h;
  auto ev = notified(h.result(Status::kCritical, RuleEngine::kHostAliveCheck));
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].alert.check == "host:alive");
}

TEST_CASE("for is configurable per severity") {
  RuleOptions o;
  o.for_critical = std::chrono::seconds(30);
  Harness h(o);
  CHECK(notified(h.result(Status::kCritical)).empty());
  h.advance(30 * kS);
  CHECK(notified(h.result(Status::kCritical)).size() == 1);
}

TEST_CASE("a firing alert resolves on the first ok result when recover_for is 0, with its duration") {
  Harness h;
  h.result(Status::kCritical);
  h.advance(90 * kS);
  auto ev = notified(h.result(Status::kOk));
  REQUIRE(ev.size() == 1);
  CHECK(*ev[0].transition == Transition::kResolved);
  CHECK(ev[0].alert.resolved_ms - ev[0].alert.since_ms == 90 * kS);
  CHECK(h.engine.active().empty());
}

TEST_CASE("recover_for keeps the alert firing until the check stayed ok that long") {
  RuleOptions o;
  o.recover_for = std::chrono::seconds(60);
  Harness h(o);
  h.result(Status::kCritical);
  h.advance(10 * kS);
  CHECK(notified(h.result(Status::kOk)).empty());
  h.advance(30 * kS);
  // Bad again within the hysteresis: still the same alert, nothing new is sent.
  CHECK(notified(h.result(Status::kCritical)).empty());
  h.advance(10 * kS);
  CHECK(notified(h.result(Status::kOk)).empty());
  h.advance(59 * kS);
  CHECK(notified(h.result(Status::kOk)).empty());
  h.advance(1 * kS);
  auto ev = notified(h.result(Status::kOk));
  REQUIRE(ev.size() == 1);
  CHECK(*ev[0].transition == Transition::kResolved);
  // The problem lasted until the check came back for good, not until hysteresis agreed.
  CHECK(ev[0].alert.resolved_ms == kT0 + 50 * kS);
}

TEST_CASE("repeated bad results of a firing alert send nothing more") {
  Harness h;
  CHECK(notified(h.result(Status::kCritical)).size() == 1);
  for (int i = 0; i < 10; ++i) {
    h.advance(60 * kS);
    CHECK(notified(h.result(Status::kCritical)).empty());
  }
}

TEST_CASE("a retried or backfilled older result does not move the state") {
  Harness h;
  h.result(Status::kCritical);
  h.advance(60 * kS);
  h.result(Status::kOk);
  Result old;
  old.check = "disk:/data";
  old.status = Status::kCritical;
  old.ts_ms = kT0 + 30 * kS;
  CHECK(h.engine.on_result(h.web, old).empty());
  CHECK(h.engine.active().empty());
}

TEST_CASE("a check silent for 3 intervals is no data, and that never resolves its alert") {
  Harness h;
  h.result(Status::kCritical);
  h.advance(60 * kS);
  h.result(Status::kCritical);  // the interval is now known: 60 s
  h.advance(180 * kS);
  CHECK(h.engine.tick().empty());  // exactly 3 intervals: not yet
  h.advance(1 * kS);
  auto ev = h.engine.tick();
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].alert.kind == AlertKind::kNoData);
  CHECK(*ev[0].transition == Transition::kFiring);
  CHECK(h.engine.tick().empty());  // once
  // The status alert is still there: silence is not recovery.
  int status_firing = 0;
  for (const auto& a : h.engine.active()) {
    status_firing += a.kind == AlertKind::kStatus && a.state == AlertState::kFiring;
  }
  CHECK(status_firing == 1);
}

TEST_CASE("a result written early because its verdict changed does not shorten the interval "
          "no data waits for") {
  // The chain view writes once per round, and at once when its verdict changes: two results
  // 100 ms apart are not a 100 ms check.
  Harness h;
  h.result(Status::kOk);
  h.advance(60 * kS);
  h.result(Status::kOk);
  h.advance(100);
  h.result(Status::kWarning);
  h.advance(170 * kS);
  CHECK(h.engine.tick().empty());  // 3 of the 60 s intervals have not passed
  h.advance(11 * kS);
  auto ev = h.engine.tick();
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].alert.kind == AlertKind::kNoData);
}

TEST_CASE("a check whose interval was shortened is judged on the new interval after 4 results") {
  Harness h;
  h.result(Status::kOk);
  h.advance(60 * kS);
  h.result(Status::kOk);
  for (int i = 0; i < 3; ++i) {
    h.advance(10 * kS);
    h.result(Status::kOk);
  }
  h.advance(100 * kS);  // the 60 s gap is one of the last 4 still: 180 s
  CHECK(h.engine.tick().empty());
  h.result(Status::kOk);  // the gaps are now 10, 10, 10, 100 s
  h.advance(10 * kS);
  h.result(Status::kOk);  // 10, 10, 100, 10: still 300 s
  h.advance(10 * kS);
  h.result(Status::kOk);
  h.advance(10 * kS);
  h.result(Status::kOk);
  h.advance(10 * kS);
  h.result(Status::kOk);  // 10, 10, 10, 10
  h.advance(30 * kS);
  CHECK(h.engine.tick().empty());
  h.advance(1 * kS);
  auto ev = h.engine.tick();
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].alert.kind == AlertKind::kNoData);
}

TEST_CASE("data coming back resolves the no-data alert and the status is judged afresh") {
  Harness h;
  h.result(Status::kCritical);
  h.advance(60 * kS);
  h.result(Status::kCritical);
  h.advance(200 * kS);
  REQUIRE(h.engine.tick().size() == 1);
  h.advance(10 * kS);
  auto ev = notified(h.result(Status::kOk));
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].alert.kind == AlertKind::kNoData);
  CHECK(*ev[0].transition == Transition::kResolved);
  CHECK(ev[1].alert.kind == AlertKind::kStatus);
  CHECK(*ev[1].transition == Transition::kResolved);
}

TEST_CASE("checks of a host that is down raise no no-data alerts of their own") {
  Harness h;
  h.result(Status::kOk, "cpu");
  h.advance(60 * kS);
  h.result(Status::kOk, "cpu");
  h.result(Status::kCritical, RuleEngine::kHostAliveCheck);
  h.advance(600 * kS);
  CHECK(h.engine.tick().empty());
}

TEST_CASE("flapping makes one flapping alert instead of one message per change") {
  RuleOptions o;
  o.flap_changes = 4;
  o.flap_window = std::chrono::minutes(10);
  Harness h(o);
  int firing = 0, resolved = 0, flapping = 0;
  for (int i = 0; i < 20; ++i) {
    for (const auto& e : notified(h.result(i % 2 == 0 ? Status::kCritical : Status::kOk))) {
      if (e.alert.kind == AlertKind::kFlapping) flapping += *e.transition == Transition::kFiring;
      else if (*e.transition == Transition::kFiring) ++firing;
      else ++resolved;
    }
    h.advance(30 * kS);
  }
  CHECK(flapping == 1);
  // Only the changes before flapping was recognised were announced.
  CHECK(firing <= 2);
  CHECK(resolved <= 2);
}

TEST_CASE("a flapping alert resolves once the check stayed steady for a whole window") {
  RuleOptions o;
  o.flap_changes = 4;
  o.flap_window = std::chrono::minutes(10);
  Harness h(o);
  for (int i = 0; i < 6; ++i) {
    h.result(i % 2 == 0 ? Status::kCritical : Status::kOk);
    h.advance(30 * kS);
  }
  bool flap_resolved = false;
  for (int i = 0; i < 30 && !flap_resolved; ++i) {
    for (const auto& e : notified(h.result(Status::kOk))) {
      if (e.alert.kind == AlertKind::kFlapping && *e.transition == Transition::kResolved) flap_resolved = true;
    }
    h.advance(60 * kS);
  }
  CHECK(flap_resolved);
  for (const auto& a : h.engine.active()) CHECK(a.kind != AlertKind::kFlapping);
}

TEST_CASE("fingerprints are stable and differ by rule, host, check and labels") {
  const Labels l{{"system", "a"}};
  CHECK(fingerprint("status", "h", "c", l) == fingerprint("status", "h", "c", l));
  CHECK(fingerprint("status", "h", "c", l) != fingerprint("no_data", "h", "c", l));
  CHECK(fingerprint("status", "h", "c", l) != fingerprint("status", "h2", "c", l));
  CHECK(fingerprint("status", "h", "c", l) != fingerprint("status", "h", "c2", l));
  CHECK(fingerprint("status", "h", "c", l) != fingerprint("status", "h", "c", {{"system", "b"}}));
  CHECK(fingerprint("status", "ab", "c", {}) != fingerprint("status", "a", "bc", {}));
}

TEST_CASE("an alert restored after a restart is not announced again, and its recovery is sent") {
  Harness first;
  auto fired = notified(first.result(Status::kCritical));
  REQUIRE(fired.size() == 1);
  Harness second;
  second.now = first.now + 30 * kS;
  second.engine.restore({fired[0].alert});
  CHECK(notified(second.result(Status::kCritical)).empty());
  second.advance(30 * kS);
  auto ev = notified(second.result(Status::kOk));
  REQUIRE(ev.size() == 1);
  CHECK(*ev[0].transition == Transition::kResolved);
  CHECK(ev[0].alert.fingerprint == fired[0].alert.fingerprint);
}
