// Routes, people and the duty roster, read from collector.yaml text and evaluated at fixed
// instants in the contract's zone (Asia/Shanghai, set here, not taken from the machine).
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <ctime>

#include "memory_alert_store.hpp"
#include "xj/alerts/alert_pipeline.hpp"
#include "xj/alerts/alerts_config.hpp"
#include "xj/common/config_error.hpp"
#include "xj/common/config_section.hpp"

using namespace xj;
using namespace xj::alerts;

namespace {

constexpr std::int64_t kMin = 60'000;
constexpr std::int64_t kHour = 60 * kMin;
constexpr std::int64_t kDay = 24 * kHour;
// 2026-12-01 00:00 in Asia/Shanghai, a Tuesday (computed outside the code under test).
constexpr std::int64_t kTue = 1'796'054'400'000;
// 2026-10-01 00:00 in Asia/Shanghai, a Thursday: 国庆, a holiday in the calendar below.
constexpr std::int64_t kOct1 = 1'790'784'000'000;

void contract_zone() {
  ::setenv("TZ", "Asia/Shanghai", 1);
  ::tzset();
}

const std::string kBase = R"(alerts:
  holidays: [2026-10-01, 2026-10-02]
  channels:
    - {name: ops, type: wecom, url: "http://127.0.0.1:1/"}
    - {name: night, type: wecom, url: "http://127.0.0.1:1/"}
    - {name: db-team, type: dingtalk, url: "http://127.0.0.1:1/"}
    - {name: sms, type: webhook, url: "http://127.0.0.1:1/"}  # made sms_http by parse()
  people:
    - {id: zhang, name: 张三, phone: "13800000001", email: zhang@example.com, wecom_user: zhangsan}
    - {id: li, name: 李四, phone: "13800000002"}
    - {id: wang, name: 王五, phone: "13800000003"}
    - {id: pm, name: 项目经理, phone: "13800000009"}
  duty:
    rotation: [zhang, li]
    handover: "09:00"
    period: daily
    start: 2026-11-30
    holiday: wang
    overrides: {"2026-12-05": pm}
)";

AlertsConfig parse_yaml(const std::string& yaml) {
  YAML::Node root = YAML::Load(yaml);
  return parse_alerts_config(ConfigSection(root, "collector.yaml", "").section("alerts"));
}

// The SMS channel types are built on another branch (issue 6 part B); until they are merged
// the config loader does not know them. The routing only looks at the type, so the channel
// named "sms" is read as a webhook and then given the person-addressed type.
AlertsConfig parse(const std::string& yaml) {
  AlertsConfig c = parse_yaml(yaml);
  for (auto& ch : c.channels) {
    if (ch.name == "sms") ch.type = "sms_http";
  }
  return c;
}

std::string error_of(const std::string& yaml) {
  try {
    parse_yaml(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

Alert alert(Status severity, Labels labels = {{"system", "平台"}, {"role", "web"}}) {
  Alert a;
  a.host = "web-01";
  a.check = "proc:nginx";
  a.rule = "status";
  a.severity = severity;
  a.labels = std::move(labels);
  return a;
}

Routing routing_of(const AlertsConfig& c) {
  Routing r;
  r.routes = c.routes;
  r.default_route = c.default_route;
  r.people = c.people;
  r.duty = c.duty;
  for (const auto& ch : c.channels) r.channel_types[ch.name] = ch.type;
  return r;
}

// "channel>recipient" of every delivery of every route the alert takes at `at`.
std::vector<std::string> where(const AlertsConfig& c, const Alert& a, std::int64_t at) {
  const Routing r = routing_of(c);
  std::vector<std::string> out;
  for (const Route* route : r.routes_for(a, at, c.holidays)) {
    for (const auto& d : r.deliveries(route->target(), at, c.holidays))
      out.push_back(d.channel + ">" + d.recipient);
  }
  return out;
}

}  // namespace

TEST_CASE("the duty roster hands over daily at 09:00, follows overrides and the holiday stand-in") {
  contract_zone();
  const AlertsConfig c = parse(kBase);
  REQUIRE(c.duty.configured());
  // 2026-11-30 (the start) is zhang's duty day: until 2026-12-01 09:00.
  auto d = duty_at(c.duty, kTue + 8 * kHour + 59 * kMin, c.holidays);
  CHECK(d.person == "zhang");
  CHECK(d.duty_date == "2026-11-30");
  CHECK(d.next_person == "li");
  CHECK(d.next_handover_ms == kTue + 9 * kHour);
  d = duty_at(c.duty, kTue + 9 * kHour, c.holidays);
  CHECK(d.person == "li");
  CHECK(d.since_ms == kTue + 9 * kHour);
  CHECK(d.next_handover_ms == kTue + kDay + 9 * kHour);
  CHECK(duty_at(c.duty, kTue + kDay + 10 * kHour, c.holidays).person == "zhang");
  // 2026-12-05 is overridden for the project manager; his stretch ends 2026-12-06 09:00.
  d = duty_at(c.duty, kTue + 4 * kDay + 12 * kHour, c.holidays);
  CHECK(d.person == "pm");
  CHECK(d.reason == "override");
  CHECK(d.next_handover_ms == kTue + 5 * kDay + 9 * kHour);
  // Before the start the rotation runs backwards: 2026-11-29 was li's.
  CHECK(duty_at(c.duty, kTue - 2 * kDay + 10 * kHour, c.holidays).person == "li");
  // 国庆: the holiday stand-in from 10-01 09:00 to 10-03 09:00 (10-01 and 10-02 are holidays).
  d = duty_at(c.duty, kOct1 + 10 * kHour, c.holidays);
  CHECK(d.person == "wang");
  CHECK(d.reason == "holiday");
  CHECK(d.since_ms == kOct1 + 9 * kHour);
  CHECK(d.next_handover_ms == kOct1 + 2 * kDay + 9 * kHour);
  CHECK(duty_at(c.duty, kOct1 + 8 * kHour, c.holidays).person != "wang");  // 09-30's duty day
}

TEST_CASE("a weekly roster hands over on the weekday of its start") {
  contract_zone();
  auto c = parse(R"(alerts:
  channels: [{name: ops, type: wecom, url: "http://127.0.0.1:1/"}]
  people: [{id: a, name: A}, {id: b, name: B}]
  duty: {rotation: [a, b], period: weekly, start: 2026-11-30, handover: "10:30"}
)");
  // Monday 2026-11-30 10:30 a takes over for a week; Monday 2026-12-07 10:30 b.
  CHECK(duty_at(c.duty, kTue + 5 * kDay, c.holidays).person == "a");
  auto d = duty_at(c.duty, kTue + 6 * kDay + 10 * kHour + 29 * kMin, c.holidays);
  CHECK(d.person == "a");
  CHECK(d.next_handover_ms == kTue + 6 * kDay + 10 * kHour + 30 * kMin);
  CHECK(duty_at(c.duty, kTue + 6 * kDay + 10 * kHour + 30 * kMin, c.holidays).person == "b");
}

TEST_CASE("routes match severity, labels and time of day, first match wins unless continue") {
  contract_zone();
  const AlertsConfig c = parse(kBase + R"(  routes:
    - name: db
      match: ["role=~db|cache"]
      channels: [db-team]
      continue: true
    - name: night-critical
      severity: [critical]
      days: mon-fri
      time: "18:00-09:00"
      holidays: skip
      channels: [night, sms]
      to: [on_duty]
    - name: holiday
      severity: [critical]
      holidays: only
      channels: [sms]
      to: [on_duty, pm]
    - name: working-hours
      severity: [critical, warning]
      channels: [ops]
  default_route: {channels: [ops]}
)");
  REQUIRE(c.routes.size() == 4);
  // Tuesday 14:00, critical web: working hours.
  CHECK(where(c, alert(Status::kCritical), kTue + 14 * kHour) == std::vector<std::string>{"ops>"});
  // Tuesday 22:00: night — the night group and an SMS to the on-duty engineer (li since 09:00).
  CHECK(where(c, alert(Status::kCritical), kTue + 22 * kHour) ==
        std::vector<std::string>{"night>", "sms>13800000002"});
  // Wednesday 03:00 belongs to Tuesday's night window: still li until 09:00.
  CHECK(where(c, alert(Status::kCritical), kTue + kDay + 3 * kHour) ==
        std::vector<std::string>{"night>", "sms>13800000002"});
  // A warning at night is not critical: working-hours route (it takes warnings at any time).
  CHECK(where(c, alert(Status::kWarning), kTue + 22 * kHour) == std::vector<std::string>{"ops>"});
  // A db alert: the db route, and `continue` lets the night route add its deliveries.
  CHECK(where(c, alert(Status::kCritical, {{"role", "db"}}), kTue + 22 * kHour) ==
        std::vector<std::string>{"db-team>", "night>", "sms>13800000002"});
  // 国庆 22:00: the night route skips holidays; the holiday route: the stand-in and the PM.
  CHECK(where(c, alert(Status::kCritical), kOct1 + 22 * kHour) ==
        std::vector<std::string>{"sms>13800000003", "sms>13800000009"});
  // An unknown (no data) alert matches nothing: the default route.
  CHECK(where(c, alert(Status::kUnknown), kTue + 14 * kHour) == std::vector<std::string>{"ops>"});
}

TEST_CASE(
    "the pipeline sends an alert's messages where its routes point, with the recipient in the "
    "key") {
  contract_zone();
  AlertsConfig c = parse(kBase + R"(  routes:
    - {severity: [critical], channels: [ops, sms], to: [on_duty, pm]}
)");
  c.rules.no_data_intervals = 1000;
  test::MemoryAlertStore store;
  std::int64_t now = kTue + 22 * kHour;
  AlertPipeline p(store, c, {}, [&] { return now; });
  Result r;
  r.check = "proc:nginx";
  r.kind = "process";
  r.status = Status::kCritical;
  r.ts_ms = now;
  p.on_results(Subject{"web-01", {}}, {r});
  std::vector<std::string> keys;
  for (const auto& m : store.outbox) {
    if (m.transition == "firing")
      keys.push_back(m.channel + ">" + m.recipient + " " +
                     m.idempotency_key.substr(m.idempotency_key.find("/firing/")));
  }
  CHECK(keys == std::vector<std::string>{"ops> /firing/ops/#1",
                                         "sms>13800000002 /firing/sms/13800000002#1",
                                         "sms>13800000009 /firing/sms/13800000009#1"});
  // A warning matches no route and there is no default route: every channel, never nobody.
  r.check = "disk:/";
  r.status = Status::kWarning;
  c.rules.for_warning = {};
  now += kHour;  // 23:00, still li on duty
  r.ts_ms = now;
  AlertPipeline p2(store, c, {}, [&] { return now; });
  p2.on_results(Subject{"web-02", {}}, {r});
  std::set<std::string> channels;
  for (const auto& m : store.outbox) {
    if (m.fingerprint != store.outbox.front().fingerprint)
      channels.insert(m.channel + ">" + m.recipient);
  }
  CHECK(channels == std::set<std::string>{"ops>", "night>", "db-team>", "sms>13800000002"});
}

TEST_CASE("routing config errors name the file, line and key") {
  CHECK_THAT(error_of(kBase + "  routes:\n    - {channels: [ops], to: [nobody]}\n"),
             Catch::Contains("collector.yaml:") && Catch::Contains("alerts.routes[0]") &&
                 Catch::Contains("'to'") && Catch::Contains("no person with id 'nobody'"));
  CHECK_THAT(error_of(kBase + "  routes:\n    - {channels: [ops], match: [role]}\n"),
             Catch::Contains("'match'") && Catch::Contains("operator"));
  CHECK_THAT(error_of(kBase + "  routes:\n    - {channels: [ops], time: \"9-18\"}\n"),
             Catch::Contains("'time'") && Catch::Contains("9-18"));
  CHECK_THAT(error_of(kBase + "  routes:\n    - {channels: [ops], continu: true}\n"),
             Catch::Contains("continu"));
  CHECK_THAT(
      error_of(kBase +
               "  routes:\n    - channels: [ops]\n      escalate:\n        - {after: 30m, "
               "channels: [sms], to: [pm]}\n        - {after: 10m, channels: [sms], to: [pm]}\n"),
      Catch::Contains("alerts.routes[0].escalate[1]") && Catch::Contains("after the one before"));
  CHECK_THAT(error_of(kBase + "  routes:\n    - {name: a, channels: [ops]}\n    - {name: a, channels: [night]}\n"),
             Catch::Contains("alerts.routes[1]") && Catch::Contains("route 'a' is defined twice"));
  CHECK_THAT(error_of("alerts:\n  people: [{id: x, name: X}, {id: x, name: Y}]\n"),
             Catch::Contains("alerts.people[1]") && Catch::Contains("person 'x' is defined twice"));
  CHECK_THAT(error_of(R"(alerts:
  people: [{id: a, name: A}]
  duty: {rotation: [a], start: 2026-02-30}
)"),
             Catch::Contains("alerts.duty") && Catch::Contains("'start'") &&
                 Catch::Contains("2026-02-30"));
  CHECK_THAT(error_of(R"(alerts:
  people: [{id: a, name: A, phone: "call me"}]
)"),
             Catch::Contains("alerts.people[0]") && Catch::Contains("'phone'"));
  CHECK_THAT(error_of(R"(alerts:
  channels: [{name: ops, type: wecom, url: "http://127.0.0.1:1/"}]
  routes: [{channels: [ops], to: [on_duty]}]
)"),
             Catch::Contains("'on_duty' needs alerts.duty"));
  // A person routed to an SMS channel needs a phone; the roster's people too, for on_duty.
  // Only checkable once the loader knows the sms_http type (part B); until then say so.
  if (!known_channel_type("sms_http")) {
    WARN("sms_http is not a channel type in this build: person-address validation not exercised");
    return;
  }
  CHECK_THAT(
      error_of("alerts:\n  channels: [{name: sms, type: sms_http, url: \"http://127.0.0.1:1/\"}]\n"
               "  routes: [{channels: [sms]}]\n"),
      Catch::Contains("channel 'sms' sends to people"));
  const std::string nophone = R"(alerts:
  channels: [{name: sms, type: sms_http, url: "http://127.0.0.1:1/"}]
  people: [{id: a, name: A, phone: "13800000001"}, {id: b, name: B, email: b@example.com}]
  duty: {rotation: [a, b], start: 2026-11-30}
  routes: [{channels: [sms], to: [on_duty]}]
)";
  CHECK_THAT(error_of(nophone), Catch::Contains("person 'b' has no phone for channel 'sms'"));
}
