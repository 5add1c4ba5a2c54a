// The collector's report service over a copy of the fixture store: files written and archived
// with their SHA-256, schedules due on their day and time, nothing made twice.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "report_fixture.hpp"
#include "xj/collector/report_service.hpp"
#include "xj/collector/tokens.hpp"

using namespace xj;
using namespace xj::reports;
using namespace xj::test;

namespace {

struct ServiceFixture {
  std::filesystem::path dir = report_dir("service");
  std::int64_t now = shared_fixture_store().now;
  std::unique_ptr<SqliteReportSource> source;
  std::unique_ptr<ReportService> service;

  explicit ServiceFixture(ContractConfig contract = {}) {
    std::filesystem::copy_file(shared_fixture_store().file, dir / "collector.db");
    auto s = open_sqlite_report_source((dir / "collector.db").string(), "Asia/Shanghai");
    REQUIRE(s.ok());
    source = std::move(s).value();
    service = std::make_unique<ReportService>(*source, contract, (dir / "reports").string(), [this] { return now; });
  }
};

std::string slurp_file(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("a generated report is written in every asked format and archived with its SHA-256", "[reports-service]") {
  ServiceFixture f;
  ReportRequest req;
  req.period = month_of(2026, 3, f.service->offset());
  req.formats = {"html", "md", "json"};
  req.actor = "cli:test";
  auto made = f.service->generate(req);
  INFO((made.ok() ? "" : made.error()));
  REQUIRE(made.ok());
  REQUIRE(made->size() == 3);
  for (const auto& a : *made) {
    INFO(a.path);
    const std::string bytes = slurp_file(a.path);
    CHECK(a.sha256 == sha256_hex(bytes));
    CHECK(a.bytes == static_cast<std::int64_t>(bytes.size()));
    CHECK(a.period_key == "month-2026-03");
    CHECK(a.actor == "cli:test");
  }
  CHECK(std::filesystem::path((*made)[0].path).filename() == "xunjian-month-2026-03.zh-CN.html");
  const auto archived = f.source->archived("month-2026-03", 10);
  REQUIRE(archived.size() == 3);
  CHECK(archived[0].format == "json");  // newest first
  CHECK(f.source->archived_report(archived[2].id)->format == "html");
  const auto json = nlohmann::json::parse(slurp_file((*made)[2].path));
  // No systems configured: all hosts are one system, down for web-03's 90 and db-02's 40 minutes.
  CHECK(json["systems"][0]["name"] == "");
  CHECK(json["systems"][0]["uptime"]["down_ms"] == 130 * kMin);
}

TEST_CASE("notes entered for a period appear in that period's report", "[reports-service]") {
  ServiceFixture f;
  REQUIRE(f.source->add_note("month-2026-03", "四月：web-05 /data 扩容至 2 TB", "api:alice", f.now).ok());
  REQUIRE(f.source->add_note("month-2026-04", "not this one", "api:alice", f.now).ok());
  CHECK(f.source->notes("month-2026-03").size() == 1);
  ReportRequest req;
  req.period = month_of(2026, 3, f.service->offset());
  req.formats = {"html"};
  auto made = f.service->generate(req);
  REQUIRE(made.ok());
  const std::string html = slurp_file((*made)[0].path);
  CHECK(html.find("四月：web-05 /data 扩容至 2 TB") != std::string::npos);
  CHECK(html.find("not this one") == std::string::npos);
}

TEST_CASE("schedules are due from their weekday or day of month and time on", "[reports-service]") {
  ServiceFixture f;
  const auto off = f.service->offset();
  Schedule weekly;   // Monday 08:00
  Schedule monthly;  // the 1st, 08:00
  const std::int64_t mon = kMarch + 29 * kDay;  // 2026-03-30, a Monday
  CHECK_FALSE(schedule_due(weekly, true, mon + 7 * kHour + 59 * kMin, off));
  CHECK(schedule_due(weekly, true, mon + 8 * kHour, off));
  CHECK(schedule_due(weekly, true, mon + kDay, off));  // a collector started on Tuesday catches up
  CHECK_FALSE(schedule_due(monthly, false, kApril + 7 * kHour, off));
  CHECK(schedule_due(monthly, false, kApril + 8 * kHour, off));
  weekly.enabled = false;
  CHECK_FALSE(schedule_due(weekly, true, mon + 9 * kHour, off));
}

TEST_CASE("the schedule makes last week's and last month's reports once", "[reports-service]") {
  ContractConfig c;
  c.formats = {"html", "json"};
  ServiceFixture f(c);
  f.now = kApril + 8 * kHour;  // Wednesday 2026-04-01 08:00
  CHECK(f.service->any_due(f.now));
  const auto made = f.service->run_due(f.now);
  REQUIRE(made.size() == 4);
  CHECK(made[0].period_key == "week-2026-03-23");
  CHECK(made[0].actor == "schedule");
  CHECK(made[2].period_key == "month-2026-03");
  CHECK_FALSE(f.service->any_due(f.now + kMin));
  CHECK(f.service->run_due(f.now + kHour).empty());
}

TEST_CASE("the schedule skips periods that ended before the first host appeared", "[reports-service]") {
  ServiceFixture f;
  const std::int64_t monday = kMarch - 6 * kDay + 8 * kHour;  // 2026-02-23 08:00: Feb 16-22, January
  CHECK_FALSE(f.service->any_due(monday));
  CHECK(f.service->run_due(monday).empty());
}

TEST_CASE("report formats are checked by name", "[reports-service]") {
  CHECK(parse_report_formats("html,pdf").value() == std::vector<std::string>{"html", "pdf"});
  auto bad = parse_report_formats("html,docx");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error() == "report format 'docx' is not one of html, pdf, md, json");
}
