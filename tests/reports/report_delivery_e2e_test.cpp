// Report delivery end to end with real processes: xunjian-collector as built, delivering a
// report made through the API to tests/fixtures/robot_receiver.py (WeCom: key, markdown type,
// 4096 bytes else 40058) and tests/fixtures/smtp_receiver.py (real SMTP, decodes the MIME
// parts). The collector is SIGKILLed after the archive and the first, refused attempts, and
// restarted: each receiver still gets exactly one message.
#include <catch2/catch.hpp>

#include "../alerts/robot_receiver.hpp"
#include "../integration/fleet.hpp"
#include "xj/collector/tokens.hpp"

using namespace xj;
using namespace xj::itest;
using xj::alerts::test::FixtureProcess;
using xj::alerts::test::RobotReceiver;

TEST_CASE("a report is delivered once to the WeCom robot and by e-mail with its HTML, across a SIGKILL",
          "[reports-delivery-e2e]") {
  const fs::path dir = scratch_dir("report-delivery");
  // The first robot request answers HTTP 500 and the mailbox is greylisted once (451): the
  // messages are still pending when the collector is killed.
  RobotReceiver rx(dir / "rx", {"--fail", "1", "--fail-mode", "500"});
  FixtureProcess smtp(dir / "smtp", "smtp_receiver.py", {"--tempfail", "pm@example.com"});
  ::setenv("XJ_TEST_WECOM_KEY", "wecom-key", 1);
  CollectorProc collector(dir / "collector");
  const std::string console = "http://127.0.0.1:" + std::to_string(collector.port()) + "/console";
  // contract: is the file's last section: its reports keys, then alerts. The schedules are off
  // (the real clock would make last week's report).
  collector.append_config(
      "  reports:\n"
      "    weekly: {enabled: false}\n"
      "    monthly: {enabled: false}\n"
      "    deliver: [{channels: [ops-group, mail]}]\n"
      "alerts:\n"
      "  console_url: " + console + "\n"
      "  retry: {initial: 3s, max: 10s}\n"
      "  channels:\n"
      "    - name: ops-group\n"
      "      type: wecom\n"
      "      url: http://127.0.0.1:" + std::to_string(rx.port()) + "/cgi-bin/webhook/send\n"
      "      key_env: XJ_TEST_WECOM_KEY\n"
      "    - name: mail\n"
      "      type: email\n"
      "      url: smtp://127.0.0.1:" + std::to_string(smtp.port()) + "\n"
      "      starttls: false\n"
      "      from: xunjian@example.com\n"
      "      to: [pm@example.com]\n");
  collector.start();

  auto made = http("POST", collector.url() + "/api/v1/reports", collector.api_token(),
                   R"({"kind": "weekly", "date": "2026-11-23", "formats": "html,md", "deliver": true})");
  INFO(made.body);
  REQUIRE(made.status == 200);
  const auto files = made.json()["reports"];
  REQUIRE(files.size() == 2);
  CHECK(files[0]["delivery"].size() == 2);
  const std::int64_t report = files[0]["report"];
  const std::string link = console + "/reports/" + std::to_string(files[0]["id"].get<std::int64_t>());

  // Both first attempts refused and recorded: kill the collector before the retries (3 s
  // later). Waiting for the receivers alone raced the record of the attempt (a kill in between
  // leaves the attempt unrecorded, and the count below one short).
  REQUIRE(wait_until(20s, [&] {
    bool robot = false, mail = false;
    for (const auto& e : rx.entries()) robot = robot || e.contains("failed_on_purpose");
    for (const auto& e : smtp.with_accepted(false)) mail = mail || e.value("reason", "") == "451";
    return robot && mail &&
           sql_int(collector.store(),
                   "SELECT count(*) FROM outbox WHERE transition = 'report' AND status = 0 AND attempts = 1") == 2;
  }));
  collector.kill(SIGKILL);
  REQUIRE(wait_until(10s, [&] { return !collector.running(); }));
  CHECK(rx.accepted("wecom").empty());
  CHECK(smtp.with_accepted(true).empty());
  CHECK(sql_int(collector.store(), "SELECT count(*) FROM outbox WHERE transition = 'report' AND status = 0") == 2);

  collector.start();
  REQUIRE(wait_until(30s, [&] { return !rx.accepted("wecom").empty() && !smtp.with_accepted(true).empty(); }));
  std::this_thread::sleep_for(3s);  // anything sent twice would be here by now
  const auto robot = rx.accepted("wecom");
  REQUIRE(robot.size() == 1);
  CHECK(rx.rejected().empty());
  const std::string md = robot[0]["content"];
  INFO(md);
  CHECK(md.size() <= 4096);
  CHECK_THAT(md, Catch::StartsWith("## 运维巡检报告"));
  CHECK_THAT(md, Catch::Contains("2026-11-23 — 2026-11-29"));
  CHECK_THAT(md, Catch::EndsWith("[查看完整报告](" + link + ")"));
  CHECK(robot[0]["key"] == "report:" + std::to_string(report) + "/" +
                               std::to_string(files[0]["created"].get<std::int64_t>()) + "/report/ops-group/#1");

  const auto mails = smtp.with_accepted(true);
  REQUIRE(mails.size() == 1);
  CHECK(mails[0]["rcpt"][0] == "pm@example.com");
  CHECK(mails[0]["subject"] == "[xunjian] 运维巡检报告 2026-11-23 — 2026-11-29");
  CHECK_THAT(mails[0]["body"].get<std::string>(), Catch::Contains("查看完整报告: " + link));
  REQUIRE(mails[0]["attachments"].size() == 1);
  const auto& att = mails[0]["attachments"][0];
  CHECK(att["filename"] == "xunjian-week-2026-11-23.zh-CN.html");
  CHECK(att["content_type"] == "text/html");
  CHECK(att["sha256"] == files[0]["sha256"]);  // the archived bytes, unchanged

  // The archive says so, per channel.
  const auto list = collector.get_json("/api/v1/reports");
  REQUIRE(list["reports"].size() == 2);
  for (const auto& f : list["reports"]) {
    REQUIRE(f["delivery"].size() == 2);
    for (const auto& d : f["delivery"]) {
      INFO(d.dump());
      CHECK(d["status"] == "delivered");
      CHECK(d["attempts"] == 2);
    }
  }
  // The link is the console's: a browser without a session is sent to log in first.
  auto page = http("GET", link);
  CHECK(page.status == 303);
}
