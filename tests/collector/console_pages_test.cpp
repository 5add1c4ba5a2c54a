// The console's pages over a real SQLite store and a real alert pipeline (no socket): who gets
// a page, what the pages show, and that no page carries inline script or style (the CSP
// forbids both). The login and the JSON API behind the buttons are tested end to end in
// tests/console/ with a browser.
#include <catch2/catch.hpp>
#include <regex>

#include "api_fixture.hpp"
#include "xj/collector/console_pages.hpp"
#include "xj/collector/report_service.hpp"
#include "xj/collector/tokens.hpp"

namespace xj::test {
namespace {

constexpr std::int64_t kNow = 1'772'409'600'000;  // 2026-03-02 00:00 UTC

Result check_result(const std::string& check, const std::string& kind, Status s, std::int64_t ts,
                    std::vector<Metric> metrics = {}) {
  Result r;
  r.check = check;
  r.kind = kind;
  r.status = s;
  r.summary = check + " summary";
  r.ts_ms = ts;
  r.metrics = std::move(metrics);
  return r;
}

struct ConsoleFixture : ApiFixture {
  std::optional<ConsoleViewer> who = ConsoleViewer{"wangwu", Role::kOperator, "csrf-123"};
  bool allow = true;
  int secured = 0;
  std::unique_ptr<ConsolePages> pages;

  explicit ConsoleFixture(const std::string& name, bool alerting = true) : ApiFixture(name, alerting) {
    ConsoleSources s;
    s.store = store.get();
    s.pipeline = pipeline.get();
    s.alerts = pipeline ? alert_store.get() : nullptr;
    ConsoleHooks h;
    h.session = [this](const HttpRequest&) { return who; };
    h.allowed = [this](const HttpRequest&) { return allow; };
    h.secure = [this](HttpResponse& r) {
      ++secured;
      r.headers["Content-Security-Policy"] = "default-src 'self'";
    };
    h.clock = [] { return kNow + 60'000; };
    pages = std::make_unique<ConsolePages>(std::move(s), std::move(h));
  }

  void ingest(const std::string& host, std::vector<Result> results, Labels labels = {{"system", "billing"}}) {
    IngestBatch b;
    b.agent = AgentInfo{host, host + ".example", "0.1.0", std::move(labels)};
    std::int64_t seq = 1;
    for (auto& r : results) b.results.push_back({seq++, r});
    b.received_ms = kNow;
    REQUIRE(store->ingest(b).ok());
  }

  HttpResponse get(const std::string& path, std::map<std::string, std::string> query = {},
                   std::map<std::string, std::string> headers = {}) {
    HttpRequest r;
    r.method = "GET";
    r.path = path;
    r.target = path;
    r.query = std::move(query);
    r.headers = std::move(headers);
    return (*pages)(r);
  }
};

// Inline code the CSP would block: <script> without src, style="", on...="" handlers.
bool has_inline_code(const std::string& html) {
  static const std::regex inline_script(R"(<script(?![^>]*\bsrc=)[^>]*>)");
  static const std::regex inline_style(R"(<style|\sstyle=")");
  static const std::regex handler(R"(\son[a-z]+=")");
  return std::regex_search(html, inline_script) || std::regex_search(html, inline_style) ||
         std::regex_search(html, handler);
}

}  // namespace

TEST_CASE("a console page without a session sends the browser to the login page with where it was going") {
  ConsoleFixture f("console-login-redirect");
  f.who.reset();
  HttpRequest r;
  r.method = "GET";
  r.path = "/console/hosts/web-01";
  r.target = "/console/hosts/web-01?x=1";
  auto resp = (*f.pages)(r);
  CHECK(resp.status == 303);
  CHECK(resp.headers.at("Location") == "/console/login?next=%2Fconsole%2Fhosts%2Fweb-01%3Fx%3D1");
  CHECK(f.secured == 1);
  auto login = f.get("/console/login");
  CHECK(login.status == 200);
  CHECK(login.content_type == "text/html; charset=utf-8");
  CHECK(login.body.find("id=\"login-form\"") != std::string::npos);
  CHECK(login.body.find("xunjian-collector user create --admin") != std::string::npos);
}

TEST_CASE("a source address outside the console allow-list gets 403 even for the login page") {
  ConsoleFixture f("console-allow-list");
  f.allow = false;
  for (const char* p : {"/console/", "/console/login", "/console/static/app.js"}) {
    auto r = f.get(p);
    CHECK(r.status == 403);
    CHECK(r.body.find("allow-list") != std::string::npos);
  }
  CHECK(f.secured == 3);
}

TEST_CASE("every console response carries the security headers, pages and static files alike") {
  ConsoleFixture f("console-headers");
  for (const char* p : {"/console/", "/console/hosts", "/console/nope", "/console/static/app.js",
                        "/console/static/console.css", "/console/static/missing.js", "/console/alerts"}) {
    auto r = f.get(p);
    INFO(p);
    CHECK(r.headers.count("Content-Security-Policy") == 1);
  }
  CHECK(f.get("/console/static/app.js").content_type == "text/javascript; charset=utf-8");
  CHECK(f.get("/console/static/console.css").content_type == "text/css; charset=utf-8");
  CHECK(f.get("/console/static/../zh-CN.json").status == 404);
  CHECK(f.get("/console/nope").status == 404);
}

TEST_CASE("the overview counts checks by status and lists hosts down and critical checks") {
  ConsoleFixture f("console-overview");
  f.ingest("web-01", {check_result("disk:/data", "disk", Status::kCritical, kNow, {}),
                      check_result("cpu", "cpu", Status::kOk, kNow)});
  f.ingest("db-01", {check_result("host:alive", "alive", Status::kCritical, kNow),
                     check_result("mem", "memory", Status::kWarning, kNow)});
  auto r = f.get("/console/");
  REQUIRE(r.status == 200);
  CHECK(r.body.find("<meta name=\"csrf-token\" content=\"csrf-123\">") != std::string::npos);
  CHECK(r.body.find("总览") != std::string::npos);
  // The critical tile: 2 critical checks (the disk and host:alive), on 2 hosts.
  CHECK(std::regex_search(r.body, std::regex(R"(tile st-critical[^>]*><span class="num">2</span>)")));
  CHECK(std::regex_search(r.body, std::regex(R"(tile st-warning[^>]*><span class="num">1</span>)")));
  // Hosts per tile are hosts at that worst status: both are at critical, none is all ok.
  CHECK(r.body.find("检查项 · 2 台主机最差为此状态") != std::string::npos);
  CHECK(r.body.find("检查项 · 0 台主机全部正常") != std::string::npos);
  CHECK(r.body.find("disk:/data") != std::string::npos);
  CHECK(r.body.find("/console/hosts/db-01") != std::string::npos);
  CHECK(r.body.find("data-refresh=\"15\"") != std::string::npos);
  CHECK_FALSE(has_inline_code(r.body));
}

TEST_CASE("an empty collector's overview says how to add the first agent") {
  ConsoleFixture f("console-empty");
  auto r = f.get("/console/");
  REQUIRE(r.status == 200);
  CHECK(r.body.find("xunjian-agent") != std::string::npos);
  CHECK(r.body.find("docs/install.md") != std::string::npos);
}

TEST_CASE("the host page shows each check with its metrics and thresholds, status changes and charts") {
  ConsoleFixture f("console-host");
  Metric used{"used_pct", 93.5, "%", {{"mount", "/data"}}, Range::parse_nagios("80").value(),
              Range::parse_nagios("90").value()};
  f.ingest("web-01", {check_result("disk:/data", "disk", Status::kCritical, kNow - 600'000, {used})});
  used.value = 95;
  IngestBatch b;
  b.agent = AgentInfo{"web-01", "web-01.example", "0.1.0", {{"system", "billing"}}};
  b.results.push_back({2, check_result("disk:/data", "disk", Status::kCritical, kNow - 300'000, {used})});
  b.received_ms = kNow;
  REQUIRE(f.store->ingest(b).ok());
  auto r = f.get("/console/hosts/web-01");
  REQUIRE(r.status == 200);
  CHECK(r.body.find("used_pct") != std::string::npos);
  CHECK(r.body.find("<b>95 %</b>") != std::string::npos);
  // Thresholds read as the condition that alerts, in the metric's unit, not as Nagios ranges.
  CHECK(r.body.find("警告条件 &gt; 80 %") != std::string::npos);
  CHECK(r.body.find("严重条件 &gt; 90 %") != std::string::npos);
  CHECK(r.body.find("mount=/data") != std::string::npos);
  CHECK(r.body.find("billing") != std::string::npos);
  CHECK(r.body.find("<svg") != std::string::npos);      // the 24 h chart of used_pct
  CHECK(r.body.find("严重") != std::string::npos);      // status labels in Chinese
  CHECK_FALSE(has_inline_code(r.body));
  CHECK(f.get("/console/hosts/nope").status == 404);
  auto check = f.get("/console/check", {{"host", "web-01"}, {"check", "disk:/data"}});
  REQUIRE(check.status == 200);
  CHECK(check.body.find("disk:/data summary") != std::string::npos);
}

TEST_CASE("metric values read as a person reads them: bytes in binary units, long durations, lower bounds") {
  ConsoleFixture f("console-units");
  Metric free_bytes{"free_bytes", 16640400000, "B", {{"mount", "/"}}, Range::below(20.0 * (1ull << 30)), std::nullopt};
  Metric uptime{"uptime_s", 3 * 86400 + 4 * 3600 + 12, "s", {}, std::nullopt, std::nullopt};
  Metric count{"count", 0, "", {}, std::nullopt, Range::parse_nagios("1:").value()};
  f.ingest("web-01", {check_result("disk", "disk", Status::kWarning, kNow - 60'000, {free_bytes}),
                      check_result("proc:nginx", "process", Status::kCritical, kNow - 60'000, {uptime, count})});
  auto r = f.get("/console/hosts/web-01");
  REQUIRE(r.status == 200);
  CHECK(r.body.find("<b>15.5 GiB</b>") != std::string::npos);       // not 1.66404e+10 B
  CHECK(r.body.find("警告条件 &lt; 20.0 GiB") != std::string::npos);  // not 21474836480:
  CHECK(r.body.find("<b>3 天 4 小时</b>") != std::string::npos);
  CHECK(r.body.find("严重条件 &lt; 1") != std::string::npos);         // not 1:
  auto en = f.get("/console/hosts/web-01", {{"lang", "en"}});
  CHECK(en.body.find("<b>3 d 4 h</b>") != std::string::npos);
  CHECK(en.body.find("critical when &lt; 1") != std::string::npos);
}

TEST_CASE("text from agents is escaped in the pages") {
  ConsoleFixture f("console-escape");
  Result r = check_result("exec:x", "exec", Status::kCritical, kNow);
  r.summary = "<script>alert(1)</script>";
  f.ingest("web-01", {r});
  auto page = f.get("/console/hosts/web-01");
  CHECK(page.body.find("<script>alert(1)") == std::string::npos);
  CHECK(page.body.find("&lt;script&gt;alert(1)") != std::string::npos);
}

TEST_CASE("the check list filters by status, kind, system and host") {
  ConsoleFixture f("console-checks");
  f.ingest("web-01", {check_result("disk:/", "disk", Status::kCritical, kNow), check_result("cpu", "cpu", Status::kOk, kNow)});
  f.ingest("db-01", {check_result("disk:/var", "disk", Status::kOk, kNow)}, {{"system", "crm"}});
  auto crit = f.get("/console/checks", {{"status", "critical"}});
  CHECK(crit.body.find("disk:/") != std::string::npos);
  CHECK(crit.body.find(">cpu<") == std::string::npos);
  auto crm = f.get("/console/checks", {{"system", "crm"}});
  CHECK(crm.body.find("disk:/var") != std::string::npos);
  CHECK(crm.body.find("/console/hosts/web-01") == std::string::npos);
  auto kind = f.get("/console/checks", {{"kind", "cpu"}, {"host", "web-01"}});
  CHECK(kind.body.find(">cpu<") != std::string::npos);
  CHECK(kind.body.find("disk:/") == std::string::npos);
}

TEST_CASE("English comes with ?lang=en and is remembered in a cookie") {
  ConsoleFixture f("console-lang");
  auto en = f.get("/console/", {{"lang", "en"}});
  CHECK(en.body.find("Overview") != std::string::npos);
  CHECK(en.body.find("<html lang=\"en\">") != std::string::npos);
  CHECK(en.headers.at("Set-Cookie").rfind("xj_lang=en;", 0) == 0);
  auto again = f.get("/console/", {}, {{"cookie", "xj_session=abc; xj_lang=en"}});
  CHECK(again.body.find("Overview") != std::string::npos);
  CHECK(f.get("/console/").body.find("总览") != std::string::npos);
}

TEST_CASE("a viewer gets no action forms, an operator does") {
  ConsoleFixture f("console-roles");
  auto opened = f.pipeline->open_incident(alerts::NewIncident{"数据库主从延迟", alerts::IncidentLevel::kP2, "db-01", "crm", "", "api:zhangsan"});
  REQUIRE(opened.ok());
  const std::string path = "/console/incidents/" + std::to_string(opened->id);
  auto as_operator = f.get(path);
  REQUIRE(as_operator.status == 200);
  CHECK(as_operator.body.find("id=\"ack-form\"") != std::string::npos);
  CHECK(as_operator.body.find("数据库主从延迟") != std::string::npos);
  CHECK(as_operator.body.find("data-deadline=") != std::string::npos);  // the countdowns
  CHECK(as_operator.body.find("api:zhangsan") != std::string::npos);    // who opened it, in the timeline
  CHECK_FALSE(has_inline_code(as_operator.body));
  f.who = ConsoleViewer{"lisi", Role::kViewer, "csrf-v"};
  auto as_viewer = f.get(path);
  CHECK(as_viewer.body.find("id=\"ack-form\"") == std::string::npos);
  CHECK(f.get("/console/alerts").body.find("id=\"silence-form\"") == std::string::npos);
  CHECK(f.get("/console/users").status == 403);
  auto overview = f.get("/console/");
  CHECK(overview.body.find(alerts::incident_number(opened->id)) != std::string::npos);
}

TEST_CASE("the alerts page names the rule of a metric alert beside its host and check") {
  ConsoleFixture f("console-metric-rule", false);
  alerts::AlertsConfig cfg;
  cfg.enabled = true;
  alerts::MetricRule rule;
  rule.name = "disk-almost-full";
  rule.expr = alerts::parse_metric_expr("disk.used_pct > 90").value();
  cfg.rules.metric_rules = {rule};
  alerts::AlertPipeline pipeline(*f.alert_store, cfg, {}, [] { return kNow; });
  alerts::Subject subject{"db-01", {{"system", "crm"}}};
  pipeline.on_results(subject, {check_result("disk:/data", "disk", Status::kOk, kNow,
                                             {Metric{"used_pct", 95, "%", {{"mount", "/data"}}, {}, {}}})});
  ConsoleSources src;
  src.store = f.store.get();
  src.pipeline = &pipeline;
  src.alerts = f.alert_store.get();
  ConsoleHooks hooks;
  hooks.session = [](const HttpRequest&) { return ConsoleViewer{"wangwu", Role::kViewer, "c"}; };
  hooks.clock = [] { return kNow + 60'000; };
  ConsolePages pages(src, hooks);
  HttpRequest r;
  r.method = "GET";
  r.path = r.target = "/console/alerts";
  auto page = pages(r);
  REQUIRE(page.status == 200);
  CHECK(page.body.find("db-01 / disk:/data</a> <span class=\"badge\">disk-almost-full</span>") != std::string::npos);
  CHECK(page.body.find("disk.used_pct{mount=/data} 95% &gt; 90%") != std::string::npos);  // its summary
}

TEST_CASE("the alerts page shows an alert under silenced while a matching silence is active") {
  ConsoleFixture f("console-silenced");
  alerts::Subject subject{"db-01", {{"system", "crm"}}};
  f.pipeline->on_results(subject, {check_result("proc:mysqld", "process", Status::kCritical, now_epoch_ms())});
  auto before = f.get("/console/alerts");
  REQUIRE(before.status == 200);
  CHECK(before.body.find("db-01 / proc:mysqld") != std::string::npos);
  CHECK(before.body.find("data-state=\"silenced\"") == std::string::npos);
  alerts::Silence s;
  s.matchers.push_back(alerts::parse_matcher("host=db-01").value());
  s.comment = "migration";
  s.author = "api:zhangsan";
  s.starts_ms = now_epoch_ms() - 1000;
  s.ends_ms = now_epoch_ms() + 3'600'000;
  REQUIRE(f.pipeline->add_silence(s).ok());
  // The console's clock decides "active now"; give it the wall clock for this one.
  ConsoleSources src;
  src.store = f.store.get();
  src.pipeline = f.pipeline.get();
  src.alerts = f.alert_store.get();
  ConsoleHooks hooks;
  hooks.session = [](const HttpRequest&) { return ConsoleViewer{"wangwu", Role::kOperator, "c"}; };
  ConsolePages pages(src, hooks);
  HttpRequest r;
  r.method = "GET";
  r.path = r.target = "/console/alerts";
  auto after = pages(r);
  CHECK(after.body.find("data-state=\"silenced\"") != std::string::npos);
  CHECK(after.body.find("host=db-01") != std::string::npos);
  CHECK(after.body.find("migration") != std::string::npos);
}

TEST_CASE("without alerting the alert and incident pages say how to turn it on") {
  ConsoleFixture f("console-no-alerting", false);
  for (const char* p : {"/console/alerts", "/console/incidents", "/console/incidents/1"}) {
    auto r = f.get(p);
    INFO(p);
    CHECK(r.status == 200);
    CHECK(r.body.find("docs/alerts.md") != std::string::npos);
  }
}

TEST_CASE("the console answers only GET: actions go to the JSON API") {
  ConsoleFixture f("console-methods");
  HttpRequest r;
  r.method = "POST";
  r.path = r.target = "/console/incidents/1";
  auto resp = (*f.pages)(r);
  CHECK(resp.status == 405);
  CHECK(resp.body.find("/api/v1/") != std::string::npos);
}

TEST_CASE("the audit page lists entries newest first and filters by actor and action") {
  ConsoleFixture f("console-audit");
  REQUIRE(f.store->audit("api:zhao", "incident.ack", "incident:1", "{}").ok());
  REQUIRE(f.store->audit("api:qian", "silence.create", "silence:S-1", "{}").ok());
  auto all = f.get("/console/audit");
  REQUIRE(all.status == 200);
  CHECK(all.body.find("api:qian") < all.body.find("api:zhao"));
  auto zhao = f.get("/console/audit", {{"actor", "zhao"}});
  CHECK(zhao.body.find("incident.ack") != std::string::npos);
  CHECK(zhao.body.find("silence.create") == std::string::npos);
  CHECK(all.body.find("id=\"verify-audit\"") != std::string::npos);
  // The page's button asks the JSON API, which a viewer may read.
  auto verdict = f.call("GET", "/api/v1/audit/verify", f.viewer);
  REQUIRE(verdict.status == 200);
  auto j = nlohmann::json::parse(verdict.body);
  CHECK(j["ok"] == true);
  CHECK(j["entries"] == 2);
  CHECK(f.call("GET", "/api/v1/audit/verify", "").status == 401);
}

TEST_CASE("the reports page shows each report's delivery, and /console/reports/ID serves the file it links") {
  ConsoleFixture f("console-report-delivery");
  auto src = open_sqlite_report_source((f.dir / "collector.db").string(), "Asia/Shanghai");
  REQUIRE(src.ok());
  ReportService reports(**src, reports::ContractConfig{}, (f.dir / "reports").string(), [] { return kNow; });
  ReportDelivery d;
  d.rules = {reports::DeliverRule{{"ops-group"}}};
  alerts::ChannelConfig robot;
  robot.name = "ops-group";
  robot.type = "wecom";
  d.channels = {robot};
  d.console_url = "https://xj.example";
  reports.set_delivery(d, [] {});
  ReportRequest req;
  req.period = reports::week_of({2026, 2, 23}, reports.offset());
  req.formats = {"html", "md"};
  req.deliver = true;
  auto made = reports.generate(req);
  REQUIRE(made.ok());
  ConsoleSources s;
  s.store = f.store.get();
  s.reports = &reports;
  ConsoleHooks h;
  h.session = [&f](const HttpRequest&) { return f.who; };
  h.secure = [](HttpResponse& r) { r.headers["Content-Security-Policy"] = "default-src 'self'"; };
  h.clock = [] { return kNow + 60'000; };
  ConsolePages pages(std::move(s), std::move(h));
  auto get = [&](const std::string& path) {
    HttpRequest r;
    r.method = "GET";
    r.path = path;
    r.target = path;
    return pages(r);
  };
  const auto page = get("/console/reports");
  REQUIRE(page.status == 200);
  CHECK_FALSE(has_inline_code(page.body));
  CHECK(page.body.find("ops-group：待发送") != std::string::npos);  // on the report's first file only
  CHECK(page.body.find("ops-group：待发送", page.body.find("ops-group：待发送") + 1) == std::string::npos);
  CHECK(page.body.find("name=\"deliver\"") != std::string::npos);

  const std::string id = std::to_string(made->front().id);
  const auto file = get("/console/reports/" + id);
  REQUIRE(file.status == 200);
  CHECK(file.content_type == "text/html; charset=utf-8");
  CHECK(sha256_hex(file.body) == made->front().sha256);
  // The report's own inline CSS may apply; no script of any kind.
  CHECK(file.headers.at("Content-Security-Policy") ==
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'");
  CHECK(get("/console/reports/999").status == 404);
  CHECK(get("/console/reports/1x").status == 404);
  f.who.reset();
  CHECK(get("/console/reports/" + id).status == 303);
}

}  // namespace xj::test
