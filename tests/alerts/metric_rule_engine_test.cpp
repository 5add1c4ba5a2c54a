// Metric rules in the rule engine, with an injected clock: for, recover_for, per-series
// alerts, label and host matchers, and missing data that is never taken for recovery.
#include <catch2/catch.hpp>

#include "notified.hpp"
#include "xj/alerts/message_builder.hpp"
#include "xj/alerts/rule_engine.hpp"

using namespace xj;
using namespace xj::alerts;
using xj::alerts::test::notified;

namespace {

constexpr std::int64_t kT0 = 1'760'000'000'000;
constexpr std::int64_t kS = 1000;
constexpr std::int64_t kM = 60 * kS;

MetricRule rule(const std::string& name, const std::string& expr, std::int64_t for_ms = 5 * kM,
                std::int64_t recover_ms = 0) {
  MetricRule r;
  r.name = name;
  auto e = parse_metric_expr(expr);
  INFO(expr << ": " << (e ? "" : e.error()));
  REQUIRE(e);
  r.expr = *e;
  r.hold_for = std::chrono::milliseconds(for_ms);
  r.recover_for = std::chrono::milliseconds(recover_ms);
  r.severity = Status::kCritical;
  return r;
}

Metric used(const std::string& mount, double pct) {
  return Metric{"used_pct", pct, "%", {{"mount", mount}}, {}, {}};
}

struct Harness {
  std::int64_t now = kT0;
  RuleEngine engine;
  Subject db{"db-01", {{"system", "存证平台"}}};

  explicit Harness(std::vector<MetricRule> rules)
      : engine(options(std::move(rules)), [this] { return now; }) {}
  static RuleOptions options(std::vector<MetricRule> rules) {
    RuleOptions o;
    o.metric_rules = std::move(rules);
    return o;
  }

  // A disk result at clock time now; ok by the check's own thresholds unless told.
  std::vector<AlertEvent> disk(std::vector<Metric> metrics, Status s = Status::kOk,
                               const std::string& check = "disk") {
    Result r;
    r.check = check;
    r.kind = "disk";
    r.status = s;
    r.summary = "disk";
    r.metrics = std::move(metrics);
    r.ts_ms = now;
    return engine.on_result(db, r);
  }
  std::vector<Alert> metric_alerts() const {
    std::vector<Alert> out;
    for (const auto& a : engine.active()) {
      if (a.kind == AlertKind::kMetric) out.push_back(a);
    }
    return out;
  }
  void advance(std::int64_t ms) { now += ms; }
};

}  // namespace

TEST_CASE("a metric rule fires only after its condition held for its for") {
  Harness h({rule("disk-almost-full", R"(disk.used_pct{mount="/data"} > 90)")});
  CHECK(notified(h.disk({used("/data", 93)})).empty());
  auto pending = h.metric_alerts();
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].state == AlertState::kPending);
  h.advance(4 * kM + 59 * kS);
  CHECK(notified(h.disk({used("/data", 95)})).empty());
  h.advance(1 * kS);
  auto ev = notified(h.disk({used("/data", 94)}));
  REQUIRE(ev.size() == 1);
  const Alert& a = ev[0].alert;
  CHECK(*ev[0].transition == Transition::kFiring);
  CHECK(a.kind == AlertKind::kMetric);
  CHECK(a.rule == "disk-almost-full");
  CHECK(a.severity == Status::kCritical);
  CHECK(a.since_ms == kT0);  // the first result over the threshold
  CHECK(a.host == "db-01");
  CHECK(a.check == "disk");
  CHECK(a.labels == Labels{{"system", "存证平台"}});
  REQUIRE(a.metrics.size() == 1);
  CHECK(a.metrics[0].name == "disk.used_pct");
  CHECK(a.metrics[0].value == 94);
  CHECK(a.metrics[0].labels == Labels{{"mount", "/data"}});
  CHECK(a.conditions == std::vector<std::string>{"> 90%"});
  CHECK(a.expr == R"(disk.used_pct{mount="/data"} > 90)");
  CHECK(a.summary == "disk.used_pct{mount=/data} 94% > 90%");
  CHECK(a.fingerprint == fingerprint("disk-almost-full", "db-01", "disk", {{"mount", "/data"}}));
}

TEST_CASE("a metric rule whose condition clears before its for is dropped without a message") {
  Harness h({rule("full", "disk.used_pct > 90")});
  h.disk({used("/data", 93)});
  h.advance(2 * kM);
  auto ev = h.disk({used("/data", 80)});
  CHECK(notified(ev).empty());
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].alert.state == AlertState::kResolved);
  CHECK(h.metric_alerts().empty());
}

TEST_CASE("a firing metric alert resolves only after recover_for of false results") {
  Harness h({rule("full", "disk.used_pct > 90", 0, 2 * kM)});
  REQUIRE(notified(h.disk({used("/data", 93)})).size() == 1);
  h.advance(10 * kM);
  const std::int64_t back = h.now;
  CHECK(notified(h.disk({used("/data", 85)})).empty());
  h.advance(1 * kM);
  CHECK(notified(h.disk({used("/data", 86)})).empty());
  h.advance(30 * kS);
  CHECK(notified(h.disk({used("/data", 91)})).empty());  // true again: the hysteresis starts over
  h.advance(30 * kS);
  const std::int64_t back_again = h.now;
  CHECK(notified(h.disk({used("/data", 80)})).empty());
  h.advance(2 * kM - kS);
  CHECK(notified(h.disk({used("/data", 80)})).empty());
  h.advance(kS);
  auto ev = notified(h.disk({used("/data", 79)}));
  REQUIRE(ev.size() == 1);
  CHECK(*ev[0].transition == Transition::kResolved);
  CHECK(ev[0].alert.resolved_ms == back_again);  // it lasted until the first false result
  CHECK(ev[0].alert.resolved_ms != back);
  CHECK(ev[0].alert.metrics.at(0).value == 79);  // the values it recovered with
  CHECK(ev[0].alert.summary == "disk.used_pct{mount=/data} 93% > 90%");  // the firing one
  CHECK(h.metric_alerts().empty());
}

TEST_CASE("each series a rule selects is its own alert with its own fingerprint") {
  Harness h({rule("full", "disk.used_pct > 90", 0)});
  auto ev = notified(h.disk({used("/", 50), used("/data", 95), used("/backup", 97)}));
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].alert.metrics.at(0).labels.at("mount") == "/data");
  CHECK(ev[1].alert.metrics.at(0).labels.at("mount") == "/backup");
  CHECK(ev[0].alert.fingerprint != ev[1].alert.fingerprint);
  h.advance(kM);
  // /data recovers, /backup stays: one recovery, one alert left.
  ev = notified(h.disk({used("/", 50), used("/data", 60), used("/backup", 97)}));
  REQUIRE(ev.size() == 1);
  CHECK(*ev[0].transition == Transition::kResolved);
  CHECK(ev[0].alert.metrics.at(0).labels.at("mount") == "/data");
  REQUIRE(h.metric_alerts().size() == 1);
  CHECK(h.metric_alerts()[0].metrics.at(0).labels.at("mount") == "/backup");
}

TEST_CASE("label matchers limit a rule to the series they select") {
  Harness h({rule("data-full", R"(disk.used_pct{mount=~"/data.*", mount!="/data/tmp"} > 90)", 0)});
  auto ev = notified(h.disk({used("/", 99), used("/data/tmp", 99), used("/data2", 99)}));
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].alert.metrics.at(0).labels.at("mount") == "/data2");
}

TEST_CASE("host-level matchers limit a rule to hosts and checks they match") {
  MetricRule r = rule("full", "disk.used_pct > 90", 0);
  r.match = {parse_matcher("system=存证平台").value(), parse_matcher("check=~disk.*").value()};
  Harness h({r});
  CHECK(notified(h.disk({used("/data", 95)}, Status::kOk, "other:disk"))
            .empty());  // check does not match
  h.db.labels["system"] = "测试环境";
  h.advance(kS);
  CHECK(notified(h.disk({used("/data", 95)})).empty());  // system does not match
  h.db.labels["system"] = "存证平台";
  h.advance(kS);
  CHECK(notified(h.disk({used("/data", 95)})).size() == 1);
}

TEST_CASE("a result without the metric is not recovery: the alert stays as it is") {
  Harness h({rule("full", R"(disk.used_pct{mount="/data"} > 90)", 0)});
  REQUIRE(notified(h.disk({used("/data", 95)})).size() == 1);
  for (int i = 0; i < 10; ++i) {
    h.advance(kM);
    CHECK(h.disk({used("/", 10)}).empty());  // /data unmounted, or the check lost it
    CHECK(h.disk({}).empty());
  }
  REQUIRE(h.metric_alerts().size() == 1);
  CHECK(h.metric_alerts()[0].state == AlertState::kFiring);
  CHECK(h.metric_alerts()[0].metrics.at(0).value == 95);
}

TEST_CASE("a pending metric alert keeps waiting through results that lack the metric") {
  Harness h({rule("full", "disk.used_pct > 90", 5 * kM)});
  h.disk({used("/data", 95)});
  h.advance(3 * kM);
  CHECK(h.disk({}).empty());
  h.advance(2 * kM);
  CHECK(notified(h.disk({used("/data", 95)})).size() == 1);
}

TEST_CASE("an unknown result keeps every series of the check as it is") {
  Harness h({rule("full", "disk.used_pct > 90", 0)});
  REQUIRE(notified(h.disk({used("/data", 95)})).size() == 1);
  h.advance(kM);
  // A check that could not measure may still carry a stale or zero value: it is not believed.
  CHECK(notified(h.disk({used("/data", 0)}, Status::kUnknown)).empty());
  CHECK(h.metric_alerts().at(0).state == AlertState::kFiring);
  h.advance(kM);
  auto ev = notified(h.disk({used("/data", 50)}, Status::kCritical));  // a real value: recovery
  REQUIRE(ev.size() == 2);  // and the check's own critical status alert
  CHECK(ev[0].alert.kind == AlertKind::kStatus);
  CHECK(ev[1].alert.kind == AlertKind::kMetric);
  CHECK(*ev[1].transition == Transition::kResolved);
}

TEST_CASE("a silent check raises its no-data alert while its metric alert stays firing") {
  Harness h({rule("full", "disk.used_pct > 90", 0)});
  REQUIRE(notified(h.disk({used("/data", 95)})).size() == 1);
  h.advance(60 * kS);
  h.disk({used("/data", 95)});  // the interval is now known: 60 s
  h.advance(181 * kS);
  auto ev = notified(h.engine.tick());
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].alert.kind == AlertKind::kNoData);
  REQUIRE(h.metric_alerts().size() == 1);
  CHECK(h.metric_alerts()[0].state == AlertState::kFiring);
  h.advance(kS);
  // Data is back, still over: no-data resolves ("data is back"), the metric alert stays.
  ev = notified(h.disk({used("/data", 96)}));
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].alert.kind == AlertKind::kNoData);
  CHECK(h.metric_alerts().size() == 1);
}

TEST_CASE("a rule applies to results of its check kind only, whatever the check's status") {
  Harness h({rule("busy", "cpu.usage_pct >= 95", 0)});
  CHECK(notified(h.disk({Metric{"usage_pct", 99, "%", {}, {}, {}}})).empty());  // a disk result
  Result r;
  r.check = "cpu";
  r.kind = "cpu";
  r.status = Status::kOk;  // the check's own thresholds say ok; the rule is stricter
  r.metrics = {Metric{"usage_pct", 95, "%", {}, {}, {}}};
  r.ts_ms = h.now;
  CHECK(notified(h.engine.on_result(h.db, r)).size() == 1);
}

TEST_CASE("'and' fires when every comparison holds on the series with the same labels") {
  Harness h({rule("slow-and-lossy", "exec.rta > 200 and exec.pl >= 20%", 0)});
  auto ping = [&](double rta, std::optional<double> pl) {
    Result r;
    r.check = "exec:ping";
    r.kind = "exec";
    r.status = Status::kOk;
    r.metrics = {Metric{"rta", rta, "ms", {}, {}, {}}};
    if (pl) r.metrics.push_back(Metric{"pl", *pl, "%", {}, {}, {}});
    r.ts_ms = h.now;
    return notified(h.engine.on_result(h.db, r));
  };
  CHECK(ping(300, 10).empty());
  h.advance(kS);
  auto ev = ping(300, 30);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].alert.conditions == std::vector<std::string>{"> 200ms", ">= 20%"});
  CHECK(ev[0].alert.summary == "exec.rta 300ms > 200ms and exec.pl 30% >= 20%");
  h.advance(kS);
  CHECK(ping(100, std::nullopt).empty());  // pl missing: not evaluated, not recovered
  h.advance(kS);
  ev = ping(100, 30);
  REQUIRE(ev.size() == 1);
  CHECK(*ev[0].transition == Transition::kResolved);
}

TEST_CASE("a metric whose unit does not fit the threshold is skipped, never taken as recovery") {
  Harness h({rule("slow", "exec.time > 500ms", 0)});
  auto run = [&](double v, const std::string& unit) {
    Result r;
    r.check = "exec:job";
    r.kind = "exec";
    r.status = Status::kOk;
    r.metrics = {Metric{"time", v, unit, {}, {}, {}}};
    r.ts_ms = h.now;
    return notified(h.engine.on_result(h.db, r));
  };
  REQUIRE(run(0.8, "s").size() == 1);  // 800 ms
  h.advance(kS);
  CHECK(run(1, "%").empty());  // a plugin that changed its unit: not comparable
  CHECK(h.metric_alerts().size() == 1);
  h.advance(kS);
  CHECK(run(0.2, "s").size() == 1);
}

TEST_CASE("the rule's summary template names the value and the threshold") {
  MetricRule r = rule("full", R"(disk.used_pct{mount="/data"} > 90)", 0);
  r.summary = "{{mount}} 使用率 {{value}}，超过 {{threshold}}（{{rule}} {{op}}）";
  Harness h({r});
  auto ev = notified(h.disk({used("/data", 93.5)}));
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].alert.summary == "/data 使用率 93.5%，超过 90%（full >）");
}

TEST_CASE("a retried or backfilled older result does not move a metric alert") {
  Harness h({rule("full", "disk.used_pct > 90", 0)});
  REQUIRE(notified(h.disk({used("/data", 95)})).size() == 1);
  Result old;
  old.check = "disk";
  old.kind = "disk";
  old.status = Status::kOk;
  old.metrics = {used("/data", 10)};
  old.ts_ms = h.now - kM;
  CHECK(h.engine.on_result(h.db, old).empty());
  CHECK(h.metric_alerts().size() == 1);
}

TEST_CASE("restored metric alerts carry on: no second firing, and their recovery is sent") {
  std::vector<Alert> stored;
  {
    Harness h({rule("full", R"(disk.used_pct{mount="/data"} > 90)", 0)});
    REQUIRE(notified(h.disk({used("/data", 95)})).size() == 1);
    stored = h.engine.active();
  }
  // The store keeps neither the expression nor the comparisons: the rule gives them again.
  for (auto& a : stored) {
    a.expr.clear();
    a.conditions.clear();
  }
  Harness h({rule("full", R"(disk.used_pct{mount="/data"} > 90)", 0)});
  h.engine.restore(stored);
  REQUIRE(h.metric_alerts().size() == 1);
  CHECK(h.metric_alerts()[0].expr == R"(disk.used_pct{mount="/data"} > 90)");
  CHECK(h.metric_alerts()[0].conditions == std::vector<std::string>{"> 90%"});
  h.advance(kM);
  CHECK(notified(h.disk({used("/data", 97)})).empty());  // still firing: not announced again
  CHECK(notified(h.disk({})).empty());
  h.advance(kM);
  auto ev = notified(h.disk({used("/data", 50)}));
  REQUIRE(ev.size() == 1);
  CHECK(*ev[0].transition == Transition::kResolved);
  CHECK(ev[0].alert.since_ms == kT0);
}

TEST_CASE("a restored alert of a rule removed from the config is closed without a message") {
  std::vector<Alert> stored;
  {
    Harness h({rule("old-rule", "disk.used_pct > 90", 0)});
    REQUIRE(notified(h.disk({used("/data", 95)})).size() == 1);
    stored = h.engine.active();
  }
  Harness h({rule("new-rule", "disk.used_pct > 99", 0)});
  h.engine.restore(stored);
  CHECK(h.metric_alerts().empty());
  auto ev = h.engine.tick();
  REQUIRE(ev.size() == 1);
  CHECK_FALSE(ev[0].transition.has_value());
  CHECK(ev[0].alert.rule == "old-rule");
  CHECK(ev[0].alert.state == AlertState::kResolved);
  CHECK(h.engine.tick().empty());
}

TEST_CASE(
    "a metric alert's message names the rule, the value against the threshold, host and system") {
  Harness h({rule("disk-almost-full", R"(disk.used_pct{mount="/data"} > 90)", 0)});
  auto ev = notified(h.disk({used("/data", 93.2)}));
  REQUIRE(ev.size() == 1);
  MessageContext zh;
  zh.console_url = "https://xunjian.example";
  const std::string md = render_message(ev[0].alert, Transition::kFiring, zh);
  INFO(md);
  CHECK_THAT(md, Catch::StartsWith("### 【严重】db-01 disk 指标告警：disk-almost-full\n"));
  CHECK_THAT(md,
             Catch::Contains("> 规则：disk-almost-full（disk.used_pct{mount=\"/data\"} > 90）\n"));
  CHECK_THAT(md, Catch::Contains("> 系统：存证平台\n> 主机：db-01\n> 检查项：disk\n"));
  CHECK_THAT(md, Catch::Contains("> 开始时间：" + format_local(kT0) + "\n"));
  CHECK_THAT(md, Catch::Contains(
                     "> 当前值 / 阈值：\n> - disk.used_pct（mount=/data）：93.2%，阈值 > 90%\n"));
  CHECK_THAT(md, Catch::Contains("[查看详情](https://xunjian.example/console/hosts/db-01)"));

  MessageContext en = zh;
  en.locale = "en";
  const std::string e = render_message(ev[0].alert, Transition::kFiring, en);
  CHECK_THAT(e, Catch::StartsWith("### [Critical] db-01 disk metric alert: disk-almost-full\n"));
  CHECK_THAT(e, Catch::Contains("> - disk.used_pct (mount=/data): 93.2%, threshold > 90%\n"));

  MessageContext sms = zh;
  sms.style = TextStyle::kSms;
  CHECK(render_message(ev[0].alert, Transition::kFiring, sms) ==
        "【严重】db-01 disk-almost-full：disk.used_pct 93.2%(> 90%)，" +
            format_local(kT0).substr(5, 11) + "起");

  h.advance(90 * kS);
  ev = notified(h.disk({used("/data", 70)}));
  REQUIRE(ev.size() == 1);
  const std::string rec = render_message(ev[0].alert, Transition::kResolved, zh);
  INFO(rec);
  CHECK_THAT(rec, Catch::StartsWith("### 【已恢复】db-01 disk 指标告警：disk-almost-full\n"));
  CHECK_THAT(rec, Catch::Contains("> 持续时长：1m30s\n"));
  CHECK_THAT(
      rec, Catch::Contains("> 恢复时的值：\n> - disk.used_pct（mount=/data）：70%，阈值 > 90%\n"));
  CHECK(render_message(ev[0].alert, Transition::kResolved, sms) ==
        "【已恢复】db-01 disk-almost-full，持续1m30s");
}
