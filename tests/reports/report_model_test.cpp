// The report model over the fixture store (report_fixture.hpp): every number asserted is the
// hand computation written beside it.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "report_fixture.hpp"
#include "xj/collector/sqlite_report_source.hpp"
#include "xj/reports/report_model.hpp"

using namespace xj;
using namespace xj::reports;
using namespace xj::test;

namespace {

ContractConfig fixture_contract() {
  ContractConfig c;
  c.customer = "某市市场监督管理局";
  c.service_company = "某某信息技术有限公司";
  c.term_from = "2026-03-01";
  c.term_to = "2026-10-31";
  c.availability_target = 99.9;
  c.systems = {{"区块链存证平台", {{"system", "chain"}}}, {"数据共享平台", {{"system", "share"}}}};
  return c;
}

const FixtureStore& fixture() {
  return shared_fixture_store();
}

std::unique_ptr<SqliteReportSource> source() {
  auto s = open_sqlite_report_source(fixture().file.string(), "Asia/Shanghai");
  INFO((s.ok() ? "" : s.error()));
  REQUIRE(s.ok());
  return std::move(s).value();
}

Report march() {
  auto src = source();
  const UtcOffset off = [&](std::int64_t t) { return src->utc_offset_ms(t); };
  return build_report(*src, fixture_contract(), month_of(2026, 3, off), BuildOptions{fixture().now});
}

const HostAvailability& host(const Report& r, const std::string& id) {
  for (const auto& h : r.hosts) {
    if (h.host == id) return h;
  }
  FAIL("no host " << id);
  throw 0;
}

const InspectionItem* item(const Report& r, const std::string& subject, const std::string& host,
                           const std::string& target = "") {
  for (const auto& i : r.items) {
    if (i.subject == subject && i.host == host && i.target == target) return &i;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("the March period is the 31 local days from 2026-03-01 00:00 +08:00", "[reports]") {
  auto src = source();
  const UtcOffset off = [&](std::int64_t t) { return src->utc_offset_ms(t); };
  const Period p = month_of(2026, 3, off);
  CHECK(p.from_ms == kMarch);
  CHECK(p.to_ms == kApril);
  CHECK(p.key() == "month-2026-03");
  const Period w = previous_week(kMarch + 9 * kDay + 8 * kHour, off);  // Tue 03-10
  CHECK(w.first_day.str() == "2026-03-02");
  CHECK(w.last_day.str() == "2026-03-08");
  CHECK(previous_month(fixture().now, off).key() == "month-2026-03");
}

TEST_CASE("host availability counts the known outages exactly and the union of overlapping ones once",
          "[reports]") {
  const Report r = march();
  REQUIRE(r.hosts.size() == 20);
  const auto& web03 = host(r, "web-03");
  CHECK(web03.uptime.window_ms == 44640 * kMin);  // 31 days
  CHECK(web03.uptime.down_ms == 90 * kMin);       // 10:17 -> 11:47
  CHECK(web03.uptime.down_events == 1);
  CHECK(*web03.uptime.availability_pct() == Approx(100.0 * 44550 / 44640));  // 99.798387 %
  CHECK(web03.verdict == Verdict::kAbnormal);
  const auto& db02 = host(r, "db-02");
  CHECK(db02.uptime.down_ms == 40 * kMin);  // port 02:00-02:30 and process 02:10-02:40
  CHECK(*db02.uptime.availability_pct() == Approx(100.0 * 44600 / 44640));  // 99.910394 %
  CHECK(db02.verdict == Verdict::kNormal);
  const auto& web01 = host(r, "web-01");
  CHECK(web01.uptime.down_ms == 0);
  CHECK(*web01.uptime.availability_pct() == 100.0);
  CHECK(web01.uptime.coverage_pct() == 100.0);
}

TEST_CASE("each availability check has its own downtime and down events", "[reports]") {
  const Report r = march();
  int found = 0;
  for (const auto& s : r.services) {
    if (s.host == "db-02" && s.check == "port:5432") {
      CHECK(s.uptime.down_ms == 30 * kMin);
      ++found;
    }
    if (s.host == "db-02" && s.check == "process:postgres") {
      CHECK(s.uptime.down_ms == 30 * kMin);
      ++found;
    }
    if (s.host == "web-03" && s.check == "process:nginx") {
      CHECK(s.uptime.down_ms == 90 * kMin);
      CHECK(s.uptime.down_events == 1);
      ++found;
    }
  }
  CHECK(found == 3);
  CHECK(r.services.size() == 40);  // process + port on 20 hosts
}

TEST_CASE("system availability is the union of its hosts' downtime against the target", "[reports]") {
  const Report r = march();
  REQUIRE(r.systems.size() == 2);
  const auto& chain = r.systems[0];
  CHECK(chain.name == "区块链存证平台");
  CHECK(chain.hosts.size() == 10);
  CHECK(chain.uptime.down_ms == 90 * kMin);
  CHECK(*chain.uptime.availability_pct() == Approx(99.79838709677419));
  CHECK(chain.verdict == Verdict::kAbnormal);
  REQUIRE(chain.daily_pct.size() == 31);
  CHECK(*chain.daily_pct[9] == Approx(100.0 * (1440 - 90) / 1440));  // 03-10
  CHECK(*chain.daily_pct[0] == 100.0);
  const auto& share = r.systems[1];
  CHECK(share.uptime.down_ms == 40 * kMin);
  CHECK(share.uptime.no_data_ms == 0);  // db-05's gap is covered by the other hosts
  CHECK(*share.uptime.availability_pct() == Approx(99.91039426523297));
  CHECK(share.verdict == Verdict::kNormal);
}

TEST_CASE("a gap record from an agent is no data, not uptime", "[reports]") {
  const Report r = march();
  const auto& db05 = host(r, "db-05");
  CHECK(db05.uptime.no_data_ms == 360 * kMin);
  CHECK(db05.uptime.up_ms == (44640 - 360) * kMin);
  CHECK(db05.uptime.coverage_pct() == Approx(100.0 * 44280 / 44640));  // 99.19 %, not 100 %
  bool listed = false;
  for (const auto& n : r.not_inspected) {
    if (n.host == "db-05" && n.reason == "gap") {
      listed = true;
      CHECK(n.from_ms == kMarch + 24 * kDay);
      CHECK(n.to_ms == kMarch + 24 * kDay + 6 * kHour);
      CHECK(n.dropped == 30);  // 6 hours x 5 results
    }
  }
  CHECK(listed);
}

TEST_CASE("a host added mid-month is counted from its first contact", "[reports]") {
  const Report r = march();
  const auto& db10 = host(r, "db-10");
  CHECK(db10.added_in_period);
  CHECK(db10.first_seen_ms == kMarch + 15 * kDay);
  CHECK(db10.uptime.window_ms == 16 * kDay);  // 03-16 .. 03-31
  CHECK(db10.uptime.up_ms == 16 * kDay);
  CHECK(*db10.uptime.availability_pct() == 100.0);
  CHECK_FALSE(host(r, "db-09").added_in_period);
}

TEST_CASE("resources are judged against their standards and disks forecast to fill by least squares",
          "[reports]") {
  const Report r = march();
  const HostResources* web05 = nullptr;
  const HostResources* web07 = nullptr;
  for (const auto& h : r.resources) {
    if (h.host == "web-05") web05 = &h;
    if (h.host == "web-07") web07 = &h;
  }
  REQUIRE(web05 != nullptr);
  REQUIRE(web07 != nullptr);
  REQUIRE(web05->disks.size() == 1);
  const auto& d = web05->disks[0];
  CHECK(d.mount == "/data");
  CHECK(*d.used.avg == Approx(60 + 0.8 * 371.5 / 24));   // 72.3833: mean of 744 hourly samples
  CHECK(*d.used.last == Approx(60 + 0.8 * 743 / 24));    // 84.7667 at 03-31 23:00
  CHECK(d.used.verdict == Verdict::kAbnormal);           // > 80 %
  CHECK(*d.growth_pct_per_day == Approx(0.8));
  CHECK(*d.days_to_full == Approx((100 - (60 + 0.8 * 743 / 24)) / 0.8));  // 19.0417
  CHECK(d.daily_last.size() == 31);
  CHECK(*web07->cpu.avg == Approx(90));
  CHECK(*web07->cpu.peak == Approx(100));
  CHECK(web07->cpu.verdict == Verdict::kAbnormal);
  CHECK(*web07->memory.avg == Approx(50));
  CHECK(web07->memory.verdict == Verdict::kNormal);
}

TEST_CASE("certificates and licences are listed by the window they expire in", "[reports]") {
  const Report r = march();
  // db-01's licence check is in the registry: listed from there, not twice.
  REQUIRE(r.expiries.size() == 1);
  CHECK(r.expiries[0].host == "web-01");
  CHECK(r.expiries[0].target == "api.example:443");
  CHECK(r.expiries[0].days_left == Approx(40 - 743.0 / 24));  // 9.0417
  CHECK(r.expiries[0].within_days == 30);
  CHECK(r.licence_registry);
}

TEST_CASE("the licence registry lists what expires within 30, 60 and 90 days and the period's lifecycle",
          "[reports]") {
  const Report r = march();
  REQUIRE(r.licences.size() == 2);  // DM8 beyond 90 days, 旧版中间件 revoked
  CHECK(r.licences[0].product == "国密SSL网关");
  CHECK(r.licences[0].days_left == Approx(20.0));  // 04-21 00:00 - 04-01 00:00 (the data end)
  CHECK(r.licences[0].within_days == 30);
  CHECK(r.licences[0].state == "active");
  CHECK(r.licences[1].product == "区块链BaaS平台");
  CHECK(r.licences[1].host == "db-01");
  CHECK(r.licences[1].source == "check");
  CHECK(r.licences[1].days_left == Approx(44.0));
  CHECK(r.licences[1].within_days == 60);
  CHECK(item(r, "licence", "", "国密SSL网关")->verdict == Verdict::kAbnormal);
  CHECK(item(r, "licence", "db-01", "区块链BaaS平台")->verdict == Verdict::kNormal);
  // March's lifecycle steps only: no February event, no 'seen'.
  REQUIRE(r.licence_events.size() == 4);
  CHECK(r.licence_events[0].event == "applied");
  CHECK(r.licence_events[0].product == "国密SSL网关");
  CHECK(r.licence_events[0].ts_ms == kMarch + 4 * kDay + 9 * kHour);
  CHECK(r.licence_events[1].event == "activated");
  CHECK(r.licence_events[2].event == "renewed");
  CHECK(r.licence_events[2].actor == "api:zhang");
  CHECK(r.licence_events[3].event == "revoked");
  CHECK(r.licence_events[3].product == "旧版中间件");
}

TEST_CASE("alerts are counted by severity with the noisiest checks first, inside the period only",
          "[reports]") {
  const Report r = march();
  CHECK(r.alerts.total == 6);
  CHECK(r.alerts.by_severity.at("critical") == 4);
  CHECK(r.alerts.by_severity.at("warning") == 2);
  REQUIRE(r.alerts.top.size() == 3);
  CHECK(r.alerts.top[0].host == "web-03");
  CHECK(r.alerts.top[0].firings == 3);
  CHECK(r.alerts.top[1].check == "cpu");
  CHECK(r.alerts.top[1].firings == 2);  // its February firing is not counted
  CHECK(r.alerts.daily[9] == 1);
  // The same per day by severity (the monthly report's stacked chart).
  CHECK(r.alerts.daily_by_severity.at("critical")[9] == 1);  // web-03 on 03-10
  CHECK(r.alerts.daily_by_severity.at("warning")[1] == 1);   // web-07 cpu on 03-02
  CHECK(r.alerts.daily_by_severity.at("warning")[2] == 1);   // and 03-03
  for (std::size_t d = 0; d < r.alerts.daily.size(); ++d) {
    std::int64_t sum = 0;
    for (const auto& [sev, days] : r.alerts.daily_by_severity) sum += days[d];
    CHECK(sum == r.alerts.daily[d]);
  }
  CHECK(r.deliveries.total == 6);
  CHECK(r.deliveries.delivered == 5);
  CHECK(r.deliveries.failed == 1);
}

TEST_CASE("incidents of the period give MTTA, MTTR and on-time rates computed by hand", "[reports]") {
  const Report r = march();
  REQUIRE(r.incidents.has_value());
  const auto& i = *r.incidents;
  CHECK(i.total == 3);  // the February one is not counted
  CHECK(i.acked == 2);
  CHECK(i.resolved == 3);
  // Responses after 12, 45 and 20 (the resolve of the unacknowledged one) minutes.
  CHECK(*i.mtta_min == Approx((12.0 + 45.0 + 20.0) / 3));
  CHECK(*i.mttr_min == Approx((90.0 + 150.0 + 20.0) / 3));
  // db-02's P1: responded after 45 min (due 30), repaired after 150 min (due 120).
  CHECK(*i.respond_on_time_rate == Approx(100.0 * 2 / 3));
  CHECK(*i.repair_on_time_rate == Approx(100.0 * 2 / 3));
}

TEST_CASE("the ledger marks exactly the known abnormal items and carries over what was abnormal before",
          "[reports]") {
  const Report r = march();
  CHECK(item(r, "availability", "web-03")->verdict == Verdict::kAbnormal);
  CHECK(item(r, "availability", "db-02")->verdict == Verdict::kNormal);
  CHECK(item(r, "service", "web-03", "process:nginx")->value == Approx(90));
  CHECK(item(r, "cpu", "web-07")->verdict == Verdict::kAbnormal);
  CHECK(item(r, "disk", "web-05", "/data")->verdict == Verdict::kAbnormal);
  CHECK(item(r, "expiry", "web-01", "api.example:443")->verdict == Verdict::kAbnormal);
  CHECK(item(r, "status", "web-09", "log_scan:app")->status == "warning");
  // availability web-03; services web-03 nginx, db-02 port and process; cpu web-07; disk web-05;
  // expiry web-01; status web-01 tls_cert and web-09 log_scan; db-01 connections, long query
  // and backup; db-03 tablespace; web-02 block interval, lag, peers and stalls; the registry's
  // 国密SSL网关 (20 days left).
  CHECK(r.abnormal_count() == 18);
  CHECK(r.overall == Verdict::kAbnormal);
  REQUIRE(r.carried_over.size() == 1);
  CHECK(r.carried_over[0].host == "web-09");
  CHECK(r.carried_over[0].since_ms == kMarch - 2 * kDay);
}

TEST_CASE("a check that stopped reporting is listed as not inspected for the time it was silent",
          "[reports]") {
  const Report r = march();
  REQUIRE(r.not_inspected.size() == 2);
  const auto& n = r.not_inspected[0];
  CHECK(n.host == "web-10");
  CHECK(n.check == "exec:backup");
  CHECK(n.reason == "partial");
  CHECK(n.no_data_ms == 73 * kHour);  // after 03-28 23:00 until 04-01 00:00
}

TEST_CASE("recommendations come from the rules: disk full within 30 days, below target, expiry",
          "[reports]") {
  const Report r = march();
  REQUIRE(r.recommendations.size() == 4);
  CHECK(r.recommendations[0].rule == "disk_full");
  CHECK(r.recommendations[0].host == "web-05");
  CHECK(r.recommendations[1].rule == "below_target");
  CHECK(r.recommendations[1].target == "区块链存证平台");
  CHECK(r.recommendations[2].rule == "expiry");
  CHECK(r.recommendations[2].target == "国密SSL网关");
  CHECK(r.recommendations[3].rule == "expiry");
  CHECK(r.recommendations[3].target == "api.example:443");
}

TEST_CASE("operator actions are summarised from the audit log", "[reports]") {
  const Report r = march();
  REQUIRE(r.audit.size() == 2);
  CHECK(r.audit[0].action == "token.create");
  CHECK(r.audit[0].count == 2);
  CHECK(r.audit[1].action == "token.revoke");
}

TEST_CASE("a period with no data says no data instead of 100 percent", "[reports]") {
  auto src = source();
  const UtcOffset off = [&](std::int64_t t) { return src->utc_offset_ms(t); };
  const Report r = build_report(*src, fixture_contract(), month_of(2026, 1, off), BuildOptions{fixture().now});
  CHECK(r.hosts.empty());
  CHECK(r.overall == Verdict::kNoData);
  REQUIRE(r.systems.size() == 2);
  CHECK_FALSE(r.systems[0].uptime.availability_pct().has_value());
  CHECK(r.systems[0].verdict == Verdict::kNoData);
  const auto j = to_json(r);
  CHECK(j["systems"][0]["uptime"]["availability_pct"].is_null());
  CHECK(j["overall"] == "no_data");
}

TEST_CASE("a report of the current month counts only up to now", "[reports]") {
  auto src = source();
  const UtcOffset off = [&](std::int64_t t) { return src->utc_offset_ms(t); };
  const std::int64_t now = kMarch + 10 * kDay;  // 03-11 00:00
  const Report r = build_report(*src, fixture_contract(), month_of(2026, 3, off), BuildOptions{now});
  CHECK(r.data_end_ms == now);
  CHECK(host(r, "web-01").uptime.window_ms == 10 * kDay);
  CHECK(host(r, "web-03").uptime.down_ms == 90 * kMin);
  CHECK(r.hosts.size() == 19);  // db-10 had not appeared yet
}

TEST_CASE("the JSON model carries the numbers of the report", "[reports]") {
  const auto j = to_json(march());
  CHECK(j["kind"] == "monthly");
  CHECK(j["period"]["key"] == "month-2026-03");
  CHECK(j["contract"]["customer"] == "某市市场监督管理局");
  CHECK(j["systems"][0]["uptime"]["down_minutes"] == 90.0);
  CHECK(j["incidents"]["tracked"] == true);
  CHECK(j["incidents"]["total"] == 3);
  CHECK(j["abnormal_items"] == 18);
  CHECK(j["licence_registry"]["licences"][0]["days_left"] == 20.0);
  CHECK(j["databases"][0]["connections_peak_pct"]["value"] == 90.0);
  CHECK(j["chain_nodes"][1]["stalls"]["value"] == 1.0);
  CHECK(j["deliveries"]["success_rate_pct"].get<double>() == Approx(100.0 * 5 / 6));
}

TEST_CASE("the weekly inspection report covers Monday to Sunday and that week's outage", "[reports]") {
  auto src = source();
  const UtcOffset off = [&](std::int64_t t) { return src->utc_offset_ms(t); };
  const Period week = week_of(LocalDate{2026, 3, 12}, off);  // a Thursday
  CHECK(week.key() == "week-2026-03-09");
  CHECK(week.from_ms == kMarch + 8 * kDay);
  const Report r = build_report(*src, fixture_contract(), week, BuildOptions{fixture().now});
  CHECK(r.kind == ReportKind::kWeekly);
  CHECK(r.days.size() == 7);
  CHECK(host(r, "web-03").uptime.window_ms == 7 * kDay);
  CHECK(host(r, "web-03").uptime.down_ms == 90 * kMin);
  CHECK(host(r, "db-02").uptime.down_ms == 0);  // its outage is on 03-20
  CHECK(r.alerts.total == 3);                   // web-03 on 03-10, 03-13 and 03-14
}

namespace {

const DatabaseStat& database(const Report& r, const std::string& host) {
  for (const auto& d : r.databases) {
    if (d.host == host) return d;
  }
  FAIL("no database check on " << host);
  throw 0;
}

const ChainNodeStat& chain_node(const Report& r, const std::string& host) {
  for (const auto& c : r.chain_nodes) {
    if (c.host == host) return c;
  }
  FAIL("no chain node on " << host);
  throw 0;
}

}  // namespace

TEST_CASE("databases: connections peak against the maximum, sizes and growth, lag and long queries",
          "[reports]") {
  const Report r = march();
  REQUIRE(r.databases.size() == 3);
  const auto& pg = database(r, "db-01");
  CHECK(pg.check == "postgres:main");
  CHECK(*pg.connections_peak == 90);  // at 03-15 10:00
  CHECK(*pg.max_connections == 100);
  CHECK(*pg.connections_pct.value == 90);
  CHECK(pg.connections_pct.standard == 80);
  CHECK(pg.connections_pct.verdict == Verdict::kAbnormal);
  REQUIRE(pg.sizes.size() == 1);
  CHECK(pg.sizes[0].name == "app");
  CHECK(pg.sizes[0].last_bytes == Approx(1e9 + 743e6));  // 03-31 23:00
  CHECK(*pg.sizes[0].growth_bytes == Approx(744e6));     // 744 runs of 1 MB each
  CHECK(*pg.replication_lag_s.value == 12);
  CHECK(pg.replication_lag_s.verdict == Verdict::kNormal);  // <= 30 s
  CHECK(*pg.long_queries_peak == 1);
  CHECK(*pg.longest_query_s.value == 700);
  CHECK(pg.longest_query_s.verdict == Verdict::kAbnormal);  // > 600 s
  CHECK(pg.tablespaces.empty());

  const auto& my = database(r, "db-02");
  CHECK(*my.connections_pct.value == 15);
  CHECK(my.connections_pct.verdict == Verdict::kNormal);
  REQUIRE(my.sizes.size() == 1);
  CHECK(my.sizes[0].name == "shop");
  CHECK(*my.sizes[0].growth_bytes == 0);
  CHECK(*my.replication_lag_s.value == 0);  // seconds_behind

  const auto& dm = database(r, "db-03");
  CHECK(dm.kind == "odbc");
  CHECK(*dm.connections_peak == 20);  // sessions
  CHECK(*dm.max_connections == 100);
  REQUIRE(dm.tablespaces.size() == 1);
  CHECK(dm.tablespaces[0].name == "MAIN");
  CHECK(*dm.tablespaces[0].used_pct.value == Approx(70 + 0.5 * 743 / 24));  // 85.4792 %
  CHECK(dm.tablespaces[0].used_pct.verdict == Verdict::kAbnormal);           // > 85 %
  CHECK_FALSE(dm.replication_lag_s.value.has_value());
  CHECK(dm.replication_lag_s.verdict == Verdict::kNoData);

  CHECK(item(r, "db_connections", "db-01", "postgres:main")->verdict == Verdict::kAbnormal);
  CHECK(item(r, "tablespace", "db-03", "odbc:dm MAIN")->verdict == Verdict::kAbnormal);
  CHECK(item(r, "replication_lag", "db-03", "odbc:dm") == nullptr);  // not measured: no item
}

TEST_CASE("backup freshness is the peak age of the newest backup file", "[reports]") {
  const Report r = march();
  REQUIRE(r.backups.size() == 1);
  const auto& b = r.backups[0];
  CHECK(b.host == "db-01");
  CHECK(b.check == "file_age:backup");
  CHECK(*b.age_peak_h.value == 47);  // 03-18 23:00, the day its backup was missing
  CHECK(b.age_peak_h.standard == 26);
  CHECK(b.age_peak_h.verdict == Verdict::kAbnormal);
  CHECK(*b.last_h == 23);
  CHECK(item(r, "backup", "db-01", "file_age:backup")->value == Approx(47));
}

TEST_CASE("chain nodes: height growth, longest block interval, lag behind the group, peers, stalls",
          "[reports]") {
  const Report r = march();
  REQUIRE(r.chain_nodes.size() == 2);
  const auto& a = chain_node(r, "web-01");
  CHECK(a.chain == "evidence");
  REQUIRE(a.ledgers.size() == 1);
  CHECK(a.ledgers[0].first == 1000);
  CHECK(a.ledgers[0].last == 1000 + 720 * 743);
  CHECK(a.ledgers[0].growth() == 720 * 743);  // 534960 blocks
  CHECK(*a.longest_interval_s.value == 6);
  CHECK(*a.lag_blocks.value == 0);
  CHECK(*a.peers_min.value == 3);
  CHECK(*a.stalls.value == 0);
  for (const Judged* j : {&a.longest_interval_s, &a.lag_blocks, &a.peers_min, &a.stalls}) {
    CHECK(j->verdict == Verdict::kNormal);
  }
  const auto& b = chain_node(r, "web-02");
  CHECK(b.ledgers[0].first == 995);
  CHECK(b.ledgers[0].last == 995 + 720 * 743);
  CHECK(*b.longest_interval_s.value == 3600);  // > 120 s
  CHECK(*b.lag_blocks.value == 725);           // the chain view at 03-12 06:00
  CHECK(*b.peers_min.value == 0);              // < 1
  CHECK(*b.stalls.value == 1);                 // critical 06:00 -> 07:00
  for (const Judged* j : {&b.longest_interval_s, &b.lag_blocks, &b.peers_min, &b.stalls}) {
    CHECK(j->verdict == Verdict::kAbnormal);
  }
  // The collector's own host carries only the chain view: not a host of the report.
  CHECK(r.hosts.size() == 20);
  for (const auto& n : r.not_inspected) CHECK(n.host != "collector");
}

TEST_CASE("the monthly report summarises each week of the month as its weekly inspection would",
          "[reports]") {
  const Report r = march();
  // Weeks overlapping March: 02-23 (with 03-01, a Sunday), 03-02, 03-09, 03-16, 03-23, 03-30.
  REQUIRE(r.weeks.size() == 6);
  CHECK(r.weeks[0].period.key() == "week-2026-02-23");
  CHECK(r.weeks[1].period.key() == "week-2026-03-02");
  CHECK(r.weeks[5].period.key() == "week-2026-03-30");
  auto carries = [](const WeekSummary& w, const std::string& host, const std::string& check) {
    for (const auto& i : w.carried_over) {
      if (i.host == host && i.target == check) return true;
    }
    return false;
  };
  // web-09's log_scan went warning on 02-27: not yet carried in its first week, every week after.
  CHECK_FALSE(carries(r.weeks[0], "web-09", "log_scan:app"));
  for (std::size_t i = 1; i < r.weeks.size(); ++i) {
    INFO(r.weeks[i].period.key());
    CHECK(carries(r.weeks[i], "web-09", "log_scan:app"));
  }
  // The week of web-03's 90-minute outage: 99.107 % over 7 days, below 99.9 %.
  auto src = source();
  const UtcOffset off = [&](std::int64_t t) { return src->utc_offset_ms(t); };
  const Report week = build_report(*src, fixture_contract(), week_of(LocalDate{2026, 3, 9}, off),
                                   BuildOptions{fixture().now});
  CHECK(item(week, "availability", "web-03")->verdict == Verdict::kAbnormal);
  CHECK(*item(week, "availability", "web-03")->value == Approx(100.0 * (7 * 1440 - 90) / (7 * 1440)));
  CHECK(r.weeks[2].overall == Verdict::kAbnormal);
  CHECK(r.weeks[2].abnormal == week.abnormal_count());
  CHECK(week.weeks.empty());  // a weekly report has no appendix of weeks
  CHECK(to_json(r)["weeks"].size() == 6);
}
