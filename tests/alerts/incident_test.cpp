// Incident semantics with an injected clock: opening from alerts, levels, linking, deadlines
// (80 % notices, breaches), operator actions, numbering across restarts, the fault report.
#include <catch2/catch.hpp>

#include "memory_alert_store.hpp"
#include "xj/alerts/alert_pipeline.hpp"
#include "xj/alerts/message_builder.hpp"

using namespace xj;
using namespace xj::alerts;
using xj::alerts::test::MemoryAlertStore;

namespace {

constexpr std::int64_t kT0 = 1'760'000'000'000;
constexpr std::int64_t kMin = 60'000;

AlertsConfig one_channel() {
  AlertsConfig c;
  c.enabled = true;
  c.channels = {ChannelConfig{"ops", "wecom", "", "k", "", 20, {}}};
  c.rules.for_warning = std::chrono::milliseconds(0);
  // The deadline tests move the clock by hours without results: no "no data" in between.
  c.rules.no_data_intervals = 1000;
  c.repeat_interval = std::chrono::milliseconds(0);  // reminders: repeat_test.cpp
  return c;
}

Result result(const std::string& check, Status s, std::int64_t ts) {
  Result r;
  r.check = check;
  r.kind = "process";
  r.status = s;
  r.summary = "no process matches";
  r.ts_ms = ts;
  return r;
}

struct Harness {
  MemoryAlertStore store;
  std::int64_t now = kT0;
  AlertPipeline p;
  Subject web{"web-01", {{"system", "区块链平台"}, {"role", "app"}}};

  explicit Harness(AlertsConfig c = one_channel()) : p(store, std::move(c), {}, [this] { return now; }) {}
  void result(const std::string& check, Status s) { p.on_results(web, {::result(check, s, now)}); }
  std::vector<std::string> transitions() const {
    std::vector<std::string> out;
    for (const auto& m : store.outbox) out.push_back(m.transition);
    return out;
  }
  std::vector<std::string> timeline_kinds(std::int64_t id) {
    std::vector<std::string> out;
    for (const auto& e : store.timeline(id)) out.push_back(e.kind);
    return out;
  }
  Incident incident(std::int64_t id) { return store.incident(id).value(); }
  IncidentAction action(ActionKind k, std::string text = "") {
    IncidentAction a;
    a.kind = k;
    a.actor = "api:alice";
    a.text = std::move(text);
    return a;
  }
};

}  // namespace

TEST_CASE("a critical alert opens a P1 incident and its message names the incident number") {
  Harness h;
  h.result("proc:nginx", Status::kCritical);
  REQUIRE(h.store.incident_rows.size() == 1);
  const Incident i = h.incident(1);
  CHECK(i.level == IncidentLevel::kP1);
  CHECK(i.state == IncidentState::kOpen);
  CHECK(i.source == "alert");
  CHECK(i.host == "web-01");
  CHECK(i.system == "区块链平台");
  CHECK(i.opened_ms == kT0);
  REQUIRE(i.alerts.size() == 1);
  CHECK(i.alerts[0].check == "proc:nginx");
  REQUIRE(h.store.outbox.size() == 1);  // the alert's message only: it carries the incident
  CHECK_THAT(h.store.outbox[0].text, Catch::Contains("> 检查项：proc:nginx\n> 故障单：INC-0001（一级故障）\n> 开始时间："));
  CHECK(h.timeline_kinds(1) == std::vector<std::string>{"opened", "alert_firing"});
  CHECK(h.store.commits == 1);  // alert, message and incident in one commit
}

TEST_CASE("a warning alert opens no incident under the default levels, since warning is P4") {
  Harness h;
  h.result("disk:/data", Status::kWarning);
  CHECK(h.store.outbox.size() == 1);
  CHECK(h.store.incident_rows.empty());
  CHECK_THAT(h.store.outbox[0].text, !Catch::Contains("故障单"));
}

TEST_CASE("a level rule on severity and labels decides the level, and open_levels whether it opens") {
  auto c = one_channel();
  c.incidents.levels = {LevelRule{{Status::kWarning}, {{"role", "db"}}, "", IncidentLevel::kP2}};
  Harness h(c);
  h.result("disk:/data", Status::kWarning);  // role=app: no rule matches, P4
  CHECK(h.store.incident_rows.empty());
  h.web.labels["role"] = "db";
  h.web.host = "db-01";
  h.result("disk:/data", Status::kWarning);
  REQUIRE(h.store.incident_rows.size() == 1);
  CHECK(h.incident(1).level == IncidentLevel::kP2);
  CHECK(h.incident(1).repair_due_ms == kT0 + 3 * 60 * kMin);  // 二级: 3 h

  auto none = one_channel();
  none.incidents.open_levels = {};
  Harness off(none);
  off.result("proc:nginx", Status::kCritical);
  CHECK(off.store.incident_rows.empty());
}

TEST_CASE("a second alert of the same host joins its open incident and raises its level") {
  auto c = one_channel();
  c.incidents.levels = {LevelRule{{Status::kCritical}, {}, "disk:/data", IncidentLevel::kP2}};
  Harness h(c);
  h.result("disk:/data", Status::kCritical);
  CHECK(h.incident(1).level == IncidentLevel::kP2);
  h.now += kMin;
  h.result("proc:nginx", Status::kCritical);
  REQUIRE(h.store.incident_rows.size() == 1);
  const Incident i = h.incident(1);
  CHECK(i.alerts.size() == 2);
  CHECK(i.level == IncidentLevel::kP1);
  CHECK(i.repair_due_ms == kT0 + 2 * 60 * kMin);  // the deadline still runs from the opening
  CHECK(h.timeline_kinds(1) ==
        std::vector<std::string>{"opened", "alert_firing", "alert_firing", "level_raised"});
  CHECK_THAT(h.store.outbox[1].text, Catch::Contains("INC-0001"));
}

TEST_CASE("when every linked alert has recovered the incident resolves itself, and the recovery names it") {
  Harness h;
  h.result("proc:nginx", Status::kCritical);
  h.result("proc:php", Status::kCritical);
  h.now += 10 * kMin;
  h.result("proc:nginx", Status::kOk);
  CHECK(h.incident(1).state == IncidentState::kOpen);  // php still down
  h.now += kMin;
  h.result("proc:php", Status::kOk);
  const Incident i = h.incident(1);
  CHECK(i.state == IncidentState::kResolved);
  CHECK(i.resolved_by == "collector");
  CHECK(i.resolved_ms == kT0 + 11 * kMin);
  CHECK_FALSE(i.repair_breached);
  CHECK(h.transitions() == std::vector<std::string>{"firing", "firing", "resolved", "resolved"});
  CHECK_THAT(h.store.outbox[3].text, Catch::Contains("【已恢复】"));
  CHECK_THAT(h.store.outbox[3].text, Catch::Contains("INC-0001"));
  CHECK(h.timeline_kinds(1).back() == "resolved");

  h.now += kMin;
  h.result("proc:nginx", Status::kCritical);  // a new fault after resolution: a new incident
  CHECK(h.store.incident_rows.size() == 2);
}

TEST_CASE("without auto_resolve the incident waits for the operator after its alerts recovered") {
  auto c = one_channel();
  c.incidents.auto_resolve = false;
  Harness h(c);
  h.result("proc:nginx", Status::kCritical);
  h.now += kMin;
  h.result("proc:nginx", Status::kOk);
  CHECK(h.incident(1).state == IncidentState::kOpen);
  CHECK(h.incident(1).alerts[0].resolved_ms == kT0 + kMin);
}

TEST_CASE("at 80 % of the response deadline one notice goes out, at 100 % the breach is flagged and announced once") {
  Harness h;
  h.result("proc:nginx", Status::kCritical);
  h.now += 23 * kMin;  // 30 min to respond: 80 % is 24 min
  h.p.tick();
  CHECK(h.transitions() == std::vector<std::string>{"firing"});
  h.now += kMin;
  h.p.tick();
  h.p.tick();
  CHECK(h.transitions() == std::vector<std::string>{"firing", "respond_warning"});
  CHECK(h.incident(1).respond_warned);
  CHECK_THAT(h.store.outbox[1].text, Catch::Contains("即将超时"));
  CHECK_THAT(h.store.outbox[1].text, Catch::Contains("INC-0001"));
  CHECK_THAT(h.store.outbox[1].text, Catch::Contains("剩余 6m"));
  CHECK_THAT(h.store.outbox[1].text, !Catch::Contains("\n\n"));  // a blank line ends a quote block
  h.now = kT0 + 30 * kMin;
  h.p.tick();
  h.p.tick();
  CHECK(h.transitions() == std::vector<std::string>{"firing", "respond_warning", "respond_breached"});
  CHECK(h.incident(1).respond_breached);
  CHECK_FALSE(h.incident(1).repair_breached);
  CHECK_THAT(h.store.outbox[2].text, Catch::Contains("已超时"));
  h.now = kT0 + 96 * kMin;  // repair 2 h: 80 % at 96 min
  h.p.tick();
  CHECK(h.transitions().back() == "repair_warning");
  h.now = kT0 + 120 * kMin;
  h.p.tick();
  CHECK(h.transitions().back() == "repair_breached");
  CHECK(h.incident(1).repair_breached);
  CHECK(h.store.outbox.size() == 5);
}

TEST_CASE("acknowledging in time stops the response clock, while the repair clock keeps running") {
  Harness h;
  h.result("proc:nginx", Status::kCritical);
  h.now += 10 * kMin;
  auto acked = h.p.act(1, h.action(ActionKind::kAcknowledge, "在处理"));
  REQUIRE(acked.ok());
  CHECK(acked->state == IncidentState::kAcknowledged);
  CHECK(acked->acknowledged_by == "api:alice");
  h.now = kT0 + 40 * kMin;
  h.p.tick();
  CHECK(h.transitions() == std::vector<std::string>{"firing"});
  CHECK_FALSE(h.incident(1).respond_breached);
  h.now = kT0 + 100 * kMin;
  h.p.tick();
  CHECK(h.transitions() == std::vector<std::string>{"firing", "repair_warning"});
}

TEST_CASE("an acknowledgement after the response deadline is flagged as a breach") {
  Harness h;
  h.result("proc:nginx", Status::kCritical);
  h.now += 31 * kMin;  // no tick ran meanwhile: the action itself judges the time
  auto acked = h.p.act(1, h.action(ActionKind::kAcknowledge));
  REQUIRE(acked.ok());
  CHECK(acked->respond_breached);
}

TEST_CASE("operator actions follow open, acknowledged, resolved, closed and a wrong one is refused naming the state") {
  Harness h;
  h.result("proc:nginx", Status::kCritical);
  auto close_early = h.p.act(1, h.action(ActionKind::kClose));
  REQUIRE_FALSE(close_early.ok());
  CHECK(close_early.failure().status == 409);
  CHECK_THAT(close_early.error(), Catch::Contains("INC-0001 is open"));
  REQUIRE(h.p.act(1, h.action(ActionKind::kAcknowledge)).ok());
  auto twice = h.p.act(1, h.action(ActionKind::kAcknowledge));
  CHECK(twice.failure().status == 409);
  auto empty_note = h.p.act(1, h.action(ActionKind::kNote));
  CHECK(empty_note.failure().status == 400);
  REQUIRE(h.p.act(1, h.action(ActionKind::kNote, "重启 nginx")).ok());
  h.now += 20 * kMin;
  auto resolve = h.action(ActionKind::kResolve);
  resolve.cause = "配置错误";
  resolve.handling = "回滚配置并重启";
  resolve.impact = "门户 20 分钟不可用";
  auto resolved = h.p.act(1, resolve);
  REQUIRE(resolved.ok());
  CHECK(resolved->cause == "配置错误");
  CHECK(resolved->resolved_ms == kT0 + 20 * kMin);
  REQUIRE(h.p.act(1, h.action(ActionKind::kClose)).ok());
  auto after_close = h.p.act(1, h.action(ActionKind::kNote, "late"));
  CHECK(after_close.failure().status == 409);
  CHECK(h.p.act(7, h.action(ActionKind::kNote, "x")).failure().status == 404);
  CHECK(h.timeline_kinds(1) == std::vector<std::string>{"opened", "alert_firing", "acknowledged", "note",
                                                        "resolved", "closed"});
  CHECK(h.store.timeline(1)[3].actor == "api:alice");
  CHECK(h.store.timeline(1)[3].text == "重启 nginx");
}

TEST_CASE("an incident an operator opens gets the next number and notifies the incident channels") {
  Harness h;
  h.result("proc:nginx", Status::kCritical);
  NewIncident n;
  n.title = "存证接口响应慢";
  n.level = IncidentLevel::kP2;
  n.actor = "api:bob";
  auto opened = h.p.open_incident(n);
  REQUIRE(opened.ok());
  CHECK(opened->id == 2);
  CHECK(opened->source == "operator");
  CHECK(opened->repair_due_ms == kT0 + 3 * 60 * kMin);
  REQUIRE(h.store.outbox.size() == 2);
  CHECK(h.store.outbox[1].transition == "opened");
  CHECK_THAT(h.store.outbox[1].text, Catch::Contains("INC-0002"));
  CHECK_THAT(h.store.outbox[1].text, Catch::Contains("二级故障"));
  CHECK_THAT(h.store.outbox[1].text, Catch::Contains("api:bob"));
  NewIncident untitled;
  CHECK(h.p.open_incident(untitled).failure().status == 400);
  // An operator's incident is not where a host's alerts go.
  h.result("proc:php", Status::kCritical);
  CHECK(h.incident(1).alerts.size() == 2);
}

TEST_CASE("after a restart incident numbers continue and an open incident still resolves with its alerts") {
  MemoryAlertStore store;
  std::int64_t now = kT0;
  Subject web{"web-01", {}};
  {
    AlertPipeline p(store, one_channel(), {}, [&] { return now; });
    p.on_results(web, {result("proc:nginx", Status::kCritical, now)});
    p.on_results({"db-01", {}}, {result("proc:pg", Status::kCritical, now)});
  }
  now += kMin;
  AlertPipeline after(store, one_channel(), {}, [&] { return now; });
  after.restore();
  after.on_results(web, {result("proc:nginx", Status::kOk, now)});
  CHECK(store.incident_rows.at(1).state == IncidentState::kResolved);
  after.on_results({"app-01", {}}, {result("proc:java", Status::kCritical, now)});
  CHECK(store.incident_rows.size() == 3);
  CHECK(store.incident_rows.count(3) == 1);
}

TEST_CASE("a commit the store refuses leaves the incidents as the store has them") {
  Harness h;
  h.store.fail_next = true;
  h.result("proc:nginx", Status::kCritical);
  CHECK(h.store.incident_rows.empty());
  h.result("proc:php", Status::kCritical);
  REQUIRE(h.store.incident_rows.size() == 1);
  CHECK(h.store.incident_rows.begin()->second.alerts.size() == 1);  // not linked to a lost one
  CHECK(h.store.incident_rows.begin()->first == 1);
}

TEST_CASE("the fault report shows the facts, durations against deadlines, cause, handling and the timeline") {
  Harness h;
  h.result("proc:nginx", Status::kCritical);
  h.now += 40 * kMin;
  REQUIRE(h.p.act(1, h.action(ActionKind::kAcknowledge)).ok());
  h.now += 20 * kMin;
  h.result("proc:nginx", Status::kOk);
  IncidentAction close = h.action(ActionKind::kClose, "复盘完成");
  close.cause = "磁盘写满 | 日志未轮转";
  close.handling = "清理日志，配置 logrotate";
  close.impact = "存证写入失败 1 小时";
  REQUIRE(h.p.act(1, close).ok());
  const std::string md = render_fault_report(h.incident(1), h.store.timeline(1), {}, h.now);
  INFO(md);
  CHECK_THAT(md, Catch::StartsWith("# 故障报告 INC-0001"));
  CHECK_THAT(md, Catch::Contains("| 故障等级 | 一级故障 |"));
  CHECK_THAT(md, Catch::Contains("| 状态 | 已关闭 |"));
  CHECK_THAT(md, Catch::Contains("| 响应 | 30m（"));
  CHECK_THAT(md, Catch::Contains("| 40m | 超时 |"));  // acked after 40 min of 30
  CHECK_THAT(md, Catch::Contains("| 修复 | 2h（"));
  CHECK_THAT(md, Catch::Contains("| 1h | 达标 |"));   // resolved by its alert after 1 h of 2
  CHECK_THAT(md, Catch::Contains("存证写入失败 1 小时"));
  CHECK_THAT(md, Catch::Contains("清理日志，配置 logrotate"));
  CHECK_THAT(md, Catch::Contains("磁盘写满 | 日志未轮转"));  // prose is not a table cell
  CHECK_THAT(md, Catch::Contains("| web-01 | proc:nginx |"));
  CHECK_THAT(md, Catch::Contains("| 关联告警 | collector | web-01 proc:nginx"));
  CHECK_THAT(md, Catch::Contains("| 告警恢复 |"));
  CHECK_THAT(md, Catch::Contains("| 确认响应 | api:alice |"));
  CHECK_THAT(md, Catch::Contains("| 关闭故障单 | api:alice | 复盘完成 |"));
}
