// End to end with real processes: xunjian-collector and xunjian-agent as built, a `sleep` child
// watched by a process check, and tests/fixtures/robot_receiver.py standing in for the WeCom
// group robot (it enforces the robot's key, markdown type, 4096-byte limit and rate limit),
// and xunjianctl as built for the incident commands.
#include <cstdlib>
#include <ctime>
#include <map>

#include "../integration/fleet.hpp"
#include "robot_receiver.hpp"

using namespace xj::itest;
using xj::alerts::test::FixtureProcess;
using xj::alerts::test::RobotReceiver;

namespace {

// A collector with an alerts section sending to the local WeCom receiver on `rx_port`.
struct AlertingCollector {
  fs::path dir;
  std::uint16_t port = free_port();
  std::unique_ptr<Child> child;

  // extra: more of the alerts: section, starting with further channels (list items).
  AlertingCollector(const fs::path& d, std::uint16_t rx_port, const std::string& extra = "") : dir(d) {
    fs::create_directories(dir);
    ::setenv("XJ_TEST_WECOM_KEY", "wecom-key", 1);
    write_file(dir / "collector.yaml",
               "collector:\n"
               "  listen: 127.0.0.1:" + std::to_string(port) + "\n"
               "  store: " + (dir / "collector.db").string() + "\n"
               "  heartbeat: 1s\n"
               "  read_timeout: 2s\n"
               "  log_level: debug\n"
               "contract:\n"
               "  customer: 集成测试\n"
               "alerts:\n"
               "  console_url: http://console.example\n"
               "  retry: {initial: 200ms, max: 1s}\n"
               "  channels:\n"
               "    - name: ops-group\n"
               "      type: wecom\n"
               "      url: http://127.0.0.1:" + std::to_string(rx_port) + "/cgi-bin/webhook/send\n"
               "      key_env: XJ_TEST_WECOM_KEY\n" + extra);
  }
  std::string config() const { return (dir / "collector.yaml").string(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
  fs::path db() const { return dir / "collector.db"; }
  void start() {
    child = std::make_unique<Child>(kCollector, std::vector<std::string>{"serve", "-c", config()},
                                    dir / "collector.log");
    bool up = wait_until(20s, [&] { return child->running() && http("GET", url() + "/healthz").status == 200; });
    if (!up) FAIL("collector did not come up; log:\n" << slurp(dir / "collector.log"));
  }
  std::string agent_token(const std::string& agent, const fs::path& file) {
    auto r = run(kCollector, {"token", "create", "--agent", agent, "-c", config()}, dir);
    REQUIRE(r.exit_code == 0);
    write_file(file, token_line(r.out) + "\n");
    return token_line(r.out);
  }
  // An API token of `role`, written to `file` for xunjianctl --token-file.
  std::string api_token(const std::string& name, const std::string& role, const fs::path& file) {
    auto r = run(kCollector, {"token", "create", "--api", name, "--role", role, "-c", config()}, dir);
    REQUIRE(r.exit_code == 0);
    write_file(file, token_line(r.out) + "\n");
    return token_line(r.out);
  }
  nlohmann::json get_json(const std::string& path, const std::string& token) const {
    auto r = http("GET", url() + path, token);
    INFO(path << " -> " << r.status << " " << r.error << " " << r.body);
    REQUIRE(r.status == 200);
    return r.json();
  }
  std::optional<std::int64_t> status_of(const std::string& check) const {
    return sql_int(db(), "SELECT status FROM checks WHERE check_id = '" + check + "'");
  }
};

std::string process_check(const std::string& id, const std::string& regex) {
  return "  - kind: process\n"
         "    id: " + id + "\n"
         "    cmdline: '" + regex + "'\n"
         "    restart_warn: false\n";
}

// Waits for the n-th WeCom message, then a while more in which the agent keeps reporting:
// exactly n must have arrived. The n-th's text.
std::string nth_and_no_more(const RobotReceiver& rx, std::size_t n) {
  REQUIRE(wait_until(30s, [&] { return rx.accepted("wecom").size() >= n; }));
  std::this_thread::sleep_for(3s);
  auto got = rx.accepted("wecom");
  REQUIRE(got.size() == n);
  return got[n - 1]["content"];
}

std::map<std::string, int> count_by_key(const std::vector<nlohmann::json>& got) {
  std::map<std::string, int> n;
  for (const auto& e : got) ++n[e["key"].get<std::string>()];
  return n;
}

}  // namespace

TEST_CASE("a killed process gives exactly one WeCom alert, and its restart exactly one recovery") {
  auto dir = scratch_dir("alerts-e2e-process");
  RobotReceiver rx(dir / "rx");
  AlertingCollector collector(dir / "collector", rx.port());
  // A sleep nobody else runs: its length is unique to this test process.
  const std::string secs = std::to_string(900000 + ::getpid() % 99999);
  auto sleeper = std::make_unique<Child>("/bin/sleep", std::vector<std::string>{secs}, dir / "sleep.log");
  collector.start();
  AgentOptions ao;
  ao.id = "e2e-01";
  ao.collector_url = collector.url();
  ao.token_file = dir / "agent.token";
  ao.checks = process_check("proc:sleeper", "^/bin/sleep " + secs + "$");
  collector.agent_token(ao.id, ao.token_file);
  const std::string viewer = collector.api_token("watcher", "viewer", dir / "viewer.token");
  AgentProc agent(dir / "agent", ao);
  agent.start();
  REQUIRE(wait_until(30s, [&] { return collector.status_of("proc:sleeper") == 0; }));
  CHECK(rx.entries().empty());  // an ok check sends nothing

  sleeper->kill(SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  REQUIRE(wait_until(30s, [&] { return !rx.accepted("wecom").empty(); }));
  const auto latency = std::chrono::steady_clock::now() - killed;
  std::this_thread::sleep_for(3s);  // more results of the dead process arrive meanwhile
  auto got = rx.accepted("wecom");
  REQUIRE(got.size() == 1);
  const std::string alert = got[0]["content"];
  INFO(alert);
  CHECK_THAT(alert, Catch::Contains("【严重】"));
  CHECK_THAT(alert, Catch::Contains("e2e-01"));
  CHECK_THAT(alert, Catch::Contains("proc:sleeper"));
  CHECK_THAT(alert, Catch::Contains("集成测试平台"));  // the agent's system label
  CHECK_THAT(alert, Catch::Contains("开始时间"));
  CHECK_THAT(alert, Catch::Contains("count：0"));  // value vs threshold
  CHECK_THAT(alert, Catch::Contains("http://console.example/console/hosts/e2e-01"));
  CHECK_THAT(alert, Catch::Contains("故障单：INC-0001（一级故障）"));  // the incident it opened
  // Bounded: one agent interval (1s) plus shipping; generous for sanitizer builds on a loaded box.
  CHECK(latency < 15s);

  sleeper = std::make_unique<Child>("/bin/sleep", std::vector<std::string>{secs}, dir / "sleep.log");
  REQUIRE(wait_until(30s, [&] { return rx.accepted("wecom").size() >= 2; }));
  std::this_thread::sleep_for(3s);
  got = rx.accepted("wecom");
  REQUIRE(got.size() == 2);
  const std::string recovery = got[1]["content"];
  INFO(recovery);
  CHECK_THAT(recovery, Catch::Contains("【已恢复】"));
  CHECK_THAT(recovery, Catch::Contains("proc:sleeper"));
  CHECK_THAT(recovery, Catch::Contains("持续时长"));
  CHECK_THAT(recovery, Catch::Contains("INC-0001"));
  CHECK(rx.rejected().empty());
  CHECK(sql_int(collector.db(), "SELECT count(*) FROM outbox WHERE status = 1") == 2);

  // The incident, as the API shows it: one, P1, resolved with its alert, both on the timeline.
  auto list = collector.get_json("/api/v1/incidents", viewer);
  REQUIRE(list["incidents"].size() == 1);
  auto inc = collector.get_json("/api/v1/incidents/1", viewer);
  INFO(inc.dump(2));
  CHECK(inc["number"] == "INC-0001");
  CHECK(inc["level"] == "P1");
  CHECK(inc["state"] == "resolved");
  CHECK(inc["host"] == "e2e-01");
  CHECK(inc["system"] == "集成测试平台");
  CHECK(inc["respond_due"].get<std::int64_t>() - inc["opened"].get<std::int64_t>() == 30 * 60'000);
  CHECK(inc["repair_due"].get<std::int64_t>() - inc["opened"].get<std::int64_t>() == 2 * 3'600'000);
  CHECK(inc["repair_breached"] == false);
  REQUIRE(inc["alerts"].size() == 1);
  CHECK(inc["alerts"][0]["check"] == "proc:sleeper");
  std::vector<std::string> kinds;
  for (const auto& e : inc["timeline"]) kinds.push_back(e["kind"]);
  CHECK(kinds == std::vector<std::string>{"opened", "alert_firing", "alert_resolved", "resolved"});
  // Reading needs a viewer; acting an operator.
  CHECK(http("POST", collector.url() + "/api/v1/incidents/1/close", viewer, "{}").status == 403);
  CHECK(http("GET", collector.url() + "/api/v1/incidents/1").status == 401);
}

TEST_CASE("a collector SIGKILLed with messages pending delivers every one after restart, none twice") {
  auto dir = scratch_dir("alerts-e2e-sigkill");
  const std::uint16_t rx_port = free_port();
  // Grouping off: the receiver counts each outbox message by its own key (grouped, the 8 would
  // be one message; the storm test below accounts for combined messages).
  AlertingCollector collector(dir / "collector", rx_port, "  grouping: {window: 0s}\n");
  collector.start();
  AgentOptions ao;
  ao.id = "e2e-02";
  ao.collector_url = collector.url();
  ao.token_file = dir / "agent.token";
  constexpr int kAlerts = 8;
  ao.checks.clear();  // only checks whose outcome is certain: the default cpu/load may go red here
  for (int i = 0; i < kAlerts; ++i) {
    ao.checks += process_check("proc:missing-" + std::to_string(i), "^no-such-program-" + std::to_string(i) + "$");
  }
  collector.agent_token(ao.id, ao.token_file);
  AgentProc agent(dir / "agent", ao);
  agent.start();
  // The receiver is not there yet: every message fails and stays in the outbox.
  REQUIRE(wait_until(30s, [&] {
    return sql_int(collector.db(), "SELECT count(*) FROM outbox WHERE status = 0 AND attempts > 0") >= 1 &&
           sql_int(collector.db(), "SELECT count(*) FROM outbox") == kAlerts;
  }));
  collector.child->kill(SIGKILL);
  CHECK(sql_int(collector.db(), "SELECT count(*) FROM outbox WHERE status = 0") == kAlerts);

  RobotReceiver rx(dir / "rx", {}, rx_port);
  collector.start();
  REQUIRE(wait_until(30s, [&] { return static_cast<int>(rx.accepted("wecom").size()) >= kAlerts; }));
  std::this_thread::sleep_for(3s);  // the agent keeps reporting the same problems meanwhile
  auto by_key = count_by_key(rx.accepted("wecom"));
  CHECK(static_cast<int>(by_key.size()) == kAlerts);
  for (const auto& [key, n] : by_key) {
    INFO(key);
    CHECK(n == 1);
  }
  CHECK(rx.rejected().empty());
  CHECK(sql_int(collector.db(), "SELECT count(*) FROM outbox WHERE status = 1") == kAlerts);
}

TEST_CASE("an operator opens, acknowledges, notes, resolves and closes an incident with xunjianctl, every step audited") {
  auto dir = scratch_dir("alerts-e2e-incident-ctl");
  RobotReceiver rx(dir / "rx");
  AlertingCollector collector(dir / "collector", rx.port());
  collector.start();
  collector.api_token("zhangsan", "operator", dir / "operator.token");
  collector.api_token("lisi", "viewer", dir / "viewer.token");
  auto ctl = [&](const std::string& token, std::vector<std::string> args) {
    std::vector<std::string> all{"--url", collector.url(), "--token-file", (dir / token).string(), "--tz", "UTC"};
    all.insert(all.end(), args.begin(), args.end());
    auto r = run(XJ_CTL_BIN, all, dir);
    INFO("xunjianctl " << args[0] << " " << args[1] << " -> " << r.exit_code << "\n" << r.out);
    return r;
  };
  auto opened = ctl("operator.token", {"incident", "open", "--title", "存证接口超时", "--level", "P2", "--host", "app-01"});
  REQUIRE(opened.exit_code == 0);
  CHECK_THAT(opened.out, Catch::Contains("INC-0001"));
  // The people on duty hear of it: one message naming the number and the level.
  REQUIRE(wait_until(20s, [&] { return !rx.accepted("wecom").empty(); }));
  const std::string notice = rx.accepted("wecom")[0]["content"];
  CHECK_THAT(notice, Catch::Contains("INC-0001"));
  CHECK_THAT(notice, Catch::Contains("二级故障"));
  CHECK_THAT(notice, Catch::Contains("api:zhangsan"));

  auto denied = ctl("viewer.token", {"incident", "ack", "INC-0001"});
  CHECK(denied.exit_code == 1);
  CHECK_THAT(denied.out, Catch::Contains("403"));
  CHECK(ctl("operator.token", {"incident", "ack", "INC-0001", "--note", "已到场"}).exit_code == 0);
  CHECK(ctl("operator.token", {"incident", "note", "1", "重启存证服务"}).exit_code == 0);
  auto early = ctl("operator.token", {"incident", "close", "1"});
  CHECK(early.exit_code == 1);
  CHECK_THAT(early.out, Catch::Contains("409"));
  CHECK_THAT(early.out, Catch::Contains("resolve it before closing it"));
  CHECK(ctl("operator.token", {"incident", "resolve", "1", "--cause", "连接池耗尽", "--handling", "扩大连接池并重启",
                               "--impact", "存证提交失败 10 分钟"})
            .exit_code == 0);
  CHECK(ctl("operator.token", {"incident", "close", "1"}).exit_code == 0);

  auto shown = ctl("viewer.token", {"incident", "show", "INC-0001"});
  REQUIRE(shown.exit_code == 0);
  CHECK_THAT(shown.out, Catch::Contains("closed"));
  CHECK_THAT(shown.out, Catch::Contains("api:zhangsan"));
  CHECK_THAT(shown.out, Catch::Contains("重启存证服务"));
  auto listed = ctl("viewer.token", {"incident", "list", "--state", "closed"});
  REQUIRE(listed.exit_code == 0);
  CHECK_THAT(listed.out, Catch::Contains("INC-0001"));
  CHECK_THAT(listed.out, Catch::Contains("P2"));
  auto report = ctl("viewer.token", {"incident", "report", "1"});
  REQUIRE(report.exit_code == 0);
  CHECK_THAT(report.out, Catch::Contains("# 故障报告 INC-0001"));
  CHECK_THAT(report.out, Catch::Contains("连接池耗尽"));
  CHECK_THAT(report.out, Catch::Contains("| 响应 | 30m"));
  CHECK_THAT(report.out, Catch::Contains("| 修复 | 3h"));
  CHECK(ctl("viewer.token", {"incident", "show", "abc"}).exit_code == 2);

  // Each action in the SM3-chained audit log, under the token's name, and the chain holds.
  for (const char* action : {"incident.open", "incident.ack", "incident.note", "incident.resolve", "incident.close"}) {
    INFO(action);
    CHECK(sql_int(collector.db(), std::string("SELECT count(*) FROM audit WHERE actor = 'api:zhangsan' AND action = '") +
                                      action + "' AND object = 'incident:INC-0001'") == 1);
  }
  auto verify = run(kCollector, {"audit", "verify", "-c", collector.config()}, dir);
  CHECK(verify.exit_code == 0);
}

TEST_CASE("a silence and a maintenance window added with xunjianctl mute killed processes' alerts, which are still recorded, and expiring the silence sends its alert once") {
  auto dir = scratch_dir("alerts-e2e-silence");
  RobotReceiver rx(dir / "rx");
  AlertingCollector collector(dir / "collector", rx.port());
  const std::string secs = std::to_string(800000 + ::getpid() % 99999);
  const std::string secs_b = std::to_string(700000 + ::getpid() % 99999);
  auto sleeper_a = std::make_unique<Child>("/bin/sleep", std::vector<std::string>{secs}, dir / "sleep-a.log");
  auto sleeper_b = std::make_unique<Child>("/bin/sleep", std::vector<std::string>{secs_b}, dir / "sleep-b.log");
  collector.start();
  AgentOptions ao;
  ao.id = "e2e-03";
  ao.collector_url = collector.url();
  ao.token_file = dir / "agent.token";
  ao.checks = process_check("proc:a", "^/bin/sleep " + secs + "$") + process_check("proc:b", "^/bin/sleep " + secs_b + "$");
  collector.agent_token(ao.id, ao.token_file);
  collector.api_token("zhangsan", "operator", dir / "operator.token");
  auto ctl = [&](std::vector<std::string> args) {
    std::vector<std::string> all{"--url", collector.url(), "--token-file", (dir / "operator.token").string(), "--tz", "UTC"};
    all.insert(all.end(), args.begin(), args.end());
    auto r = run(XJ_CTL_BIN, all, dir);
    INFO("xunjianctl " << args[0] << " " << args[1] << " -> " << r.exit_code << "\n" << r.out);
    return r;
  };
  // A window ending in an hour, typed as an operator would (local time of --tz).
  std::time_t in_an_hour = std::time(nullptr) + 3600;
  std::tm tm{};
  gmtime_r(&in_an_hour, &tm);
  char until[32];
  std::strftime(until, sizeof until, "%Y-%m-%d %H:%M", &tm);
  auto silence = ctl({"silence", "add", "--match", "host=e2e-03", "--match", "check=proc:a", "--for", "1h", "--comment", "升级中"});
  REQUIRE(silence.exit_code == 0);
  CHECK_THAT(silence.out, Catch::Contains("S-1"));
  auto window = ctl({"maintenance", "add", "--match", "check=proc:b", "--to", until, "--comment", "机房断电演练"});
  REQUIRE(window.exit_code == 0);
  CHECK_THAT(window.out, Catch::Contains("M-2"));
  auto listed = ctl({"silence", "list"});
  CHECK_THAT(listed.out, Catch::Contains("check=proc:a"));
  CHECK_THAT(listed.out, !Catch::Contains("M-2"));  // windows are listed by `maintenance list`
  CHECK_THAT(ctl({"maintenance", "list"}).out, Catch::Contains("机房断电演练"));
  CHECK(ctl({"silence", "add", "--match", "host", "--for", "1h", "--comment", "x"}).exit_code == 1);  // bad matcher: 400

  AgentProc agent(dir / "agent", ao);
  agent.start();
  REQUIRE(wait_until(30s, [&] { return collector.status_of("proc:a") == 0 && collector.status_of("proc:b") == 0; }));
  sleeper_a->kill(SIGKILL);
  sleeper_b->kill(SIGKILL);
  // Both alerts fire and are recorded, their messages kept as suppressed.
  REQUIRE(wait_until(30s, [&] {
    return sql_int(collector.db(), "SELECT count(*) FROM outbox WHERE status = 3 AND transition = 'firing'") == 2;
  }));
  CHECK(sql_int(collector.db(), "SELECT count(*) FROM alerts WHERE state = 'firing'") == 2);
  // The silence mutes, the fault is still a fault: an incident for proc:a; none for planned work.
  CHECK(sql_int(collector.db(), "SELECT count(*) FROM incidents") == 1);
  std::this_thread::sleep_for(3s);
  CHECK(rx.accepted("wecom").empty());

  REQUIRE(ctl({"silence", "expire", "S-1"}).exit_code == 0);
  REQUIRE(wait_until(20s, [&] { return !rx.accepted("wecom").empty(); }));
  std::this_thread::sleep_for(3s);
  auto got = rx.accepted("wecom");
  REQUIRE(got.size() == 1);  // proc:a's alert, once; proc:b stays muted by the window
  const std::string text = got[0]["content"];
  CHECK_THAT(text, Catch::Contains("proc:a"));
  CHECK_THAT(text, Catch::Contains("INC-0001"));
  CHECK(sql_int(collector.db(), "SELECT count(*) FROM outbox WHERE status = 3") == 1);
  CHECK(ctl({"silence", "expire", "1"}).exit_code == 1);  // already ended: 409
  for (const char* action : {"silence.add", "maintenance.add", "silence.expire"}) {
    INFO(action);
    CHECK(sql_int(collector.db(), std::string("SELECT count(*) FROM audit WHERE actor = 'api:zhangsan' AND action = '") +
                                      action + "'") == 1);
  }
}

// Escalation: level 1 (ops-group, receiver A) at once; level 2 (a second WeCom group,
// receiver B, standing in for the SMS to the on-duty engineer that part B's channels carry)
// after `after` when nobody acknowledges the incident; nothing to B when it is acknowledged.
namespace {

std::string escalation_extra(std::uint16_t rx2_port, const std::string& after) {
  return "    - name: duty-group\n"
         "      type: wecom\n"
         "      url: http://127.0.0.1:" + std::to_string(rx2_port) + "/cgi-bin/webhook/send\n"
         "      key_env: XJ_TEST_WECOM_KEY\n"
         "  repeat_interval: 0s\n"
         "  people:\n"
         "    - {id: zhang, name: 张三, phone: \"13800000001\"}\n"
         "    - {id: li, name: 李四, phone: \"13800000002\"}\n"
         "  duty: {rotation: [zhang, li], handover: \"09:00\", start: 2026-11-30}\n"
         "  routes:\n"
         "    - channels: [ops-group]\n"
         "      to: [on_duty]\n"
         "      escalate:\n"
         "        - {after: " + after + ", channels: [duty-group], to: [on_duty]}\n";
}

int texts_with(const std::vector<nlohmann::json>& got, const std::string& needle) {
  int n = 0;
  for (const auto& e : got) n += e.dump().find(needle) != std::string::npos;
  return n;
}

// Two receivers, a collector escalating from the first to the second after `after`, an API
// token of `role`, and an agent whose one process check fails at once (P1: an incident).
struct EscalationRig {
  fs::path dir;
  RobotReceiver rx, rx2;
  AlertingCollector collector;
  std::string token;
  std::unique_ptr<AgentProc> agent;
  EscalationRig(const std::string& name, const std::string& after, const std::string& role)
      : dir(scratch_dir(name)), rx(dir / "rx"), rx2(dir / "rx2"),
        collector(dir / "collector", rx.port(), escalation_extra(rx2.port(), after)) {
    collector.start();
    AgentOptions ao;
    ao.id = name;
    ao.collector_url = collector.url();
    ao.token_file = dir / "agent.token";
    ao.checks = process_check("proc:missing", "^no-such-program-" + name + "$");
    collector.agent_token(ao.id, ao.token_file);
    token = collector.api_token("zhang", role, dir / "api.token");
    agent = std::make_unique<AgentProc>(dir / "agent", ao);
    agent->start();
  }
};

}  // namespace

TEST_CASE("an alert nobody acknowledges escalates to the second level after its delay, once") {
  EscalationRig rig("alerts-e2e-escalate", "3s", "viewer");
  auto& [dir, rx, rx2, collector, viewer, agent] = rig;
  REQUIRE(wait_until(30s, [&] { return rx.accepted("wecom").size() >= 1; }));
  const auto fired = std::chrono::steady_clock::now();
  CHECK(rx2.accepted("wecom").empty());
  REQUIRE(wait_until(30s, [&] { return rx2.accepted("wecom").size() >= 1; }));
  // Not before its delay (3s since the alert fired; the first message left at once).
  CHECK(std::chrono::steady_clock::now() - fired >= 2s);
  std::this_thread::sleep_for(3s);
  const auto level2 = rx2.accepted("wecom");
  CHECK(level2.size() == 1);
  CHECK(texts_with(level2, "升级至第 2 级") == 1);
  CHECK(rx.accepted("wecom").size() == 1);  // level 1 got its one message, no more
  CHECK(rx.rejected().empty());
  CHECK(rx2.rejected().empty());
  // The incident's timeline records the escalation.
  auto inc = collector.get_json("/api/v1/incidents/1", viewer);
  int escalated = 0;
  for (const auto& e : inc["timeline"]) escalated += e.value("kind", "") == "escalated";
  INFO(inc.dump());
  CHECK(escalated == 1);
  // Who is on duty: through the API and xunjianctl (its people are in the config above).
  auto duty = collector.get_json("/api/v1/duty", viewer);
  CHECK((duty["on_duty"]["id"] == "zhang" || duty["on_duty"]["id"] == "li"));
  CHECK(duty["next"]["at"].get<std::int64_t>() > duty["now"].get<std::int64_t>());
  auto r = run(XJ_CTL_BIN, {"--url", collector.url(), "--token-file", (dir / "api.token").string(), "--tz", "UTC", "duty"}, dir);
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("on duty:") && Catch::Contains("handover:") &&
                        (Catch::Contains("张三 (zhang)") || Catch::Contains("李四 (li)")));
}

TEST_CASE("acknowledging the incident before the escalation delay means no second-level message") {
  EscalationRig rig("alerts-e2e-escalate-ack", "6s", "operator");
  auto& [dir, rx, rx2, collector, op, agent] = rig;
  REQUIRE(wait_until(30s, [&] { return rx.accepted("wecom").size() >= 1; }));
  auto ack = http("POST", collector.url() + "/api/v1/incidents/1/ack", op, R"({"text":"已到场"})");
  INFO(ack.body);
  REQUIRE(ack.status == 200);
  std::this_thread::sleep_for(9s);  // past the 6s delay
  CHECK(rx2.accepted("wecom").empty());
  CHECK(rx.accepted("wecom").size() == 1);
}

TEST_CASE("Alertmanager's webhook becomes one alert, one incident and one recovery") {
  // The real payload shape (Alertmanager webhook version 4) from tests/fixtures/alertmanager.
  auto dir = scratch_dir("alerts-e2e-alertmanager");
  RobotReceiver rx(dir / "rx");
  AlertingCollector collector(dir / "collector", rx.port());
  collector.start();
  const std::string op = collector.api_token("prometheus", "operator", dir / "op.token");
  const std::string viewer = collector.api_token("watcher", "viewer", dir / "viewer.token");
  const std::string firing = slurp(fs::path(XJ_SOURCE_DIR) / "tests/fixtures/alertmanager/firing.json");
  const std::string resolved = slurp(fs::path(XJ_SOURCE_DIR) / "tests/fixtures/alertmanager/resolved.json");
  const std::string url = collector.url() + "/api/v1/alertmanager";

  CHECK(http("POST", url, "", firing).status == 401);
  CHECK(http("POST", url, viewer, firing).status == 403);
  auto bad = http("POST", url, op, R"({"version":"4","alerts":[{"status":"burning","labels":{"alertname":"X"}}]})");
  CHECK(bad.status == 400);
  CHECK_THAT(bad.body, Catch::Contains("alerts[0].status"));
  auto nolabels = http("POST", url, op, R"({"version":"4","alerts":[{"status":"firing"}]})");
  CHECK(nolabels.status == 400);
  CHECK_THAT(nolabels.body, Catch::Contains("alerts[0].labels"));

  auto r = http("POST", url, op, firing);
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r.json()["firing"] == 1);
  REQUIRE(wait_until(20s, [&] { return !rx.accepted("wecom").empty(); }));
  // Alertmanager repeats a firing group every repeat_interval: the same alert is not sent twice.
  REQUIRE(http("POST", url, op, firing).status == 200);
  std::this_thread::sleep_for(2s);
  auto got = rx.accepted("wecom");
  REQUIRE(got.size() == 1);
  const std::string alert = got[0]["content"];
  INFO(alert);
  CHECK_THAT(alert, Catch::Contains("【严重】10.0.0.5:9100 NodeFilesystemAlmostFull"));
  CHECK_THAT(alert, Catch::Contains("系统：电子政务外网"));
  CHECK_THAT(alert, Catch::Contains("Filesystem /data on 10.0.0.5:9100 has 3% space left"));
  CHECK_THAT(alert, Catch::Contains("2026-11-22"));  // since Alertmanager's startsAt
  CHECK_THAT(alert, Catch::Contains("故障单：INC-0001"));

  REQUIRE(http("POST", url, op, resolved).status == 200);
  REQUIRE(wait_until(20s, [&] { return rx.accepted("wecom").size() >= 2; }));
  REQUIRE(http("POST", url, op, resolved).status == 200);  // a repeated resolve sends nothing
  std::this_thread::sleep_for(2s);
  got = rx.accepted("wecom");
  REQUIRE(got.size() == 2);
  const std::string recovery = got[1]["content"];
  INFO(recovery);
  CHECK_THAT(recovery, Catch::Contains("【已恢复】10.0.0.5:9100 NodeFilesystemAlmostFull"));
  CHECK_THAT(recovery, Catch::Contains("持续时长：30m29s"));
  CHECK(rx.rejected().empty());

  auto inc = collector.get_json("/api/v1/incidents/1", viewer);
  INFO(inc.dump(2));
  CHECK(inc["host"] == "10.0.0.5:9100");
  REQUIRE(inc["alerts"].size() == 1);
  CHECK(inc["alerts"][0]["check"] == "NodeFilesystemAlmostFull");
  CHECK(collector.get_json("/api/v1/incidents", viewer)["incidents"].size() == 1);
}

TEST_CASE("an e-mail alert through the real collector: 451 first, delivered on the retry, once") {
  auto dir = scratch_dir("alerts-e2e-email");
  RobotReceiver rx(dir / "rx");
  FixtureProcess smtp(dir / "smtp", "smtp_receiver.py",
                      {"--tempfail", "oncall@example.com", "--reject", "gone@example.com"});
  AlertingCollector collector(dir / "collector", rx.port(),
                              "    - name: mail\n"
                              "      type: email\n"
                              "      url: smtp://127.0.0.1:" + std::to_string(smtp.port()) + "\n"
                              "      starttls: false\n"
                              "      from: xunjian@example.com\n"
                              "      to: [oncall@example.com, gone@example.com]\n"
                              "  maintenance:\n"
                              "    - matchers: [host=nowhere-01]\n"
                              "      comment: 机房搬迁\n"
                              "      days: sat,sun\n"
                              "      time: 22:00-02:00\n");
  collector.start();
  const std::string op = collector.api_token("prometheus", "operator", dir / "op.token");
  const std::string firing = slurp(fs::path(XJ_SOURCE_DIR) / "tests/fixtures/alertmanager/firing.json");
  REQUIRE(http("POST", collector.url() + "/api/v1/alertmanager", op, firing).status == 200);
  REQUIRE(wait_until(30s, [&] { return !smtp.with_accepted(true).empty(); }));
  std::this_thread::sleep_for(2s);
  auto got = smtp.with_accepted(true);
  REQUIRE(got.size() == 1);
  CHECK(got[0]["rcpt"][0] == "oncall@example.com");
  CHECK_THAT(got[0]["subject"].get<std::string>(), Catch::Contains("【严重】10.0.0.5:9100 NodeFilesystemAlmostFull"));
  CHECK_THAT(got[0]["body"].get<std::string>(), Catch::Contains("主机：10.0.0.5:9100"));
  // Delivered after one 451; the 550 recipient failed for good, with the server's words kept.
  CHECK(sql_int(collector.db(), "SELECT attempts FROM outbox WHERE recipient = 'oncall@example.com' AND status = 1") == 2);
  CHECK(sql_int(collector.db(), "SELECT count(*) FROM outbox WHERE recipient = 'gone@example.com' AND status = 2 "
                                "AND attempts = 1 AND last_error LIKE '%550 5.1.1%User unknown%'") == 1);

  // The config's maintenance window, as xunjianctl lists it; the API cannot end it.
  auto list = run(XJ_CTL_BIN, {"--url", collector.url(), "--token-file", (dir / "op.token").string(), "--tz", "UTC",
                               "maintenance", "list", "--all"}, dir);  // --all: it need not be in force now
  INFO(list.out);
  CHECK(list.exit_code == 0);
  CHECK_THAT(list.out, Catch::Contains("M-config-1"));
  CHECK_THAT(list.out, Catch::Contains("collector.yaml"));
  CHECK_THAT(list.out, Catch::Contains("host=nowhere-01"));
  auto end = http("POST", collector.url() + "/api/v1/silences/M-config-1/expire", op, "{}");
  CHECK(end.status == 409);
  CHECK_THAT(end.body, Catch::Contains("collector.yaml"));
}

TEST_CASE("libcurl (SMTP for e-mail) is linked into the collector only, never into the agent") {
  auto dir = scratch_dir("alerts-libcurl");
  auto collector = run("/usr/bin/readelf", {"-d", kCollector}, dir);
  auto agent = run("/usr/bin/readelf", {"-d", kAgent}, dir);
  REQUIRE(collector.exit_code == 0);
  REQUIRE(agent.exit_code == 0);
  CHECK_THAT(collector.out, Catch::Contains("libcurl"));
  CHECK_THAT(agent.out, Catch::Contains("(NEEDED)"));
  CHECK(agent.out.find("libcurl") == std::string::npos);
}

namespace {

// An Alertmanager webhook payload of alerts [from, to): 100 hosts, 10 checks each, every
// tenth critical.
std::string storm_payload(int from, int to) {
  nlohmann::json alerts = nlohmann::json::array();
  for (int i = from; i < to; ++i) {
    alerts.push_back({{"status", "firing"},
                      {"labels", {{"alertname", "check-" + std::to_string(i / 100)},
                                  {"instance", "host-" + std::to_string(i % 100)},
                                  {"severity", i % 10 == 0 ? "critical" : "warning"},
                                  {"system", i % 2 == 0 ? "平台A" : "平台B"}}},
                      {"annotations", {{"summary", "storm alert " + std::to_string(i)}}}});
  }
  return nlohmann::json{{"version", "4"}, {"status", "firing"}, {"alerts", alerts}}.dump();
}

std::size_t number_after(const std::string& text, const std::string& before) {
  const auto p = text.find(before);
  if (p == std::string::npos) return 0;
  return std::stoul(text.substr(p + before.size()));
}

}  // namespace

TEST_CASE("a 1,000-alert storm: the robot's rate limit is never exceeded and the digests account for every alert") {
  auto dir = scratch_dir("alerts-e2e-storm");
  // The receiver enforces WeCom's 20 per minute per robot key and 4096 bytes; the channel's
  // own limit is the same 20 per minute.
  RobotReceiver rx(dir / "rx", {"--rate", "20"});
  AlertingCollector collector(dir / "collector", rx.port(),
                              "      rate_per_minute: 20\n"
                              "  incidents: {levels: []}\n");
  collector.start();
  const std::string op = collector.api_token("prometheus", "operator", dir / "op.token");
  const auto started = std::chrono::steady_clock::now();
  for (int from = 0; from < 1000; from += 100) {
    auto r = http("POST", collector.url() + "/api/v1/alertmanager", op, storm_payload(from, from + 100));
    INFO(r.body);
    REQUIRE(r.status == 200);
  }
  REQUIRE(sql_int(collector.db(), "SELECT count(*) FROM outbox") == 1000);
  // Digests go out at most every 10 s (storm.interval): the posting takes a few seconds, so
  // a handful of digests, well inside a minute's 20 sends.
  const bool all = wait_until(80s, [&] {
    return sql_int(collector.db(), "SELECT count(*) FROM outbox WHERE status = 1") == 1000;
  });
  const auto took = std::chrono::steady_clock::now() - started;
  INFO("delivered: " << sql_int(collector.db(), "SELECT count(*) FROM outbox WHERE status = 1").value_or(-1));
  REQUIRE(all);
  std::this_thread::sleep_for(1s);
  const auto got = rx.accepted("wecom");
  CHECK(rx.rejected().empty());  // never 45009 (rate) nor 40058 (size)
  std::size_t members = 0, digests = 0, listed_total = 0;
  std::vector<double> at;
  for (const auto& e : got) {
    const std::string text = e["content"];
    const std::size_t n = e["members"].get<std::size_t>();
    members += n;
    at.push_back(e["at"].get<double>());
    if (text.rfind("### 【告警风暴】", 0) != 0) continue;
    ++digests;
    INFO(text);
    // The digest's own words carry its count, and its severity counts add up to it.
    CHECK(number_after(text, "### 【告警风暴】") == n);
    CHECK(number_after(text, "> 严重 ") + number_after(text, "警告 ") == n);
    CHECK(text.size() <= 4096);
    for (std::size_t p = text.find("> - 【"); p != std::string::npos; p = text.find("> - 【", p + 1)) ++listed_total;
  }
  CHECK(members == 1000);  // every alert in exactly one message, none twice
  CHECK(digests >= 1);
  CHECK(got.size() <= 20);
  for (std::size_t i = 0; i < at.size(); ++i) {
    std::size_t in_minute = 0;
    for (std::size_t j = i; j < at.size() && at[j] < at[i] + 60; ++j) ++in_minute;
    CHECK(in_minute <= 20);
  }
  CHECK(listed_total > 0);
  CHECK(sql_int(collector.db(), "SELECT count(DISTINCT idem_key) FROM outbox WHERE status = 1") == 1000);
  // Bounded: the storm is over in one digest interval or two after the last post.
  CHECK(took < 60s);
}

TEST_CASE("an exec check's perfdata over a metric rule's threshold gives exactly one WeCom message naming the rule, and one recovery") {
  auto dir = scratch_dir("alerts-e2e-metric-rule");
  fs::create_directories(dir);
  RobotReceiver rx(dir / "rx");
  AlertingCollector collector(dir / "collector", rx.port(),
                              "  rules:\n"
                              "    - name: queue-backlog\n"
                              "      expr: 'exec.depth > 100'\n"
                              "      severity: critical\n"
                              "      match: {system: 集成测试平台}\n"
                              "      summary: \"积压 {{value}}，超过 {{threshold}}\"\n");
  // A plugin whose exit code always says ok: only the rule can see the backlog. The value is
  // swapped in by rename, so the script never reads half a file.
  const fs::path value = dir / "depth";
  auto set_depth = [&](const std::string& perf) {
    write_file(dir / "depth.tmp", perf);
    fs::rename(dir / "depth.tmp", value);
  };
  set_depth("depth=10;;");
  const fs::path script = dir / "queue_depth.sh";
  write_file(script, "#!/bin/sh\necho \"OK - queue | $(cat " + value.string() + ")\"\n");
  fs::permissions(script, fs::perms::owner_all);
  collector.start();
  AgentOptions ao;
  ao.id = "e2e-metric";
  ao.collector_url = collector.url();
  ao.token_file = dir / "agent.token";
  ao.extra_agent_keys = "  exec_allow: [" + script.string() + "]\n";
  ao.checks = "  - kind: exec\n    id: exec:queue\n    command: [" + script.string() + "]\n";
  collector.agent_token(ao.id, ao.token_file);
  AgentProc agent(dir / "agent", ao);
  agent.start();
  REQUIRE(wait_until(30s, [&] { return collector.status_of("exec:queue") == 0; }));
  std::this_thread::sleep_for(2s);
  CHECK(rx.entries().empty());  // under the threshold: nothing

  set_depth("depth=150;;");
  const std::string alert = nth_and_no_more(rx, 1);
  INFO(alert);
  CHECK_THAT(alert, Catch::StartsWith("### 【严重】e2e-metric exec:queue 指标告警：queue-backlog"));
  CHECK_THAT(alert, Catch::Contains("> 规则：queue-backlog（exec.depth > 100）"));
  CHECK_THAT(alert, Catch::Contains("> 系统：集成测试平台"));
  CHECK_THAT(alert, Catch::Contains("> - exec.depth：150，阈值 > 100"));
  CHECK_THAT(alert, Catch::Contains("> 说明：积压 150，超过 100"));
  CHECK_THAT(alert, Catch::Contains("故障单：INC-0001（一级故障）"));
  CHECK(collector.status_of("exec:queue") == 0);  // the check itself still says ok

  // The plugin stops printing its perfdata: no data for the rule, not a recovery.
  set_depth("");
  std::this_thread::sleep_for(4s);
  CHECK(rx.accepted("wecom").size() == 1);
  CHECK(sql_int(collector.db(), "SELECT count(*) FROM alerts WHERE kind = 'metric' AND state = 'firing'") == 1);

  set_depth("depth=20;;");
  const std::string recovery = nth_and_no_more(rx, 2);
  INFO(recovery);
  CHECK_THAT(recovery, Catch::StartsWith("### 【已恢复】e2e-metric exec:queue 指标告警：queue-backlog"));
  CHECK_THAT(recovery, Catch::Contains("持续时长"));
  CHECK_THAT(recovery, Catch::Contains("> - exec.depth：20，阈值 > 100"));
  CHECK(rx.rejected().empty());
  CHECK(sql_int(collector.db(), "SELECT count(*) FROM outbox WHERE status = 1") == 2);
}
