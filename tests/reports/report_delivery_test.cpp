// Delivery of generated reports through the alert channels: contract.reports.deliver validated
// against alerts.channels with file, line and key; the outbox messages written in the archive's
// own transaction (none without it, never twice); texts within each channel's limit with the
// link kept; the monthly KPI counting alert notifications only.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "report_fixture.hpp"
#include "xj/alerts/email_message.hpp"
#include "xj/collector/config.hpp"
#include "xj/collector/report_service.hpp"
#include "xj/collector/sqlite_alert_store.hpp"
#include "xj/common/config_error.hpp"
#include "xj/reports/render.hpp"

using namespace xj;
using namespace xj::reports;
using namespace xj::test;

namespace {

// collector.yaml with three channels: a WeCom robot, a mailbox pair, an SMS gateway.
std::string config_text(const std::string& deliver, const std::string& console_url = "https://xj.example/console") {
  return "collector:\n"
         "  listen: 127.0.0.1:0\n"
         "  store: /tmp/unused.db\n"
         "contract:\n"
         "  customer: 某市市场监督管理局\n"
         "  reports:\n"
         "    formats: [html, md]\n" +
         deliver +
         "alerts:\n" +
         (console_url.empty() ? std::string() : "  console_url: " + console_url + "\n") +
         "  channels:\n"
         "    - name: ops-group\n"
         "      type: wecom\n"
         "      key_env: XJ_TEST_DELIVERY_KEY\n"
         "    - name: mail\n"
         "      type: email\n"
         "      url: smtp://127.0.0.1:25\n"
         "      from: xunjian@example.com\n"
         "      to: [pm@example.com, ops@example.com]\n"
         "    - name: sms\n"
         "      type: sms_http\n"
         "      url: http://127.0.0.1:9/send\n"
         "      body: '{\"to\":\"{{phone}}\",\"text\":\"{{text}}\"}'\n"
         "      to: [\"13800000000\"]\n"
         "    - name: nobody-mail\n"
         "      type: email\n"
         "      url: smtp://127.0.0.1:25\n"
         "      from: xunjian@example.com\n";
}

std::string write_config(const std::string& name, const std::string& text) {
  ::setenv("XJ_TEST_DELIVERY_KEY", "k", 1);
  const auto p = report_dir("delivery-config-" + name) / "collector.yaml";
  std::ofstream(p) << text;
  return p.string();
}

std::string error_of(const std::string& text) {
  const std::string path = write_config("bad", text);
  try {
    load_collector_config(path);
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    // The path is the test's scratch dir: compare from the file name on.
    return what.substr(what.rfind('/') + 1);
  }
  return "(accepted)";
}

struct DeliveryFixture {
  std::filesystem::path dir = report_dir("delivery");
  std::int64_t now = shared_fixture_store().now;
  CollectorConfig cfg;
  std::unique_ptr<SqliteReportSource> source;
  std::unique_ptr<ReportService> service;
  int woken = 0;

  explicit DeliveryFixture(const std::string& deliver) {
    cfg = load_collector_config(write_config("good", config_text(deliver)));
    const std::string db = (dir / "collector.db").string();
    std::filesystem::copy_file(shared_fixture_store().file, db);
    REQUIRE(open_sqlite_store(db).ok());  // brings the copy's schema up to date
    auto s = open_sqlite_report_source(db, "Asia/Shanghai");
    REQUIRE(s.ok());
    source = std::move(s).value();
    service = std::make_unique<ReportService>(*source, cfg.contract, (dir / "reports").string(), [this] { return now; });
    service->set_delivery(report_delivery(cfg), [this] { ++woken; });
  }
  std::int64_t count(const std::string& query) const {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir / "collector.db").c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    std::int64_t n = -1;
    if (sqlite3_prepare_v2(db, query.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
      n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  }
  void exec(const std::string& text) const {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir / "collector.db").c_str(), &db) == SQLITE_OK);
    sql(db, text);
    sqlite3_close(db);
  }
};

std::size_t chars_of(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool valid_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

TEST_CASE("contract.reports.deliver is checked against alerts.channels with file, line and key",
          "[reports-delivery]") {
  CHECK(error_of(config_text("    deliver: [{channels: [ops-group, nowhere]}]\n")) ==
        "collector.yaml:8: contract.reports.deliver[0]: key 'channels': no channel named 'nowhere' in alerts.channels");
  CHECK(error_of(config_text("    deliver:\n      - channels: [ops-group]\n        kinds: [weekly, daily]\n")) ==
        "collector.yaml:10: contract.reports.deliver[0]: key 'kinds': 'daily' is not a report kind (weekly, "
        "monthly, period)");
  CHECK(error_of(config_text("    deliver: [ops-group]\n")) ==
        "collector.yaml:8: contract.reports: key 'deliver': item 0 must be a map {channels: [...], kinds: "
        "[...]}, e.g. {channels: [ops-group]}");
  CHECK(error_of(config_text("    deliver: [{channels: [nobody-mail]}]\n")) ==
        "collector.yaml:8: contract.reports.deliver[0]: key 'channels': channel 'nobody-mail' sends to people: "
        "give it a to: list (the report's recipients)");
  CHECK(error_of(config_text("    deliver: [{channels: [ops-group]}]\n", "")) ==
        "collector.yaml:8: contract.reports.deliver[0]: key 'channels': channel 'ops-group' gets a summary with "
        "a link to the full report: set alerts.console_url (or contract.reports.url)");
  CHECK(error_of(config_text("    deliver: [{channels: []}]\n")) ==
        "collector.yaml:8: contract.reports.deliver[0]: key 'channels': needs at least one channel of alerts.channels");
  CHECK(error_of(config_text("    deliver: [{channels: [mail]}]\n    max_attachment: lots\n")) ==
        "collector.yaml:9: contract.reports: key 'max_attachment': 'lots' is not a size like 512KB, 1MB, 2GB");
  // Without alerts: there are no channels to deliver through.
  const std::string no_alerts = "collector:\n  listen: 127.0.0.1:0\ncontract:\n  reports:\n    deliver: [{channels: [mail]}]\n";
  CHECK(error_of(no_alerts) ==
        "collector.yaml:5: contract.reports.deliver[0]: key 'channels': reports are delivered through "
        "alerts.channels, but collector.yaml has no (enabled) alerts: section");
  // E-mail alone needs no link: the report travels as its attachment.
  CHECK(error_of(config_text("    deliver: [{channels: [mail]}]\n", "")) == "(accepted)");
}

TEST_CASE("a scheduled report is archived with one outbox message per channel and recipient, once",
          "[reports-delivery]") {
  DeliveryFixture f("    deliver:\n"
                    "      - {channels: [ops-group, mail]}\n"
                    "      - {channels: [sms, ops-group], kinds: [monthly]}\n");
  REQUIRE(f.cfg.contract.deliver.size() == 2);
  const auto made = f.service->run_due(f.now);  // 2026-04-01 08:00: last week and March
  REQUIRE(made.size() == 4);                     // html and md of each
  CHECK(f.woken == 2);
  const std::int64_t week = made[0].report, month = made[2].report;
  CHECK(made[1].report == week);
  CHECK(made[0].id == week);
  CHECK(made[3].report == month);

  // The week: the robot once and each mailbox; the month adds the SMS (ops-group named twice
  // is still one message).
  const auto wd = f.source->report_deliveries(week);
  REQUIRE(wd.size() == 3);
  CHECK(wd[0].idempotency_key == "report:" + std::to_string(week) + "/" + std::to_string(f.now) + "/report/ops-group/#1");
  CHECK(wd[1].idempotency_key == "report:" + std::to_string(week) + "/" + std::to_string(f.now) + "/report/mail/pm@example.com#1");
  CHECK(wd[2].recipient == "ops@example.com");
  const auto md = f.source->report_deliveries(month);
  REQUIRE(md.size() == 4);
  CHECK(md[3].channel == "sms");
  for (const auto& m : md) {
    CHECK(m.transition == "report");
    CHECK(m.status == alerts::DeliveryStatus::kPending);
    CHECK(m.fields.at("period") == "month-2026-03");
  }

  // The robot: the Markdown summary linking the console's copy of the HTML.
  const std::string link = "https://xj.example/console/reports/" + std::to_string(month);
  CHECK(md[0].text.size() <= kMarkdownLimit);
  CHECK_THAT(md[0].text, Catch::StartsWith("## 运维服务月报"));
  CHECK_THAT(md[0].text, Catch::EndsWith("[查看完整报告](" + link + ")"));
  // E-mail: the summary as text, the HTML attached (the md file is not), the subject with the period.
  CHECK_THAT(md[1].text, Catch::Contains("附件：xunjian-month-2026-03.zh-CN.html"));
  CHECK_THAT(md[1].text, Catch::Contains("查看完整报告: " + link));
  CHECK(md[1].text.find("**") == std::string::npos);  // no Markdown marks in a mail
  CHECK(md[1].fields.at("subject") == "运维服务月报 2026-03-01 — 2026-03-31");
  const auto att = nlohmann::json::parse(md[1].fields.at("attachments"));
  REQUIRE(att.size() == 1);
  CHECK(att[0]["name"] == "xunjian-month-2026-03.zh-CN.html");
  CHECK(att[0]["sha256"] == made[2].sha256);
  auto loaded = alerts::load_attachments(md[1]);
  REQUIRE(loaded.ok());
  CHECK(loaded->at(0).content_type == "text/html; charset=utf-8");
  // SMS: one SMS of 70 characters, the notice cut, the link whole at its end.
  INFO(md[3].text);
  CHECK(chars_of(md[3].text) <= 70);
  CHECK_THAT(md[3].text, Catch::StartsWith("【巡检】运维服务月报"));
  CHECK_THAT(md[3].text, Catch::EndsWith("…\n" + link));

  // Due again a minute later and after a restart: archived already, nothing new.
  CHECK(f.service->run_due(f.now + 60'000).empty());
  CHECK(f.count("SELECT count(*) FROM outbox WHERE transition = 'report'") == 7);

  // The keys are unique: the same messages committed again (a replay) add nothing.
  auto alert_store = open_sqlite_alert_store((f.dir / "collector.db").string());
  REQUIRE(alert_store.ok());
  REQUIRE((*alert_store)->commit({}, md).ok());
  CHECK(f.count("SELECT count(*) FROM outbox WHERE transition = 'report'") == 7);

  // A file changed after archiving is refused, never sent as the report.
  std::ofstream(made[2].path, std::ios::app) << "<!-- edited -->";
  auto refused = alerts::load_attachments(md[1]);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error() == "attachment xunjian-month-2026-03.zh-CN.html: " + made[2].path +
                               " no longer matches its archived SHA-256");
}

TEST_CASE("an archive whose deliveries cannot be written is not archived at all", "[reports-delivery]") {
  DeliveryFixture f("    deliver: [{channels: [ops-group]}]\n");
  ArchivedReport a;
  a.period_key = "month-2026-03";
  a.kind = "monthly";
  a.format = "html";
  a.path = (f.dir / "x.html").string();
  a.sha256 = "00";
  const auto before = f.count("SELECT count(*) FROM report_archive");
  auto r = f.source->archive_report({a}, [](const std::vector<ArchivedReport>&) -> Expected<std::vector<alerts::OutboxMessage>> {
    return make_error("the summary could not be rendered");
  });
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == "the summary could not be rendered");
  CHECK(f.count("SELECT count(*) FROM report_archive") == before);
}

TEST_CASE("API reports are delivered only when asked; the e-mail links a file over max_attachment",
          "[reports-delivery]") {
  DeliveryFixture f("    deliver: [{channels: [mail], kinds: [weekly]}]\n    max_attachment: 1KB\n");
  ReportRequest req;
  req.period = week_of({2026, 3, 23}, f.service->offset());
  req.formats = {"html"};
  auto quiet = f.service->generate(req);
  REQUIRE(quiet.ok());
  CHECK(f.source->report_deliveries(quiet->front().report).empty());
  req.deliver = true;
  auto sent = f.service->generate(req);
  REQUIRE(sent.ok());
  const auto d = f.source->report_deliveries(sent->front().report);
  REQUIRE(d.size() == 2);
  // The HTML is far over 1 KiB: named with its link instead of attached.
  CHECK(d[0].fields.count("attachments") == 0);
  CHECK_THAT(d[0].text, Catch::Contains("xunjian-week-2026-03-23.zh-CN.html ("));
  CHECK_THAT(d[0].text, Catch::Contains("超过附件大小上限，未随邮件附上，请通过链接查看： https://xj.example/console/reports/" +
                                        std::to_string(sent->front().id)));
  // A monthly report is not of this rule's kinds.
  req.period = month_of(2026, 3, f.service->offset());
  auto monthly = f.service->generate(req);
  REQUIRE(monthly.ok());
  CHECK(f.source->report_deliveries(monthly->front().report).empty());
}

TEST_CASE("a summary too long even without items is cut at a line end, valid UTF-8, the link kept",
          "[reports-delivery]") {
  auto src = open_sqlite_report_source(shared_fixture_store().file.string(), "Asia/Shanghai");
  REQUIRE(src.ok());
  ContractConfig c;
  for (int i = 0; i < 120; ++i) {
    c.systems.push_back({"区块链知识产权保护平台第" + std::to_string(i) + "分系统", {{"system", "s" + std::to_string(i)}}});
  }
  const UtcOffset off = [&](std::int64_t t) { return (*src)->utc_offset_ms(t); };
  const Report r = build_report(**src, c, month_of(2026, 3, off), BuildOptions{shared_fixture_store().now});
  const std::string link = "https://xj.example/console/reports/42";
  for (std::size_t limit : {kMarkdownLimit, std::size_t{1000}, std::size_t{301}}) {
    auto md = render_markdown(r, link, limit);
    REQUIRE(md.ok());
    INFO(limit);
    CHECK(md->size() <= limit);
    CHECK(valid_utf8(*md));
    CHECK_THAT(*md, Catch::EndsWith("…\n[查看完整报告](" + link + ")"));
    CHECK_THAT(*md, Catch::StartsWith("## 运维服务月报"));
  }
  // The cut keeps whole lines: the line before the mark is one of the summary's own.
  auto md = render_markdown(r, link, kMarkdownLimit);
  const std::string body = md->substr(0, md->rfind("…\n"));
  CHECK_THAT(body.substr(body.rfind('\n') + 1), Catch::StartsWith("- 区块链知识产权保护平台第"));
}

TEST_CASE("the monthly delivery rate counts alert notifications, not report deliveries", "[reports-delivery]") {
  DeliveryFixture f("    deliver: [{channels: [ops-group]}]\n");
  const auto before = f.source->deliveries(kMarch, kApril);
  // A failed report delivery inside March changes nothing.
  f.exec("INSERT INTO outbox(idem_key, fingerprint, transition, channel, recipient, text, created,"
                   " next_attempt, status) VALUES('report:1/1/report/ops-group/#1', 'report:1', 'report',"
                   " 'ops-group', '', 'x', " + std::to_string(kMarch + kDay) + ", 0, 2)");
  const auto after = f.source->deliveries(kMarch, kApril);
  CHECK(after.total == before.total);
  CHECK(after.failed == before.failed);
  CHECK(before.total > 0);
}
