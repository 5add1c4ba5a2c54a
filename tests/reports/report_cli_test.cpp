// xunjianctl report against a real collector serving a copy of the fixture store: the files
// arrive in -o DIR with the SHA-256 the archive holds, notes land in their period, errors name
// the field. (PDF through this path is the same code as report_pdf_tests; it is left out here
// to keep the run short.)
#include <catch2/catch.hpp>

#include "../integration/fleet.hpp"
#include "report_fixture.hpp"
#include "xj/collector/tokens.hpp"

#include <fstream>

using namespace xj;
using namespace xj::itest;

namespace {

struct CliFixture {
  fs::path dir = scratch_dir("report-cli");
  std::unique_ptr<CollectorProc> collector;
  CliFixture() {
    fs::copy_file(test::shared_fixture_store().file, dir / "collector.db");
    collector = std::make_unique<CollectorProc>(dir);
    // The collector's own schedules would report on last week and month of the real clock (the
    // fixture's hosts exist then): off, contract: being the file's last section.
    std::ofstream(collector->config(), std::ios::app)
        << "  reports: {weekly: {enabled: false}, monthly: {enabled: false}}\n";
    collector->start();
    ::setenv("XJ_TOKEN", collector->api_token().c_str(), 1);
  }
  RunResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--url", collector->url()});
    return run(XJ_CTL_BIN, args, dir);
  }
};

}  // namespace

TEST_CASE("xunjianctl report monthly writes the March report files with their archived SHA-256", "[reports-cli]") {
  CliFixture f;
  const fs::path out = f.dir / "out";
  auto r = f.ctl({"report", "monthly", "--month", "2026-03", "--format", "html,md,json", "-o", out.string()});
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  for (const char* ext : {"html", "md", "json"}) {
    const fs::path file = out / (std::string("xunjian-month-2026-03.zh-CN.") + ext);
    INFO(file);
    REQUIRE(fs::is_regular_file(file));
    CHECK(r.out.find(file.string() + "  sha256 " + sha256_hex(slurp(file))) != std::string::npos);
  }
  CHECK(slurp(out / "xunjian-month-2026-03.zh-CN.html").find("运维服务月报") != std::string::npos);
  const auto model = nlohmann::json::parse(slurp(out / "xunjian-month-2026-03.zh-CN.json"));
  // The test collector configures no systems: all hosts are one, down 90 (web-03) + 40 (db-02) min.
  CHECK(model["systems"][0]["uptime"]["down_ms"] == 130 * 60'000);
  CHECK(model["contract"]["customer"] == "集成测试");

  auto list = f.ctl({"report", "list", "--period", "month-2026-03"});
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.find(sha256_hex(slurp(out / "xunjian-month-2026-03.zh-CN.md"))) != std::string::npos);
  const auto api = f.collector->get_json("/api/v1/reports");
  CHECK(api["reports"].size() == 3);
  CHECK(sql_int(f.collector->store(), "SELECT count(*) FROM audit WHERE action = 'report.generate'") == 1);
}

TEST_CASE("xunjianctl report note keeps the plan for a period and the report shows it", "[reports-cli]") {
  CliFixture f;
  auto note = f.ctl({"report", "note", "month-2026-03", "下月计划：数据库主备切换演练"});
  INFO(note.out);
  REQUIRE(note.exit_code == 0);
  auto notes = f.ctl({"report", "notes", "month-2026-03"});
  REQUIRE(notes.exit_code == 0);
  CHECK(notes.out.find("下月计划：数据库主备切换演练") != std::string::npos);
  const fs::path out = f.dir / "out";
  auto r = f.ctl({"report", "period", "--from", "2026-03-01", "--to", "2026-03-31", "-o", out.string()});
  REQUIRE(r.exit_code == 0);
  // A period of any days has its own key, so March's monthly note is not in it.
  CHECK(slurp(out / "xunjian-period-2026-03-01-2026-03-31.zh-CN.html").find("数据库主备切换演练") == std::string::npos);
  auto m = f.ctl({"report", "monthly", "--month", "2026-03", "-o", out.string()});
  REQUIRE(m.exit_code == 0);
  CHECK(slurp(out / "xunjian-month-2026-03.zh-CN.html").find("数据库主备切换演练") != std::string::npos);
  CHECK(sql_int(f.collector->store(), "SELECT count(*) FROM audit WHERE action = 'report.note'") == 1);
}

TEST_CASE("report requests with a bad period or format are refused naming the field", "[reports-cli]") {
  CliFixture f;
  auto bad_kind = http("POST", f.collector->url() + "/api/v1/reports", f.collector->api_token(), R"({"kind":"yearly"})");
  CHECK(bad_kind.status == 400);
  CHECK(bad_kind.body.find("'kind': 'yearly' is not weekly, monthly or period") != std::string::npos);
  auto r = f.ctl({"report", "monthly", "--month", "2026-13"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("'month': '2026-13' is not a month like 2026-03") != std::string::npos);
  auto fmt = f.ctl({"report", "weekly", "--date", "2026-03-02", "--format", "docx"});
  CHECK(fmt.exit_code == 1);
  CHECK(fmt.out.find("report format 'docx'") != std::string::npos);
  auto missing = http("GET", f.collector->url() + "/api/v1/reports/999/file", f.collector->api_token());
  CHECK(missing.status == 404);
  // This collector delivers nowhere: asking for delivery is refused, not silently ignored.
  auto deliver = f.ctl({"report", "weekly", "--date", "2026-03-02", "--deliver"});
  CHECK(deliver.exit_code == 1);
  CHECK(deliver.out.find("'deliver': contract.reports.deliver names no channels (or alerts: is off)") != std::string::npos);
}
