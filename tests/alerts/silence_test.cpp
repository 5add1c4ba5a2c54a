// Silences and maintenance windows with an injected clock: matchers, one-off and weekly
// windows in the contract's local time, the holiday calendar, and what the pipeline does with
// a muted alert (recorded, its messages suppressed, no incident in maintenance, released when
// the silence ends while it still fires, never a lone recovery).
#include <catch2/catch.hpp>
#include <cstdlib>
#include <ctime>

#include "memory_alert_store.hpp"
#include "xj/alerts/alert_pipeline.hpp"

using namespace xj;
using namespace xj::alerts;
using xj::alerts::test::MemoryAlertStore;

namespace {

// 2026-12-07 is a Monday; 10:00 in Shanghai (UTC+8) is 02:00 UTC.
constexpr std::int64_t kMonday10 = 1'796'608'800'000;
constexpr std::int64_t kMin = 60'000;
constexpr std::int64_t kHour = 60 * kMin;
constexpr std::int64_t kDay = 24 * kHour;

void contract_zone() {
  ::setenv("TZ", "Asia/Shanghai", 1);
  ::tzset();
}

Matcher matcher(const std::string& text) { return parse_matcher(text).value(); }

Alert alert(const std::string& host, const std::string& check) {
  Alert a;
  a.host = host;
  a.check = check;
  a.rule = "status";
  a.severity = Status::kCritical;
  a.labels = {{"system", "区块链平台"}, {"role", "db"}};
  return a;
}

Silence one_off(std::vector<std::string> matchers, std::int64_t from, std::int64_t to) {
  Silence s;
  for (const auto& m : matchers) s.matchers.push_back(matcher(m));
  s.starts_ms = from;
  s.ends_ms = to;
  s.author = "api:zhangsan";
  s.comment = "升级数据库";
  return s;
}

Result result(const std::string& check, Status st, std::int64_t ts) {
  Result r;
  r.check = check;
  r.kind = "process";
  r.status = st;
  r.summary = "no process";
  r.ts_ms = ts;
  return r;
}

struct Harness {
  MemoryAlertStore store;
  std::int64_t now = kMonday10;
  std::unique_ptr<AlertPipeline> p;
  Subject db{"db-01", {{"system", "区块链平台"}, {"role", "db"}}};

  Harness() {
    contract_zone();
    AlertsConfig c;
    c.enabled = true;
    c.channels = {ChannelConfig{"ops", "wecom", "", "k", "", 20, {}}};
    c.rules.no_data_intervals = 1000;
    c.holidays = {"2026-12-08"};
    p = std::make_unique<AlertPipeline>(store, c, std::map<std::string, std::size_t>{}, [this] { return now; });
  }
  void result(const std::string& check, Status s) { p->on_results(db, {::result(check, s, now)}); }
  // The alerts' messages; incident notices (deadlines) are not muted by a silence of the alert
  // and are left out here.
  std::vector<std::string> states() const {
    std::vector<std::string> out;
    for (const auto& m : store.outbox) {
      if (m.transition != "firing" && m.transition != "resolved") continue;
      out.push_back(m.transition + ":" + std::string(to_string(m.status)));
    }
    return out;
  }
};

}  // namespace

TEST_CASE("matchers compare host, check, rule, severity and labels, exactly or by a whole-value regex") {
  const Alert a = alert("db-01", "proc:postgres");
  CHECK(matcher("host=db-01").matches(a));
  CHECK_FALSE(matcher("host=db-0").matches(a));
  CHECK(matcher("host!=web-01").matches(a));
  CHECK(matcher("check=~proc:.*").matches(a));
  CHECK_FALSE(matcher("check=~proc").matches(a));  // the whole value, not a part
  CHECK(matcher("check!~disk:.*").matches(a));
  CHECK(matcher("severity=critical").matches(a));
  CHECK(matcher("rule=status").matches(a));
  CHECK(matcher("system=区块链平台").matches(a));
  CHECK_FALSE(matcher("dc=bj").matches(a));  // a label the host does not have is ""
  CHECK(matcher("dc=").matches(a));
}

TEST_CASE("a bad matcher is refused naming the text and what is wrong") {
  CHECK_THAT(parse_matcher("db-01").error(), Catch::Contains("matcher 'db-01' has no name and operator"));
  CHECK_THAT(parse_matcher("=x").error(), Catch::Contains("has no name"));
  CHECK_THAT(parse_matcher("host!x").error(), Catch::Contains("'!' must be followed by = or ~"));
  CHECK_THAT(parse_matcher("check=~proc:(").error(), Catch::Contains("bad regular expression"));
  CHECK_THAT(parse_matcher("a b=c").error(), Catch::Contains("'a b' is not a field or label name"));
}

TEST_CASE("a one-off silence is active from its start until its end or until it is ended early") {
  const Silence s = one_off({"host=db-01"}, kMonday10, kMonday10 + kHour);
  CHECK_FALSE(s.active_at(kMonday10 - 1, {}));
  CHECK(s.active_at(kMonday10, {}));
  CHECK(s.active_at(kMonday10 + kHour - 1, {}));
  CHECK_FALSE(s.active_at(kMonday10 + kHour, {}));
  Silence ended = s;
  ended.ended_ms = kMonday10 + 10 * kMin;
  CHECK_FALSE(ended.active_at(kMonday10 + 10 * kMin, {}));
  Silence none;  // no matcher: matches nothing rather than everything
  CHECK_FALSE(none.matches(alert("db-01", "x")));
}

TEST_CASE("a weekly window runs on its days in local time, past midnight into the next day") {
  contract_zone();
  Silence w = one_off({"host=db-01"}, 0, 0);
  w.maintenance = true;
  w.recurrence = Recurrence{parse_days("sat,sun").value(), 22 * 60, 2 * 60, HolidayRule::kAny};
  const std::int64_t sat = kMonday10 + 5 * kDay;  // Saturday 10:00 local
  CHECK_FALSE(w.active_at(sat, {}));
  CHECK(w.active_at(sat + 12 * kHour, {}));               // Saturday 22:00
  CHECK(w.active_at(sat + 15 * kHour + 59 * kMin, {}));   // Sunday 01:59
  CHECK_FALSE(w.active_at(sat + 16 * kHour, {}));         // Sunday 02:00
  CHECK(w.active_at(sat + 2 * kDay - 8 * kHour - kMin, {}));  // Monday 01:59: begun on Sunday
  CHECK_FALSE(w.active_at(sat + 2 * kDay + 12 * kHour, {}));  // Monday 22:00: not a window day
  CHECK(parse_days("mon-fri").value() == std::set<int>{1, 2, 3, 4, 5});
  CHECK(parse_days("sat-mon").value() == std::set<int>{6, 7, 1});
  CHECK_THAT(parse_days("mon,funday").error(), Catch::Contains("'funday' is not mon"));
  CHECK_THAT(parse_time_range("2am-4am").error(), Catch::Contains("is not like 02:00-04:00"));
  CHECK(time_range_text(22 * 60, 2 * 60) == "22:00-02:00");
}

TEST_CASE("the holiday calendar can keep a weekly window off holidays or limit it to them") {
  contract_zone();
  const std::set<std::string> holidays{"2026-12-08"};  // the Tuesday
  Silence w = one_off({"host=db-01"}, 0, 0);
  w.recurrence = Recurrence{parse_days("daily").value(), 2 * 60, 4 * 60, HolidayRule::kSkip};
  const std::int64_t tue3 = kMonday10 + kDay - 7 * kHour;  // Tuesday 03:00 local
  CHECK(local_date(tue3) == "2026-12-08");
  CHECK_FALSE(w.active_at(tue3, holidays));
  CHECK(w.active_at(tue3 + kDay, holidays));
  w.recurrence->holidays = HolidayRule::kOnly;
  CHECK(w.active_at(tue3, holidays));
  CHECK_FALSE(w.active_at(tue3 + kDay, holidays));
}

TEST_CASE("a silenced alert is recorded and its message kept as suppressed, not sent") {
  Harness h;
  REQUIRE(h.p->add_silence(one_off({"host=db-01"}, h.now, h.now + kHour)).ok());
  CHECK(h.p->on_results(h.db, {result("proc:postgres", Status::kCritical, h.now)}) == 0);
  REQUIRE(h.store.alerts.size() == 1);
  CHECK(h.store.alerts.begin()->second.state == AlertState::kFiring);  // recorded
  CHECK(h.states() == std::vector<std::string>{"firing:suppressed"});
  CHECK_THAT(h.store.outbox[0].last_error, Catch::Contains("muted by S-1"));
  CHECK(h.store.due_messages(h.now + kDay).empty());  // never sent
  // A silence is not maintenance: the fault still opens its incident.
  CHECK(h.store.incident_rows.size() == 1);
  // Other hosts are not muted.
  h.p->on_results({"web-01", {}}, {result("proc:nginx", Status::kCritical, h.now)});
  CHECK(h.states().back() == "firing:pending");
}

TEST_CASE("a recovery during the silence is suppressed too, and so is a recovery after it whose alert was never sent") {
  Harness h;
  REQUIRE(h.p->add_silence(one_off({"check=proc:postgres"}, h.now, h.now + kHour)).ok());
  h.result("proc:postgres", Status::kCritical);
  h.now += 10 * kMin;
  h.result("proc:postgres", Status::kOk);
  CHECK(h.states() == std::vector<std::string>{"firing:suppressed", "resolved:suppressed"});
  h.now += 10 * kMin;
  h.result("proc:postgres", Status::kCritical);  // a new episode, still muted
  auto ended = h.p->end_silence(1);
  REQUIRE(ended.ok());
  h.now += kMin;
  h.result("proc:postgres", Status::kOk);  // before any tick released the firing message
  CHECK(h.states() == std::vector<std::string>{"firing:suppressed", "resolved:suppressed", "firing:suppressed",
                                               "resolved:suppressed"});
}

TEST_CASE("a silence that ends while its alert still fires releases the alert's message, then the recovery is sent") {
  Harness h;
  REQUIRE(h.p->add_silence(one_off({"host=db-01"}, h.now, h.now + 30 * kMin)).ok());
  h.result("proc:postgres", Status::kCritical);
  h.now += 29 * kMin;
  h.p->tick();
  CHECK(h.states() == std::vector<std::string>{"firing:suppressed"});
  h.now += kMin;  // the silence is over
  h.p->tick();
  CHECK(h.states() == std::vector<std::string>{"firing:pending"});
  CHECK(h.store.due_messages(h.now).at(0).transition == "firing");  // the oldest row: first out
  h.p->tick();
  CHECK(h.states().size() == 1);  // released once
  h.now += kMin;
  h.result("proc:postgres", Status::kOk);
  CHECK(h.states() == std::vector<std::string>{"firing:pending", "resolved:pending"});
}

TEST_CASE("an alert during a maintenance window opens no incident, and ending a silence early takes effect at once") {
  Harness h;
  Silence m = one_off({"system=区块链平台"}, h.now, h.now + 2 * kHour);
  m.maintenance = true;
  auto added = h.p->add_silence(m);
  REQUIRE(added.ok());
  CHECK(added->label() == "M-1");
  h.result("proc:postgres", Status::kCritical);
  CHECK(h.store.incident_rows.empty());
  CHECK(h.states() == std::vector<std::string>{"firing:suppressed"});
  CHECK_THAT(h.store.outbox[0].last_error, Catch::Contains("M-1"));
  h.now += kMin;
  REQUIRE(h.p->end_silence(1).ok());
  CHECK(h.p->end_silence(1).failure().status == 409);
  CHECK(h.p->end_silence(9).failure().status == 404);
  h.p->tick();
  CHECK(h.states() == std::vector<std::string>{"firing:pending"});
}

TEST_CASE("silences and suppressed messages are restored after a restart") {
  Harness h;
  REQUIRE(h.p->add_silence(one_off({"host=db-01"}, h.now, h.now + 30 * kMin)).ok());
  h.result("proc:postgres", Status::kCritical);
  AlertsConfig c;
  c.enabled = true;
  c.channels = {ChannelConfig{"ops", "wecom", "", "k", "", 20, {}}};
  c.rules.no_data_intervals = 1000;
  AlertPipeline after(h.store, c, {}, [&h] { return h.now; });
  after.restore();
  REQUIRE(after.silences().size() == 1);
  h.now += 10 * kMin;
  after.on_results(h.db, {result("proc:mysql", Status::kCritical, h.now)});  // still muted
  CHECK(h.states().back() == "firing:suppressed");
  h.now += 30 * kMin;
  after.tick();  // both still firing: both released
  CHECK(h.states() == std::vector<std::string>{"firing:pending", "firing:pending"});
}

TEST_CASE("a silence needs matchers and a start before its end") {
  Harness h;
  Silence empty;
  empty.starts_ms = h.now;
  empty.ends_ms = h.now + kHour;
  CHECK(h.p->add_silence(empty).failure().status == 400);
  CHECK(h.p->add_silence(one_off({"host=a"}, h.now, h.now)).failure().status == 400);
  CHECK_THAT(h.p->add_silence(one_off({"host=a"}, 0, 0)).error(), Catch::Contains("needs its start and end"));
}
