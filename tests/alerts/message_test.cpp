// Message text: templates, the fields the person on duty needs, and byte limits.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <ctime>

#include "xj/alerts/channel.hpp"
#include "xj/alerts/message_builder.hpp"
#include "xj/alerts/message_template.hpp"

using namespace xj;
using namespace xj::alerts;

namespace {

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

Alert disk_alert() {
  ::setenv("TZ", "Asia/Shanghai", 1);
  ::tzset();
  Alert a;
  a.fingerprint = "f1";
  a.kind = AlertKind::kStatus;
  a.host = "db-01";
  a.check = "disk:/data";
  a.labels = {{"system", "区块链知识产权保护平台"}};
  a.severity = Status::kCritical;
  a.since_ms = 1'764'583'200'000;  // 2025-12-01 18:00:00 +0800
  a.summary = "/data 93.2% used";
  Metric m{"used_pct", 93.2, "%", {{"mount", "/data"}}, Range::parse_nagios("80").value(),
           Range::parse_nagios("90").value()};
  a.metrics = {m};
  return a;
}

}  // namespace

TEST_CASE("templates insert values and keep or drop sections") {
  TemplateVars v{{"host", "web-01"}, {"link", ""}, {"x", "1"}};
  CHECK(render_template("主机 {{host}}{{#link}} [详情]({{link}}){{/link}}", v) == "主机 web-01");
  CHECK(render_template("{{^link}}无链接{{/link}}", v) == "无链接");
  CHECK(render_template("{{#x}}a{{#x}}b{{/x}}c{{/x}}", v) == "abc");
  CHECK(render_template("{{unknown}}-", v) == "-");
}

TEST_CASE("a firing message names severity, system, host, check, since, value vs threshold and a link") {
  MessageContext ctx;
  ctx.console_url = "https://xunjian.example/";
  std::string text = render_message(disk_alert(), Transition::kFiring, ctx);
  CHECK_THAT(text, Catch::Contains("【严重】"));
  CHECK_THAT(text, Catch::Contains("区块链知识产权保护平台"));
  CHECK_THAT(text, Catch::Contains("db-01"));
  CHECK_THAT(text, Catch::Contains("disk:/data"));
  CHECK_THAT(text, Catch::Contains("2025-12-01 18:00:00"));
  CHECK_THAT(text, Catch::Contains("used_pct（mount=/data）：93.2%"));
  CHECK_THAT(text, Catch::Contains("严重阈值 90"));
  CHECK_THAT(text, Catch::Contains("https://xunjian.example/console/hosts/db-01"));  // the console's page
  ctx.console_url = "https://xunjian.example/console";  // written with the console's path: kept
  const std::string kept = render_message(disk_alert(), Transition::kFiring, ctx);
  CHECK_THAT(kept, Catch::Contains("(https://xunjian.example/console/hosts/db-01)"));
  CHECK_THAT(kept, !Catch::Contains("/console/console"));
}

TEST_CASE("a recovery message says when it recovered and how long it lasted") {
  Alert a = disk_alert();
  a.state = AlertState::kResolved;
  a.resolved_ms = a.since_ms + 3'723'000;
  std::string text = render_message(a, Transition::kResolved, {});
  CHECK_THAT(text, Catch::Contains("【已恢复】"));
  CHECK_THAT(text, Catch::Contains("2025-12-01 19:02:03"));
  CHECK_THAT(text, Catch::Contains("1h2m3s"));
}

TEST_CASE("a no-data message says the state is unknown, not recovered") {
  Alert a = disk_alert();
  a.kind = AlertKind::kNoData;
  std::string text = render_message(a, Transition::kFiring, {});
  CHECK_THAT(text, Catch::Contains("【无数据】"));
  CHECK_THAT(text, Catch::Contains("不代表已恢复"));
}

TEST_CASE("splitting keeps every part within the limit and never cuts a UTF-8 character") {
  std::string text;
  for (int i = 0; i < 600; ++i) text += "磁盘使用率过高 " + std::to_string(i) + (i % 7 == 0 ? "\n" : "");
  for (std::size_t limit : {4096u, 1000u, 7u, 5u}) {
    auto parts = split_utf8(text, limit);
    std::string joined;
    for (const auto& p : parts) {
      CHECK(p.size() <= limit);
      CHECK(valid_utf8(p));
      joined += p;
    }
    CHECK(joined == text);
  }
  CHECK(split_utf8("short", 4096).size() == 1);
}

TEST_CASE("splitting prefers a line end when one is in the second half") {
  std::string text = std::string(3000, 'a') + "\n" + std::string(3000, 'b');
  auto parts = split_utf8(text, 4096);
  REQUIRE(parts.size() == 2);
  CHECK(parts[0] == std::string(3000, 'a') + "\n");
}

TEST_CASE("a section tag alone on its line leaves no empty line, which would end the markdown quote") {
  MessageContext ctx;
  ctx.console_url = "https://xunjian.example";
  const std::string text = render_message(disk_alert(), Transition::kFiring, ctx);
  INFO(text);
  CHECK_THAT(text, !Catch::Contains("\n\n"));
  CHECK_THAT(text, Catch::Contains("\n> 当前值 / 阈值：\n> - used_pct"));
  CHECK(render_template("a\n{{#x}}\nb\n{{/x}}\nc", {{"x", "1"}}) == "a\nb\nc");
  CHECK(render_template("a\n{{#x}}\nb\n{{/x}}\nc", {}) == "a\nc");
  CHECK(render_template("a {{#x}}b{{/x}} c", {{"x", "1"}}) == "a b c");
}
