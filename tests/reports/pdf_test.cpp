// PDF through the real Chromium (Debian `chromium`), its text read back with pdftotext
// (poppler-utils): the Chinese headings and key numbers must be in the PDF, which needs a CJK
// font (fonts-wqy-zenhei). Skipped with a message when Chromium or pdftotext is missing.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "report_fixture.hpp"
#include "xj/collector/sqlite_report_source.hpp"
#include "xj/reports/pdf.hpp"
#include "xj/reports/render.hpp"

using namespace xj;
using namespace xj::reports;
using namespace xj::test;

namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("a PDF printed by real Chromium carries the Chinese headings and the key numbers", "[reports-pdf]") {
  if (!find_chromium() || std::system("command -v pdftotext >/dev/null") != 0) {
    WARN("chromium or pdftotext not installed (scripts/deps.sh --test installs them): skipped");
    return;
  }
  const auto dir = report_dir("pdf");
  const FixtureStore& fx = shared_fixture_store();
  auto src = open_sqlite_report_source(fx.file.string(), "Asia/Shanghai");
  REQUIRE(src.ok());
  ContractConfig c;
  c.customer = "某市市场监督管理局";
  c.systems = {{"区块链存证平台", {{"system", "chain"}}}, {"数据共享平台", {{"system", "share"}}}};
  const UtcOffset off = [&](std::int64_t t) { return (*src)->utc_offset_ms(t); };
  const Report r = build_report(**src, c, month_of(2026, 3, off), BuildOptions{fx.now});
  auto html = render_html(r);
  REQUIRE(html.ok());
  const auto html_file = dir / report_file_name(r, "html");
  const auto pdf_file = dir / report_file_name(r, "pdf");
  std::ofstream(html_file) << *html;
  auto pdf = html_to_pdf(html_file.string(), pdf_file.string());
  INFO((pdf.ok() ? "" : pdf.error()));
  REQUIRE(pdf.ok());
  CHECK(slurp(pdf_file).rfind("%PDF-", 0) == 0);
  const auto txt = dir / "report.txt";
  REQUIRE(std::system(("pdftotext -layout '" + pdf_file.string() + "' '" + txt.string() + "'").c_str()) == 0);
  const std::string text = slurp(txt);
  for (const char* part : {"运维服务月报", "某市市场监督管理局", "一、总体情况", "九、异常项台账", "四、数据库", "检查内容",
                           "检查结论", "区块链存证平台", "99.798%", "99.910%", "异常"}) {
    INFO(part);
    CHECK(text.find(part) != std::string::npos);
  }
}

TEST_CASE("without Chromium the PDF error names the package to install", "[reports-pdf]") {
  PdfOptions o;
  o.chromium = "/nonexistent/chromium";
  const auto dir = report_dir("pdf-missing");
  std::ofstream(dir / "r.html") << "<html></html>";
  auto r = html_to_pdf((dir / "r.html").string(), (dir / "r.pdf").string(), o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().find("install the Debian package 'chromium'") != std::string::npos);
  CHECK(r.error().find("/nonexistent/chromium") != std::string::npos);
}
