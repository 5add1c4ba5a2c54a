// The console end to end in a browser: a real xunjian-collector (with alerting to the local
// WeCom receiver, tests/fixtures/robot_receiver.py, standing in for the group robot that cannot
// run here) and a real xunjian-agent watching a `sleep` process, the first admin made with the
// real `xunjian-collector user create --admin NAME --password-file F`, and console_e2e.mjs
// driving Debian's chromium through playwright-core (npm, pinned in package-lock.json). The
// script's steps and checks are in the .mjs; this test sets the scene, bounds the run time and
// afterwards reads what the console's actions left in the store and the audit log.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "../alerts/robot_receiver.hpp"
#include "../integration/fleet.hpp"

using namespace xj::itest;
using xj::alerts::test::RobotReceiver;

TEST_CASE("the console in a browser: login, a killed process on the overview, incident, silence, report, viewer refused, lockout") {
  if (!fs::exists("/usr/bin/chromium")) {
    WARN("/usr/bin/chromium is not installed (scripts/deps.sh --test installs it): skipped");
    return;
  }
  auto dir = scratch_dir("console-e2e");
  RobotReceiver rx(dir / "rx");
  ::setenv("XJ_TEST_WECOM_KEY", "wecom-key", 1);
  CollectorProc collector(dir / "collector", "1s", std::nullopt,
                          "alerts:\n"
                          "  console_url: http://console.example\n"
                          "  retry: {initial: 200ms, max: 1s}\n"
                          "  channels:\n"
                          "    - name: ops-group\n"
                          "      type: wecom\n"
                          "      url: http://127.0.0.1:" + std::to_string(rx.port()) + "/cgi-bin/webhook/send\n"
                          "      key_env: XJ_TEST_WECOM_KEY\n");
  // The first admin, as the install guide says: on the collector host, password from a file.
  const std::string admin_password = "Admin-pass-2026-e2e";
  write_file(dir / "admin.password", admin_password + "\n");
  auto made = run(kCollector, {"user", "create", "--admin", "laowang", "--password-file",
                               (dir / "admin.password").string(), "-c", collector.config()}, dir);
  INFO(made.out);
  REQUIRE(made.exit_code == 0);

  // A sleep nobody else runs: its length is unique to this test process.
  const std::string secs = std::to_string(800000 + ::getpid() % 99999);
  auto sleeper = std::make_unique<Child>("/bin/sleep", std::vector<std::string>{secs}, dir / "sleep.log");
  collector.start();
  AgentOptions ao;
  ao.id = "console-e2e-01";
  ao.collector_url = collector.url();
  ao.token_file = dir / "agent.token";
  ao.checks = "  - kind: process\n"
              "    id: proc:sleeper\n"
              "    cmdline: '^/bin/sleep " + secs + "$'\n"
              "    restart_warn: false\n";  // no cpu/memory checks: this machine's load must not open incidents
  collector.agent_token(ao.id, ao.token_file);
  AgentProc agent(dir / "agent", ao);
  agent.start();
  REQUIRE(wait_until(30s, [&] { return collector.check_status(ao.id, "proc:sleeper") == "ok"; }));

  // Screenshots go where XJ_CONSOLE_SHOTS says (e.g. /tmp/console-shots), else the scratch dir.
  const char* shots = std::getenv("XJ_CONSOLE_SHOTS");
  const fs::path out = shots != nullptr ? fs::path(shots) : dir / "browser";
  fs::create_directories(out);
  ::setenv("XJ_URL", collector.url().c_str(), 1);
  ::setenv("XJ_HOST", ao.id.c_str(), 1);
  ::setenv("XJ_ADMIN", "laowang", 1);
  ::setenv("XJ_ADMIN_PASSWORD", admin_password.c_str(), 1);
  ::setenv("XJ_SLEEPER_PID", std::to_string(sleeper->pid()).c_str(), 1);
  ::setenv("XJ_OUT", out.string().c_str(), 1);
  ::setenv("XJ_PLAYWRIGHT", XJ_PLAYWRIGHT_MODULE, 1);
  Child browser(XJ_NODE, {std::string(XJ_SOURCE_DIR) + "/tests/console/console_e2e.mjs"}, dir / "browser.log");
  auto code = browser.wait_exit(270s);
  const std::string log = slurp(dir / "browser.log");
  INFO("browser log:\n" << log << "\ncollector log (tail):\n"
                        << slurp(collector.log()).substr(std::max<std::ptrdiff_t>(0, static_cast<std::ptrdiff_t>(fs::file_size(collector.log())) - 4000)));
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(log.find("all steps passed") != std::string::npos);

  // What the clicks left behind, read with the admin API token: the incident resolved by the
  // console user, and the console's actions in the audit log under the person's name.
  auto incidents = collector.get_json("/api/v1/incidents?state=resolved");
  REQUIRE(incidents["incidents"].size() >= 1);
  const auto& inc = incidents["incidents"][0];
  CHECK_THAT(inc["acknowledged_by"].get<std::string>(), Catch::Contains("zhangsan"));
  CHECK_THAT(inc["resolved_by"].get<std::string>(), Catch::Contains("zhangsan"));
  auto audit = sql_int(collector.store(),
                       "SELECT count(*) FROM audit WHERE actor LIKE '%zhangsan%' AND action LIKE 'incident.%'");
  CHECK(audit.value_or(0) >= 2);
}
