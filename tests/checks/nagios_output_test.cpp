// Pure parsers of Nagios plugin output and perfdata, on fixture text and odd input.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "xj/checks/exec_check.hpp"

using namespace xj;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(XJ_SOURCE_DIR) + "/tests/fixtures/exec/" + name, std::ios::binary);
  REQUIRE(in);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("check_disk output gives its summary and a byte metric with thresholds",
          "[exec][parse]") {
  auto out = parse_nagios_output(fixture("check_disk.txt"));
  CHECK(out.summary == "DISK OK - free space: / 81395MiB (83% inode=97%);");
  CHECK(out.long_text.empty());
  REQUIRE(out.perfdata.items.size() == 1);
  const auto& p = out.perfdata.items[0];
  CHECK(p.label == "/");
  CHECK(p.value == 17395875840.0);
  CHECK(p.uom == "B");
  CHECK(p.warn->str() == "243497277849");
  CHECK(p.crit->str() == "257024904396");
  CHECK(*p.min == 0);
  CHECK(*p.max == 270552530944.0);
  CHECK(out.perfdata.skipped.empty());
}

TEST_CASE("perfdata continues after a bar on a later line, long text stays apart",
          "[exec][parse]") {
  auto out = parse_nagios_output(fixture("multiline.txt"));
  CHECK(out.summary == "DISK OK - free space: / 3326 MB (56%);");
  CHECK(out.long_text ==
        "/ 15272 MB (77%);\n/boot 68 MB (69%);\n/home 69357 MB (27%);\n/var/log 819 MB (84%);");
  REQUIRE(out.perfdata.items.size() == 4);
  CHECK(out.perfdata.items[0].label == "/");
  CHECK(out.perfdata.items[1].label == "/boot");
  CHECK(out.perfdata.items[2].label == "/home");
  CHECK(out.perfdata.items[2].value == 69357);
  CHECK(out.perfdata.items[3].label == "/var/log");
  CHECK(out.perfdata.items[3].uom == "MB");
  CHECK(out.perfdata.items[3].crit->str() == "975");
}

TEST_CASE("CRLF line ends and trailing semicolons do not leak into values", "[exec][parse]") {
  auto out = parse_nagios_output(fixture("check_procs_crlf.txt"));
  CHECK(out.summary == "PROCS OK: 71 processes");
  CHECK(out.long_text == "extra line");
  REQUIRE(out.perfdata.items.size() == 1);
  CHECK(out.perfdata.items[0].value == 71);
  CHECK(out.perfdata.items[0].warn->str() == "500");
  CHECK_FALSE(out.perfdata.items[0].crit.has_value());
  CHECK(*out.perfdata.items[0].min == 0);
  CHECK_FALSE(out.perfdata.items[0].max.has_value());
}

TEST_CASE("quoted labels keep their spaces and '' stands for a quote", "[exec][parse]") {
  auto pd = parse_perfdata("'free space'=10GB;;; 'it''s'=1 'a=b'=2 ''''=3");
  REQUIRE(pd.items.size() == 4);
  CHECK(pd.items[0].label == "free space");
  CHECK(pd.items[0].uom == "GB");
  CHECK(pd.items[1].label == "it's");
  CHECK(pd.items[2].label == "a=b");
  CHECK(pd.items[3].label == "'");
  CHECK(pd.skipped.empty());
}

TEST_CASE("every Nagios unit is kept as written", "[exec][parse]") {
  auto pd = parse_perfdata("a=1s b=2ms c=3us d=4% e=5B f=6KB g=7MB h=8TB i=9c j=10");
  REQUIRE(pd.items.size() == 10);
  const char* units[] = {"s", "ms", "us", "%", "B", "KB", "MB", "TB", "c", ""};
  for (std::size_t i = 0; i < 10; ++i) {
    INFO(pd.items[i].label);
    CHECK(pd.items[i].uom == units[i]);
    CHECK(pd.items[i].value == static_cast<double>(i + 1));
    CHECK(to_metric(pd.items[i]).unit == units[i]);
  }
}

TEST_CASE("values may be fractional, negative or in exponent form", "[exec][parse]") {
  auto pd = parse_perfdata("time=0.123s offset=-0.5s big=1.5e3 tiny=2E-3ms plus=+4");
  REQUIRE(pd.items.size() == 5);
  CHECK(pd.items[0].value == Approx(0.123));
  CHECK(pd.items[1].value == Approx(-0.5));
  CHECK(pd.items[2].value == Approx(1500));
  CHECK(pd.items[3].value == Approx(0.002));
  CHECK(pd.items[3].uom == "ms");
  CHECK(pd.items[4].value == 4);
}

TEST_CASE("an unknown value U is skipped without complaint", "[exec][parse]") {
  auto pd = parse_perfdata("rta=U;;;; pl=0%;20;60");
  REQUIRE(pd.items.size() == 1);
  CHECK(pd.items[0].label == "pl");
  CHECK(pd.skipped.empty());
}

TEST_CASE("warn and crit are Nagios ranges carried onto the metric", "[exec][parse]") {
  auto pd = parse_perfdata("a=5;10:;@20:30;0;100 b=1;~:3;bad");
  REQUIRE(pd.items.size() == 2);
  Metric m = to_metric(pd.items[0]);
  CHECK(m.name == "a");
  CHECK(m.warn->str() == "10:");
  CHECK(m.crit->str() == "@20:30");
  CHECK(m.evaluate() == Status::kWarning);  // 5 is below 10
  CHECK(pd.items[1].warn->str() == "~:3");
  CHECK_FALSE(pd.items[1].crit.has_value());
  REQUIRE(pd.skipped.size() == 1);
  CHECK(pd.skipped[0].find("'b': crit ignored") == 0);
}

TEST_CASE("junk perfdata is skipped with the reason, good items around it survive",
          "[exec][parse]") {
  auto pd = parse_perfdata("good=1 junk =2 x=abc y=5%% z=3;;;zero 'open=4");
  REQUIRE(pd.items.size() == 2);
  CHECK(pd.items[0].label == "good");
  CHECK(pd.items[1].label == "z");
  CHECK_FALSE(pd.items[1].min.has_value());
  std::string all;
  for (const auto& s : pd.skipped) all += s + "\n";
  INFO(all);
  CHECK(all.find("'junk': expected label=value") != std::string::npos);
  CHECK(all.find("'=2': empty label") != std::string::npos);
  CHECK(all.find("'x': value 'abc' is not a number") != std::string::npos);
  CHECK(all.find("'y': unit '%%' is not a unit") != std::string::npos);
  CHECK(all.find("min 'zero' ignored") != std::string::npos);
  CHECK(all.find("unterminated quote") != std::string::npos);
}

TEST_CASE("output without perfdata or with nothing at all parses to a bare summary",
          "[exec][parse]") {
  auto plain = parse_nagios_output("OK: fine\n");
  CHECK(plain.summary == "OK: fine");
  CHECK(plain.perfdata.items.empty());
  CHECK(plain.long_text.empty());
  auto empty = parse_nagios_output("");
  CHECK(empty.summary.empty());
  CHECK(empty.perfdata.items.empty());
  auto only_perf = parse_nagios_output("| a=1\n");
  CHECK(only_perf.summary.empty());
  CHECK(only_perf.perfdata.items.size() == 1);
}

TEST_CASE("the allow-list matches exact paths and globs that do not cross directories", "[exec]") {
  const std::vector<std::string> allow = {"/usr/lib/nagios/plugins/*", "/opt/bin/check_app"};
  CHECK(command_allowed("/usr/lib/nagios/plugins/check_disk", allow));
  CHECK(command_allowed("/opt/bin/check_app", allow));
  CHECK_FALSE(command_allowed("/opt/bin/check_app2", allow));
  CHECK_FALSE(command_allowed("/usr/lib/nagios/plugins/sub/check_x", allow));
  CHECK_FALSE(command_allowed("/usr/lib/nagios/plugins/../../../../bin/rm", allow));
  CHECK_FALSE(command_allowed("/usr/lib/nagios/plugins//check_disk", allow));
  CHECK_FALSE(command_allowed("check_disk", allow));
  CHECK_FALSE(command_allowed("/bin/rm", allow));
  CHECK_FALSE(command_allowed("/bin/rm", {}));
}
