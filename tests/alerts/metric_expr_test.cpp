// The metric rule expression language: what it accepts, what each comparison means, and the
// exact error (with its column) for what it refuses.
#include <catch2/catch.hpp>

#include "xj/alerts/metric_rule.hpp"

using namespace xj;
using namespace xj::alerts;

namespace {

MetricExpr ok(std::string_view text) {
  auto e = parse_metric_expr(text);
  INFO(text << " -> " << (e ? std::string("ok") : e.error()));
  REQUIRE(e);
  return *e;
}

std::string error_of(std::string_view text) {
  auto e = parse_metric_expr(text);
  return e ? std::string("(accepted)") : e.error();
}

}  // namespace

TEST_CASE("a comparison names a check kind, its metric, an operator and a number") {
  auto e = ok("disk.used_pct > 90");
  REQUIRE(e.terms.size() == 1);
  const MetricTerm& t = e.terms[0];
  CHECK(t.kind == "disk");
  CHECK(t.name == "used_pct");
  CHECK(t.metric_text == "disk.used_pct");
  CHECK(t.op == CompareOp::kGreater);
  CHECK(t.threshold == 90);
  CHECK(t.dimension == UnitDimension::kNone);
  CHECK(t.matchers.empty());
  CHECK(e.text == "disk.used_pct > 90");
}

TEST_CASE("every comparison operator is read, with or without blanks around it") {
  const std::pair<const char*, CompareOp> cases[] = {
      {"cpu.usage_pct>90", CompareOp::kGreater},  {"cpu.usage_pct >= 90", CompareOp::kGreaterEqual},
      {"cpu.usage_pct<90", CompareOp::kLess},     {"cpu.usage_pct <=90", CompareOp::kLessEqual},
      {"cpu.usage_pct == 90", CompareOp::kEqual}, {"cpu.usage_pct!=90", CompareOp::kNotEqual}};
  for (const auto& [text, op] : cases) {
    INFO(text);
    CHECK(ok(text).terms.at(0).op == op);
  }
}

TEST_CASE("label matchers select series by equality, inequality and whole-value regex") {
  auto e = ok(R"(disk.used_pct{mount="/data", fs!='tmpfs', dev=~"sd[a-z]", x!~"a.*",} >= 90.5)");
  const auto& m = e.terms.at(0).matchers;
  REQUIRE(m.size() == 4);
  CHECK(m[0].name == "mount");
  CHECK(m[0].op == "=");
  CHECK(m[0].value == "/data");
  CHECK(m[1].op == "!=");
  CHECK(m[1].value == "tmpfs");
  CHECK(m[2].op == "=~");
  CHECK(m[3].op == "!~");
  CHECK(e.terms[0].threshold == 90.5);
  const MetricTerm& t = e.terms[0];
  CHECK(t.matches_labels({{"mount", "/data"}, {"fs", "ext4"}, {"dev", "sdb"}}));
  CHECK_FALSE(t.matches_labels({{"mount", "/data"}, {"fs", "tmpfs"}, {"dev", "sdb"}}));
  CHECK_FALSE(
      t.matches_labels({{"mount", "/data"}, {"fs", "ext4"}, {"dev", "nvme0"}}));  // whole value
  CHECK_FALSE(t.matches_labels({{"mount", "/data"}, {"fs", "ext4"}, {"dev", "sdb"}, {"x", "abc"}}));
  CHECK_FALSE(t.matches_labels({{"fs", "ext4"}, {"dev", "sdb"}}));  // a missing label is ""
}

TEST_CASE("a quoted value keeps escaped quotes and Chinese text") {
  auto e = ok(R"(exec."响应 时间"{name="a\"b"} > 1)");
  CHECK(e.terms.at(0).name == "响应 时间");
  CHECK(e.terms.at(0).matchers.at(0).value == "a\"b");
}

TEST_CASE(
    "thresholds with a unit are converted to the unit's base and compared in the metric's unit") {
  auto size = ok("disk.free_bytes < 2GiB").terms.at(0);
  CHECK(size.dimension == UnitDimension::kBytes);
  CHECK(size.threshold == 2.0 * 1024 * 1024 * 1024);
  CHECK(*size.holds(1.5 * 1024 * 1024 * 1024, "B"));
  CHECK_FALSE(*size.holds(3, "GB"));  // a perfdata GB is binary too: 3 GiB is not < 2 GiB
  CHECK(*size.holds(1500, "MB"));
  CHECK_FALSE(size.holds(10, "%").has_value());  // a size against a percentage: not comparable

  auto time = ok("http.latency_ms > 500ms").terms.at(0);
  CHECK(time.dimension == UnitDimension::kTime);
  CHECK(*time.holds(501, "ms"));
  CHECK_FALSE(*time.holds(0.4, "s"));
  CHECK(*time.holds(0.6, "s"));
  CHECK(ok("http.latency_ms > 1.5s").terms.at(0).threshold == 1500);
  CHECK(ok("http.cert_days_left < 14d").terms.at(0).threshold == 14.0 * 86'400'000);

  auto pct = ok("disk.used_pct > 90%").terms.at(0);
  CHECK(pct.dimension == UnitDimension::kPercent);
  CHECK(*pct.holds(90.1, "%"));
  CHECK_FALSE(*pct.holds(90, "%"));

  // A plain number is in the metric's own unit, whatever it is.
  auto plain = ok("exec.rta > 100").terms.at(0);
  CHECK(*plain.holds(101, "ms"));
  CHECK(*plain.holds(101, "s"));
  CHECK(plain.condition("ms") == "> 100ms");
  CHECK(size.condition("B") == "< 2GiB");
  CHECK(ok("exec.x >= -1.5e3").terms.at(0).threshold == -1500);
}

TEST_CASE("'and' joins comparisons on one check kind") {
  auto e = ok("exec.rta > 200 and exec.pl >= 20%");
  REQUIRE(e.terms.size() == 2);
  CHECK(e.terms[0].name == "rta");
  CHECK(e.terms[1].name == "pl");
  CHECK(e.terms[1].dimension == UnitDimension::kPercent);
}

TEST_CASE("kinds whose metrics the user names take any metric name") {
  CHECK(ok("exec.time-taken:total > 5s").terms.at(0).name == "time-taken:total");
  CHECK(ok("mysql.orders_pending > 1000").terms.at(0).name == "orders_pending");  // a custom query
}

TEST_CASE("bad expressions are refused naming what is wrong and the column") {
  const std::pair<const char*, const char*> cases[] = {
      {"", "is empty; write a comparison like disk.used_pct > 90"},
      {"   ", "is empty; write a comparison like disk.used_pct > 90"},
      {"disk.used_pct=90", "expected a comparison operator after 'disk.used_pct' at column 14"},
      {"disk.used_pct 90", "expected a comparison operator after 'disk.used_pct' at column 15"},
      {"disk.used_pct", "expected a comparison operator after 'disk.used_pct' at column 14"},
      {"> 90", "expected a metric like disk.used_pct at column 1"},
      {"disk > 90", "expected '.' and a metric name after 'disk' at column 5"},
      {"disk. > 90", "expected a metric name after 'disk.' at column 6"},
      {"disk.used_pct >", "expected a number after '>' at column 16"},
      {"disk.used_pct > high", "expected a number after '>' at column 17"},
      {"disk.used_pct > 90x",
       "unknown unit 'x' after 90 (units: %, B, KiB, MiB, GiB, TiB, KB, MB, GB, TB, us, ms, s, m, "
       "h, d) at column 19"},
      {"disk.used_pct > 90 or cpu.usage_pct > 90",
       "expected 'and' or the end of the expression at column 20"},
      {"disk.used_pct > 90 and", "expected a metric like disk.used_pct at column 23"},
      {R"(disk.used_pct{mount} > 90)", "expected =, !=, =~ or !~ after label 'mount' at column 20"},
      {R"(disk.used_pct{mount=/data} > 90)", "expected a quoted value after 'mount=' at column 21"},
      {R"(disk.used_pct{mount="/data" > 90)", "expected ',' or '}' at column 29"},
      {R"(disk.used_pct{="/data"} > 90)", "expected a label name at column 15"},
      {R"(disk.used_pct{mount="/data} > 90)", "unterminated string at column 21"},
      {R"(disk.used_pct{mount=~"(") > 90)", "label 'mount': bad regular expression '(': "},
      {"dsk.used_pct > 90",
       "'dsk' is not a check kind (disk, cpu, memory, load, process, port, http, "},
      {"disk.used_pt > 90",
       "disk has no metric 'used_pt' (it has used_pct, used_bytes, free_bytes, total_bytes, "},
      {"disk.used_pct > 2GiB", "'2GiB' is a size, but disk.used_pct is in % at column 17"},
      {"http.latency_ms > 5%", "'5%' is a percentage, but http.latency_ms is in ms at column 19"},
      {"http.status_code > 5s",
       "'5s' is a time, but http.status_code is a plain number at column 20"},
      {"disk.used_pct > 90 and cpu.usage_pct > 90",
       "the comparisons of an 'and' must be on one check kind, not 'disk' and 'cpu' at column 24"},
      // Columns count characters, not bytes: the label value before the error is Chinese.
      {R"(exec.x{name="存证平台"} 90)",
       "expected a comparison operator after 'exec.x' at column 21"},
  };
  for (const auto& [text, want] : cases) {
    INFO(text);
    CHECK_THAT(error_of(text), Catch::StartsWith(want));
  }
}

TEST_CASE("values are shown with their unit, sizes in binary units") {
  CHECK(format_metric_value(93.2, "%") == "93.2%");
  CHECK(format_metric_value(93.256, "%") == "93.26%");
  CHECK(format_metric_value(250, "ms") == "250ms");
  CHECK(format_metric_value(1.5 * 1024 * 1024 * 1024, "B") == "1.5 GiB");
  CHECK(format_metric_value(512, "B") == "512 B");
  CHECK(format_metric_value(12, "") == "12");
}
