// xunjianctl's pure parts: display width, tables, times in the contract zone, numbers.
#include <catch2/catch.hpp>

#include "xj/collector/ctl_render.hpp"
#include "xj/collector/ctl_table.hpp"
#include "xj/collector/ctl_time.hpp"

using namespace xj;

namespace {
// Where `needle` starts in `line`, in terminal columns.
std::size_t column_of(const std::string& line, const std::string& needle) {
  const auto pos = line.find(needle);
  REQUIRE(pos != std::string::npos);
  return display_width(line.substr(0, pos));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    out.push_back(text.substr(start, nl - start));
  }
  return out;
}
}  // namespace

TEST_CASE("display width counts CJK and fullwidth characters as two columns", "[ctl]") {
  CHECK(display_width("disk") == 4);
  CHECK(display_width("区块链") == 6);
  CHECK(display_width("平台-01") == 7);
  CHECK(display_width("（全角）") == 8);
  CHECK(display_width("한국") == 4);
  CHECK(display_width("e\xCC\x81") == 1);  // e + combining acute
  CHECK(display_width("\xFF\xFE") == 2);   // invalid bytes: one column each
  CHECK(display_width("") == 0);
}

TEST_CASE("table columns line up by display width when cells hold Chinese", "[ctl]") {
  Table t({"HOST", "SYSTEM", "STATUS"});
  t.add({"web-01", "区块链知识产权保护平台", "OK"});
  t.add({"数据共享-02", "hub", "CRITICAL"});
  const auto lines = lines_of(t.render());
  REQUIRE(lines.size() == 3);
  CHECK(column_of(lines[1], "OK") == column_of(lines[0], "STATUS"));
  CHECK(column_of(lines[2], "CRITICAL") == column_of(lines[0], "STATUS"));
  CHECK(column_of(lines[2], "hub") == column_of(lines[0], "SYSTEM"));
  CHECK(column_of(lines[0], "SYSTEM") == display_width("数据共享-02") + 2);
  for (const auto& l : lines) CHECK(l.back() != ' ');
}

TEST_CASE("control characters from agents cannot reach the operator's terminal", "[ctl]") {
  CHECK(terminal_safe("a\x1b[2Jb") == "a?[2Jb");
  CHECK(terminal_safe("line1\nline2\tx") == "line1 line2 x");
  CHECK(terminal_safe("磁盘\xC2\x9B") == "磁盘?");  // C1 CSI
  Table t({"SUMMARY"});
  t.add({"\x1b]0;owned\x07"});
  CHECK(t.render().find('\x1b') == std::string::npos);
}

TEST_CASE("times are read and shown in the contract zone", "[ctl]") {
  auto sh = ContractZone::load("Asia/Shanghai");
  REQUIRE(sh.ok());
  // 2026-11-30 00:00 in Shanghai is 2026-11-29 16:00 UTC = 1795968000000 ms.
  const std::int64_t midnight = 1795968000000;
  CHECK(*sh->parse("2026-11-30", 0) == midnight);
  CHECK(*sh->parse("2026-11-30 08:00", 0) == midnight + 8 * 3'600'000);
  CHECK(*sh->parse("2026-11-30T08:00:05", 0) == midnight + 8 * 3'600'000 + 5000);
  CHECK(sh->format(midnight + 5000) == "2026-11-30 00:00:05");
  CHECK(sh->format(0) == "-");

  auto utc = ContractZone::load("UTC");
  REQUIRE(utc.ok());
  CHECK(*utc->parse("2026-11-30", 0) == midnight + 8 * 3'600'000);
}

TEST_CASE("relative times count back from now", "[ctl]") {
  auto z = ContractZone::load("Asia/Shanghai");
  REQUIRE(z.ok());
  const std::int64_t now = 1'800'000'000'000;
  CHECK(*z->parse("now", now) == now);
  CHECK(*z->parse("-24h", now) == now - 86'400'000);
  CHECK(*z->parse("-1h30m", now) == now - 5'400'000);
}

TEST_CASE("a time in no accepted form is refused with the forms listed", "[ctl]") {
  auto z = ContractZone::load("Asia/Shanghai");
  REQUIRE(z.ok());
  for (const char* bad : {"yesterday", "24h", "-x", "2026-13-01", "2026-02-30", "2026-11-30 25:00", "30/11/2026"}) {
    auto r = z->parse(bad, 0);
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().find(bad) != std::string::npos);
  }
  CHECK(z->parse("24h", 0).error().find("-24h") != std::string::npos);
  CHECK_FALSE(ContractZone::load("Mars/Olympus").ok());
}

TEST_CASE("metric values print without noise digits", "[ctl]") {
  CHECK(format_value(85.5) == "85.5");
  CHECK(format_value(3.0) == "3");
  CHECK(format_value(-2.0) == "-2");
  CHECK(format_value(0.000123) == "0.000123");
  CHECK(format_value(1.0 / 3) == "0.333333");
}

TEST_CASE("a host answer with fields missing still renders the rest", "[ctl]") {
  auto z = ContractZone::load("UTC");
  REQUIRE(z.ok());
  const auto out = render_hosts(nlohmann::json::parse(R"({"hosts":[{"id":"web-01","labels":5}]})"), *z);
  CHECK(out.find("web-01") != std::string::npos);
  CHECK(render_hosts(nlohmann::json::parse(R"({"hosts":[]})"), *z) == "no hosts have reported yet\n");
  CHECK(render_series(nlohmann::json::parse("[]"), *z) == "no data in this period\n");
}

TEST_CASE("the licence table shows whole days left and lines up after Chinese products", "[ctl]") {
  auto z = ContractZone::load("Asia/Shanghai");
  REQUIRE(z.ok());
  const auto answer = nlohmann::json::parse(R"({"licences":[
    {"id":2,"product":"达梦数据库 DM8","holder":"某市大数据中心","host":"db-01","valid_until":"2026-12-05",
     "days_left":3.7,"state":"active","contract":"HT-1","source":"check","check":"licence:dm"},
    {"id":1,"product":"BaaS","holder":"h","host":"","valid_until":"2026-11-30","days_left":-0.4,
     "state":"active","contract":"","source":"operator"}]})");
  const auto lines = lines_of(render_licences(answer, *z));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind("ID  DAYS LEFT  VALID UNTIL  STATE", 0) == 0);
  CHECK(column_of(lines[1], "某市大数据中心") == column_of(lines[0], "HOLDER"));
  CHECK(column_of(lines[2], "h ") == column_of(lines[0], "HOLDER"));
  CHECK(lines[1].find(" 3 ") != std::string::npos);    // 3.7 days: 3 whole days left
  CHECK(lines[2].find(" -1 ") != std::string::npos);   // expired today
  CHECK(lines[1].find("check licence:dm") != std::string::npos);
  CHECK(render_licences(nlohmann::json::parse(R"({"licences":[]})"), *z) == "no licences registered\n");
}

TEST_CASE("one licence shows its lifecycle with expiries in the contract zone", "[ctl]") {
  auto z = ContractZone::load("Asia/Shanghai");
  REQUIRE(z.ok());
  // 2026-11-01 00:00 +08:00 = 2026-10-31 16:00 UTC.
  const auto answer = nlohmann::json::parse(R"({"id":3,"product":"p","holder":"h","valid_until":"2026-10-31",
    "days_left":10,"state":"active","source":"operator","events":[
      {"ts":1793462400000,"event":"renewed","event_zh":"续期","actor":"api:wang","audit_id":9,
       "detail":{"from_expiry":1793462400000,"expiry":1824998400000,"note":"续签"}}]})");
  const auto out = render_licence(answer, *z);
  CHECK(out.find("valid until  2026-10-31 (10 days left)") != std::string::npos);
  CHECK(out.find("续期 renewed  api:wang  #9") != std::string::npos);
  CHECK(out.find("from_expiry=2026-11-01 00:00:00") != std::string::npos);
  CHECK(out.find("note=续签") != std::string::npos);
}

TEST_CASE("incident tables show number, level, state, deadlines and breaches in the contract zone", "[ctl]") {
  auto zone = ContractZone::load("Asia/Shanghai");
  REQUIRE(zone.ok());
  const std::int64_t t0 = 1'764'547'200'000;  // 2025-12-01 00:00 UTC = 08:00 Shanghai
  nlohmann::json inc = {{"number", "INC-0007"}, {"level", "P1"}, {"state", "acknowledged"},
                        {"title", "db-01 proc:postgres"}, {"host", "db-01"}, {"system", "区块链平台"},
                        {"opened", t0}, {"opened_by", "collector"}, {"acknowledged", t0 + 2'400'000},
                        {"acknowledged_by", "api:zhangsan"}, {"resolved", 0}, {"closed", 0},
                        {"respond_due", t0 + 1'800'000}, {"repair_due", t0 + 7'200'000},
                        {"respond_breached", true}, {"repair_breached", false}, {"cause", "磁盘满"},
                        {"alerts", {{{"host", "db-01"}, {"check", "proc:postgres"}, {"since", t0}, {"resolved", 0}}}},
                        {"timeline", {{{"ts", t0}, {"kind", "opened"}, {"actor", "collector"}, {"text", "P1"}},
                                      {{"ts", t0 + 2'400'000}, {"kind", "acknowledged"}, {"actor", "api:zhangsan"},
                                       {"text", "到场\x1b[2J"}}}}};
  const std::string list = render_incidents({{"incidents", {inc}}}, *zone);
  INFO(list);
  auto rows = lines_of(list);
  REQUIRE(rows.size() == 2);
  CHECK_THAT(rows[0], Catch::StartsWith("NUMBER"));
  CHECK_THAT(rows[1], Catch::Contains("INC-0007"));
  CHECK_THAT(rows[1], Catch::Contains("2025-12-01 08:30:00"));  // respond by
  CHECK_THAT(rows[1], Catch::Contains("respond"));
  CHECK(column_of(rows[0], "HOST") == column_of(rows[1], "db-01"));
  CHECK(render_incidents({{"incidents", nlohmann::json::array()}}, *zone) == "no incidents match\n");

  const std::string one = render_incident(inc, *zone);
  INFO(one);
  CHECK_THAT(one, Catch::Contains("2025-12-01 08:30:00  BREACHED"));
  CHECK_THAT(one, Catch::Contains("2025-12-01 08:40:00  api:zhangsan"));
  CHECK_THAT(one, Catch::Contains("磁盘满"));
  CHECK_THAT(one, Catch::Contains("\nalerts\n"));
  CHECK_THAT(one, Catch::Contains("\ntimeline\n"));
  CHECK_THAT(one, !Catch::Contains("\x1b"));  // agent or operator text cannot drive the terminal
  // An action's answer wraps the incident.
  CHECK_THAT(render_incident({{"incident", inc}}, *zone), Catch::Contains("INC-0007"));
}

TEST_CASE("silence tables show number, whether in force, times, the weekly window and the matchers", "[ctl]") {
  auto zone = ContractZone::load("UTC");
  REQUIRE(zone.ok());
  nlohmann::json one{{"label", "S-1"}, {"active", true}, {"starts", 1'764'547'200'000}, {"ends", 1'764'554'400'000},
                     {"ended", 0}, {"matchers", {"host=db-01", "check=~proc:.*"}}, {"author", "api:zhangsan"},
                     {"comment", "升级"}};
  nlohmann::json weekly{{"label", "M-2"}, {"active", false}, {"starts", 1'764'547'200'000}, {"ends", 0},
                        {"ended", 1'764'550'000'000}, {"matchers", {"system=平台"}}, {"days", "sat,sun"},
                        {"time", "22:00-02:00"}, {"holidays", "skip"}, {"author", "api:lisi"}, {"comment", "补丁"}};
  const std::string text = render_silences({{"silences", {one, weekly}}}, *zone);
  INFO(text);
  auto rows = lines_of(text);
  REQUIRE(rows.size() == 3);
  CHECK_THAT(rows[1], Catch::StartsWith("S-1  yes"));
  CHECK_THAT(rows[1], Catch::Contains("2025-12-01 00:00:00  2025-12-01 02:00:00"));
  CHECK(column_of(rows[0], "MATCHERS") == column_of(rows[1], "host=db-01"));
  CHECK_THAT(rows[1], Catch::Contains("host=db-01 check=~proc:.*"));
  CHECK_THAT(rows[2], Catch::Contains("(ended)"));
  CHECK_THAT(rows[2], Catch::Contains("sat,sun 22:00-02:00 holidays:skip"));
  CHECK_THAT(render_silences({{"silence", one}}, *zone), Catch::Contains("S-1"));
  CHECK_THAT(render_silences({{"silences", nlohmann::json::array()}}, *zone), Catch::StartsWith("none in force"));
}
