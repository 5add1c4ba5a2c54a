// Rendering: HTML sections and numbers, the Markdown summary's size limit, SVG text widths.
#include <catch2/catch.hpp>
#include <map>
#include <regex>

#include "report_fixture.hpp"
#include "xj/collector/sqlite_report_source.hpp"
#include "xj/reports/render.hpp"
#include "xj/reports/svg_chart.hpp"

using namespace xj;
using namespace xj::reports;
using namespace xj::test;

namespace {

const FixtureStore& fixture() {
  return shared_fixture_store();
}

Report march(const std::string& locale = "zh-CN") {
  auto src = open_sqlite_report_source(fixture().file.string(), "Asia/Shanghai");
  REQUIRE(src.ok());
  ContractConfig c;
  c.customer = "某市市场监督管理局";
  c.service_company = "某某信息技术有限公司";
  c.locale = locale;
  c.systems = {{"区块链存证平台", {{"system", "chain"}}}, {"数据共享平台", {{"system", "share"}}}};
  const UtcOffset off = [&](std::int64_t t) { return (*src)->utc_offset_ms(t); };
  return build_report(**src, c, month_of(2026, 3, off), BuildOptions{fixture().now});
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a CJK character is measured a full em wide and a Latin one about half", "[reports-render]") {
  CHECK(text_width("区块链", 10) == Approx(30));
  CHECK(text_width("abc", 10) == Approx(18));
  CHECK(text_width("web-01 磁盘", 10) == Approx(6 * 6 + 6 + 20));
}

TEST_CASE("charts are SVG with their labels escaped and gaps left open", "[reports-render]") {
  Chart c;
  c.title = "可用率 <daily>";
  c.x_labels = {"03-01", "03-02", "03-03"};
  c.series = {{"区块链存证平台", {99.0, std::nullopt, 100.0}}};
  const std::string line = line_chart(c);
  CHECK(has(line, "<svg"));
  CHECK(has(line, "可用率 &lt;daily&gt;"));
  CHECK(has(line, "区块链存证平台"));
  CHECK(line.find("L") == line.rfind("L"));  // no line across the missing day: M x y, M x y
  // Values with no neighbour draw no line, so each gets a dot; joined values get none.
  auto circles = [](const std::string& svg) {
    std::size_t n = 0;
    for (auto p = svg.find("<circle"); p != std::string::npos; p = svg.find("<circle", p + 1)) ++n;
    return n;
  };
  CHECK(circles(line) == 2);
  Chart joined = c;
  joined.series[0].values[1] = 99.5;
  CHECK(circles(line_chart(joined)) == 0);
  const std::string bars = bar_chart(c);
  CHECK(std::count(bars.begin(), bars.end(), '\n') == 0);
  CHECK(has(bars, "<rect"));
}

TEST_CASE("a stacked bar chart stacks each day's segments so the bar heights add up to the totals",
          "[reports-render]") {
  Chart c;
  c.title = "每日告警数（按级别）";
  c.x_labels = {"03-01", "03-02", "03-03", "03-04"};
  c.series = {{"严重", {2.0, 0.0, 1.0, std::nullopt}}, {"警告", {1.0, 4.0, 1.0, std::nullopt}},
              {"未知", {1.0, 2.0, 0.0, std::nullopt}}};
  const double totals[] = {4, 6, 2, 0};
  const std::string svg = stacked_bar_chart(c);
  const std::regex seg(
      "<rect class=\"seg\" data-series=\"(\\d+)\" data-value=\"([0-9.]+)\" x=\"([0-9.]+)\" y=\"([0-9.]+)\" "
      "width=\"([0-9.]+)\" height=\"([0-9.]+)\"");
  struct Seg {
    int series;
    double value, y, height;
  };
  std::map<double, std::vector<Seg>> slots;  // by x, left to right
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), seg); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    slots[std::stod(m[3])].push_back({std::stoi(m[1]), std::stod(m[2]), std::stod(m[4]), std::stod(m[6])});
  }
  REQUIRE(slots.size() == 3);  // the day without data has no bar
  // Pixels per unit from the tallest bar (6), which reaches the top of the plot (y 28).
  const double px = [&] {
    double h = 0, top = 1e9;
    for (const auto& s : std::next(slots.begin())->second) h += s.height, top = std::min(top, s.y);
    CHECK(top == Approx(28).margin(0.15));
    return h / 6;
  }();
  double baseline = -1;
  std::size_t day = 0;
  for (const auto& [x, segs] : slots) {
    INFO("day " << day);
    double sum = 0;
    for (std::size_t k = 0; k < segs.size(); ++k) {
      CHECK(segs[k].height == Approx(segs[k].value * px).margin(0.15));  // each segment its value
      if (k > 0) {
        CHECK(segs[k].series > segs[k - 1].series);                             // the first at the bottom
        CHECK(segs[k].y + segs[k].height == Approx(segs[k - 1].y).margin(0.15));  // no gap, no overlap
      }
      sum += segs[k].height;
    }
    CHECK(sum == Approx(totals[day] * px).margin(0.3));  // the bar is the day's total
    const double bottom = segs.front().y + segs.front().height;
    if (baseline < 0) baseline = bottom;
    CHECK(bottom == Approx(baseline).margin(0.15));  // every bar stands on the zero line
    ++day;
  }
  CHECK(slots.begin()->second.size() == 3);
  CHECK(std::next(slots.begin())->second.size() == 2);  // a zero segment is not drawn
  CHECK(has(svg, ">严重</text>"));
  CHECK(has(svg, ">警告</text>"));
}

TEST_CASE("the Chinese HTML report has every section and the model's numbers", "[reports-render]") {
  auto html = render_html(march());
  INFO((html.ok() ? "" : html.error()));
  REQUIRE(html.ok());
  const std::string& h = *html;
  for (const char* heading : {"运维服务月报", "一、总体情况", "二、系统可用性", "三、资源使用", "四、数据库",
                              "五、区块链节点", "六、证书与许可证到期", "七、告警统计", "八、故障事件",
                              "九、异常项台账", "十、遗留问题", "十一、未巡检项", "十二、风险与建议",
                              "十三、运维操作", "十四、下月工作计划", "检查内容", "参考标准", "检查结果",
                              "检查结论"}) {
    INFO(heading);
    CHECK(has(h, heading));
  }
  CHECK(has(h, "某市市场监督管理局"));
  CHECK(has(h, "2026-03-01 — 2026-03-31"));
  CHECK(has(h, "99.798%"));  // 区块链存证平台
  CHECK(has(h, "99.910%"));  // 数据共享平台
  CHECK(has(h, "19.0"));     // web-05 /data days to full
  CHECK_FALSE(has(h, "本系统尚未记录故障事件"));  // incidents are tracked: their figures instead
  CHECK(has(h, "<td class=\"num\">3</td><td class=\"num\">25.7</td><td class=\"num\">86.7</td>"
               "<td class=\"num\">66.7%</td><td class=\"num\">66.7%</td>"));  // total, MTTA, MTTR, rates
  CHECK(has(h, "（期内新增）"));
  CHECK(has(h, "采集端丢弃数据"));
  CHECK(has(h, "其余 35 项进程、端口与 HTTP 检查期内无中断"));  // 40 less web-03 nginx, db-02 x2, db-05 x2 (gap)
  // Databases, backups and chain nodes with the hand-computed figures (report_fixture.hpp).
  CHECK(has(h, "<td class=\"num abnormal\">90 / 100 (90.0%)</td>"));  // db-01 connections peak
  CHECK(has(h, "app 1.62 GiB (+709.5 MiB)"));                            // 1.743e9 B, grew 7.44e8 B
  CHECK(has(h, "MAIN 85.5%"));                                           // db-03 tablespace
  CHECK(has(h, "<td class=\"num abnormal\">1 / 700</td>"));            // db-01 long queries
  CHECK(has(h, "<td>db-01</td><td>file_age:backup</td><td class=\"num\">23.0</td><td class=\"num\">47.0</td>"));
  CHECK(has(h, "1000 → 535960 (+534960)"));                              // web-01 height
  CHECK(has(h, "<td class=\"num abnormal\">725</td>"));                // web-02 lag behind the group
  CHECK(has(h, "db-01 数据库连接数 postgres:main</td><td>≤ 80%</td><td>峰值 90.0%</td>"));
  CHECK(has(h, "web-02 节点停滞 ethereum:node</td><td>无停滞</td><td>停滞 1 次</td>"));
  CHECK(has(h, "<td>国密SSL网关</td><td>某市市场监督管理局</td><td></td><td>有效</td><td>2026-04-20</td>"
               "<td class=\"num\">20.0</td>"));
  CHECK(has(h, "<td>续期</td><td>达梦数据库 DM8</td>"));
  CHECK_FALSE(has(h, "许可证台账尚未建立"));
  CHECK(has(h, "本月周巡检汇总"));
  CHECK(has(h, "<td>2026-03-09 — 2026-03-15</td><td class=\"abnormal\">异常</td>"));
  CHECK(has(h, "@media print"));
  CHECK(has(h, "page-break-before"));
  CHECK(std::count(h.begin(), h.end(), '<') > 100);
  CHECK(has(h, "<svg"));
  CHECK_FALSE(has(h, "{{"));  // every tag rendered
}

TEST_CASE("the English HTML report uses the English strings", "[reports-render]") {
  auto html = render_html(march("en"));
  REQUIRE(html.ok());
  CHECK(has(*html, "Monthly service report"));
  CHECK(has(*html, "9. Abnormal items"));
  CHECK(has(*html, "4. Databases"));
  CHECK(has(*html, "5. Blockchain nodes"));
  CHECK(has(*html, "web-02 chain lag ethereum:node</td><td>≤ 9 blocks</td><td>at most 725 blocks behind</td>"));
  CHECK_FALSE(has(*html, "七、异常项台账"));
}

TEST_CASE("the Markdown summary fits one WeChat Work message and links the full report", "[reports-render]") {
  auto md = render_markdown(march(), "https://collector.example/reports/xunjian-month-2026-03.zh-CN.html");
  REQUIRE(md.ok());
  CHECK(md->size() <= kMarkdownLimit);
  CHECK(has(*md, "## 运维服务月报"));
  CHECK(has(*md, "区块链存证平台：可用率 **99.798%**"));
  CHECK(has(*md, "](https://collector.example/reports/xunjian-month-2026-03.zh-CN.html)"));
}

TEST_CASE("a Markdown summary with many abnormal items is cut to fit and says how many are left",
          "[reports-render]") {
  Report r = march();
  for (int i = 0; i < 400; ++i) {
    r.items.push_back({"status", "host-" + std::to_string(i), "exec:" + std::string(300, 'x') + std::to_string(i),
                       std::nullopt, std::nullopt, "critical", Verdict::kAbnormal, 0});
  }
  auto md = render_markdown(r, "https://x.example/r.html");
  REQUIRE(md.ok());
  CHECK(md->size() <= kMarkdownLimit);
  CHECK(has(*md, "另有"));
  CHECK(has(*md, "https://x.example/r.html"));
}
