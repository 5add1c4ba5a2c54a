// The deterministic fixture store of the report tests: March 2026 (Asia/Shanghai) for 20 hosts,
// written through the real SQLite store (ingest with an injected clock, then maintain() rolls
// the hours and days up as the collector would). Every number the tests assert follows from
// the constants below; the comments give the hand computation.
//
// Hosts: web-01..web-10 (system 区块链存证平台, label system=chain), db-01..db-10 (数据共享平台,
// system=share). Each reports every local hour: cpu, memory, disk:/data, process:<name>,
// port:<n>. Known events:
//   web-03 process:nginx critical 03-10 10:17 -> 11:47 (90 min)            -> 99.798387 %
//   db-02  port:5432 critical 03-20 02:00 -> 02:30, process:postgres 02:10 -> 02:40:
//          the host is down for the union, 02:00 -> 02:40 (40 min)          -> 99.910394 %
//   db-05  gap record 03-25 00:00 -> 06:00 (agent dropped 6 hours): 360 min no data
//   db-10  first contact 03-16 00:00: counted over 16 days (23040 min)
//   web-05 disk /data 60 % + 0.8 %/day (others 40 % + 0.1 %/day): 84.7667 % at the end,
//          (100 - 84.7667) / 0.8 = 19.0417 days to full
//   web-07 cpu 80 % / 100 % alternating: average 90 % > 85 %
//   web-09 log_scan:app warning since 02-27 and still: carried over (遗留问题)
//   web-10 exec:backup stops reporting after 03-28 23:00: 73 h without data (未巡检)
//   web-01 tls_cert days_left 40 - days: 9.0417 at the end; db-01 licence 75 - days: 44.0417
// Databases, backups, chain nodes (hour k = 0 .. 743 of March; metric names of docs/checks.md):
//   db-01 postgres:main connections 40 of 100, 90 at 03-15 10:00 (peak 90 % > 80 %);
//          db_size_bytes{database=app} 1e9 + 1e6 k (1.743e9 at the end), db_growth_bytes 1e6
//          each run (744 runs: 7.44e8); longest_query_s 5, 700 at 03-20 03:00 (> 600 s);
//          replication_lag_s 2, 12 at 03-22 12:00 (<= 30 s)
//   db-01 file_age:backup age_s (k mod 24) h; the 03-18 backup is missing: 24 + (k mod 24) h
//          that day (peak 47 h > 26 h, critical from 27 h), 23 h at the end
//   db-02 mysql:main 30 of 200 connections (15 %), schema shop 5e8 B, no lag, no long query
//   db-03 odbc:dm sessions 20 of 100; tablespace_used_pct{tablespace=MAIN} 70 + 0.5 days:
//          85.4792 % at the end (> 85 %)
//   web-01, web-02 ethereum:node (chain evidence): web-01 height 1000 + 720 k, head age 6 s,
//          3 peers; web-02 5 blocks behind, and at 03-12 06:00 (k = 270) stalled: height of
//          k = 269, head age 3600 s, 0 peers, critical for that hour (one stall), 725 behind.
//          The collector's chain view (host `collector`, check chain:evidence, kind chain)
//          reports lag_blocks per member; the collector host is not a host of the report.
// Licence registry (written directly, like the incidents): 1 the db-01 licence check's own
// (expiry 03-01 + 75 d = 04-01 + 44 d: 44.0 days from the data end, within 60; listed from the
// registry, not from the check), 2 国密SSL网关 by an operator, 04-21 (20.0 days, within 30:
// abnormal), applied 03-05 and activated 03-06; 3 达梦数据库 DM8 renewed 03-20 to 04-01 + 100 d
// (beyond 90: not listed); 4 旧版中间件 revoked 03-25 (not listed though within 10 days);
// events of February and 'seen' events are not lifecycle steps of March.
// Alert history and outbox rows are written directly (SqliteAlertStore stamps its rows with
// the wall clock, and these must fall inside March).
#pragma once

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../collector/store_test_util.hpp"
#include "xj/collector/sqlite_store.hpp"

namespace xj::test {

// 2026-03-01 00:00 +08:00
constexpr std::int64_t kMarch = 1'772'294'400'000;
constexpr std::int64_t kApril = kMarch + 31 * kDay;
// SHA-256 of this header (tests/reports/CMakeLists.txt): a changed fixture is written anew.
constexpr const char* kFixtureStamp = XJ_FIXTURE_KEY;

inline std::filesystem::path report_dir(const std::string& name) {
  auto dir = std::filesystem::path(XJ_BINARY_DIR) / "report_tests" / (name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void sql(sqlite3* db, const std::string& text) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &err);
  INFO(text << ": " << (err != nullptr ? err : ""));
  sqlite3_free(err);
  REQUIRE(rc == SQLITE_OK);
}

struct FixtureHost {
  std::string id, system, process, port;
  std::int64_t first = kMarch;
};

inline std::vector<FixtureHost> fixture_hosts() {
  std::vector<FixtureHost> out;
  for (int i = 1; i <= 10; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "web-%02d", i);
    out.push_back({id, "chain", i == 3 ? "nginx" : "node", "8545"});
  }
  for (int i = 1; i <= 10; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "db-%02d", i);
    out.push_back({id, "share", "postgres", "5432", i == 10 ? kMarch + 15 * kDay : kMarch});
  }
  return out;
}

// The results of one host for the local hour starting at `t`.
inline std::vector<Result> hour_results(const FixtureHost& h, std::int64_t t) {
  const double days = static_cast<double>(t - kMarch) / static_cast<double>(kDay);
  const bool web05 = h.id == "web-05";
  std::vector<Result> rs;
  const double cpu = h.id == "web-07" ? ((t / kHour) % 2 == 0 ? 80.0 : 100.0) : 20.0;
  rs.push_back(result("cpu", Status::kOk, t, {metric("usage_pct", cpu)}));
  rs.push_back(result("memory", Status::kOk, t, {metric("available_pct", 50)}));
  rs.push_back(result("disk:/data", Status::kOk, t,
                   {metric("used_pct", web05 ? 60 + 0.8 * days : 40 + 0.1 * days, {{"mount", "/data"}})}));
  rs.push_back(result("process:" + h.process, Status::kOk, t));
  rs.push_back(result("port:" + h.port, Status::kOk, t));
  if (h.id == "web-01") {
    rs.push_back(result("tls_cert", Status::kWarning, t,
                     {metric("days_left", 40 - days, {{"target", "api.example:443"}})}));
  }
  if (h.id == "db-01") rs.push_back(result("licence", Status::kOk, t, {metric("days_left", 75 - days)}));
  if (h.id == "web-09") rs.push_back(result("log_scan:app", Status::kWarning, t));
  if (h.id == "web-10" && t < kMarch + 28 * kDay) rs.push_back(result("exec:backup", Status::kOk, t));
  const std::int64_t k = (t - kMarch) / kHour;
  if (h.id == "db-01") {
    const double conn = k == 14 * 24 + 10 ? 90 : 40;
    const Labels app{{"database", "app"}};
    rs.push_back(result("postgres:main", Status::kOk, t,
                        {metric("connections", conn), metric("max_connections", 100), metric("connections_pct", conn),
                         metric("db_size_bytes", 1e9 + 1e6 * static_cast<double>(k), app),
                         metric("db_growth_bytes", 1e6, app), metric("long_queries", k == 19 * 24 + 3 ? 1 : 0),
                         metric("longest_query_s", k == 19 * 24 + 3 ? 700 : 5),
                         metric("replication_lag_s", k == 21 * 24 + 12 ? 12 : 2, {{"standby", "db-02"}})}));
    const double age_h = static_cast<double>(k % 24 + (k / 24 == 17 ? 24 : 0));
    rs.push_back(result("file_age:backup", age_h > 26 ? Status::kCritical : Status::kOk, t,
                        {metric("age_s", age_h * 3600)}));
  }
  if (h.id == "db-02") {
    rs.push_back(result("mysql:main", Status::kOk, t,
                        {metric("connections", 30), metric("max_connections", 200), metric("connections_pct", 15),
                         metric("schema_size_bytes", 5e8, {{"schema", "shop"}}),
                         metric("schema_growth_bytes", 0, {{"schema", "shop"}}), metric("seconds_behind", 0),
                         metric("long_queries", 0), metric("longest_query_s", 0)}));
  }
  if (h.id == "db-03") {
    rs.push_back(result("odbc:dm", Status::kOk, t,
                        {metric("sessions", 20), metric("max_sessions", 100), metric("sessions_pct", 20),
                         metric("tablespace_used_pct", 70 + 0.5 * days, {{"tablespace", "MAIN"}})}));
  }
  if (h.id == "web-01" || h.id == "web-02") {
    const bool stalled = h.id == "web-02" && k == 270;
    const double height = h.id == "web-01" ? 1000 + 720.0 * static_cast<double>(k)
                                           : 995 + 720.0 * static_cast<double>(stalled ? k - 1 : k);
    rs.push_back(result("ethereum:node", stalled ? Status::kCritical : Status::kOk, t,
                        {metric("reachable", 1), metric("block_number", height),
                         metric("head_age_s", stalled ? 3600 : 6), metric("peers", stalled ? 0 : 3)}));
  }
  return rs;
}

// The collector's chain view result for the hour starting at `t` (lag of each member).
inline Result chain_view_result(std::int64_t t) {
  const std::int64_t k = (t - kMarch) / kHour;
  const double lag02 = k == 270 ? 725 : 5;
  return result("chain:evidence", lag02 >= 30 ? Status::kCritical : Status::kOk, t,
                {metric("lag_blocks", 0, {{"host", "web-01"}, {"check", "ethereum:node"}}),
                 metric("lag_blocks", lag02, {{"host", "web-02"}, {"check", "ethereum:node"}})});
}

struct FixtureStore {
  std::filesystem::path file;
  std::int64_t now = kApril + 8 * kHour;  // 2026-04-01 08:00: the monthly schedule
};

// Writes the fixture into dir/collector.db and rolls it up. With `hosts_limit`, only the first
// hosts (the no-data and small tests use fewer).
inline FixtureStore make_fixture_store(const std::filesystem::path& dir) {
  FixtureStore fx;
  fx.file = dir / "collector.db";
  std::int64_t clock = kMarch;
  SqliteStoreOptions o;
  o.timezone = "Asia/Shanghai";
  o.durable = false;
  o.raw_retention_days = 3650;
  o.now = [&clock] { return clock; };
  auto opened = open_sqlite_store(fx.file.string(), o);
  REQUIRE(opened.ok());
  auto store = std::move(opened).value();

  // web-09's log_scan has been warning since 02-27 00:00.
  {
    IngestBatch b;
    b.agent = AgentInfo{"web-09", "web-09.example", "0.1.0", {{"system", "chain"}}};
    for (std::int64_t t = kMarch - 2 * kDay; t < kMarch; t += kHour) {
      b.results.push_back({0, result("log_scan:app", Status::kWarning, t)});
    }
    for (std::size_t i = 0; i < b.results.size(); ++i) b.results[i].seq = static_cast<std::int64_t>(i + 1);
    b.received_ms = kMarch - 2 * kDay;
    REQUIRE(store->ingest(b).ok());
  }
  for (const auto& h : fixture_hosts()) {
    std::int64_t seq = h.id == "web-09" ? 48 : 0;
    for (std::int64_t day = h.first; day <= kApril; day += kDay) {
      IngestBatch b;
      b.agent = AgentInfo{h.id, h.id + ".example", "0.1.0", {{"system", h.system}}};
      b.received_ms = day;
      const std::int64_t end = day == kApril ? kApril + 1 : day + kDay;  // through 04-01 00:00
      const bool gap_day = h.id == "db-05" && day == kMarch + 24 * kDay;
      GapRecord gap;
      for (std::int64_t t = day; t < end; t += kHour) {
        auto rs = hour_results(h, t);
        if (gap_day && t < day + 6 * kHour) {  // dropped by the agent's spool cap
          if (gap.count == 0) gap.from_seq = seq + 1, gap.from_ts = t;
          seq += static_cast<std::int64_t>(rs.size());
          gap.count += static_cast<std::int64_t>(rs.size());
          gap.to_seq = seq;
          gap.to_ts = t + kHour;  // as if results were dropped through 06:00
          continue;
        }
        if (h.id == "web-03" && t == kMarch + 9 * kDay + 10 * kHour) {
          rs.push_back(result("process:nginx", Status::kCritical, t + 17 * kMin));
          rs.push_back(result("process:nginx", Status::kOk, t + 107 * kMin));
        }
        if (h.id == "web-03" && t == kMarch + 9 * kDay + 11 * kHour) {
          for (auto& r : rs) {
            if (r.check == "process:nginx") r.status = Status::kCritical;  // still down at 11:00
          }
        }
        if (h.id == "db-02" && t == kMarch + 19 * kDay + 2 * kHour) {
          for (auto& r : rs) {
            if (r.check == "port:5432") r.status = Status::kCritical;
          }
          rs.push_back(result("process:postgres", Status::kCritical, t + 10 * kMin));
          rs.push_back(result("port:5432", Status::kOk, t + 30 * kMin));
          rs.push_back(result("process:postgres", Status::kOk, t + 40 * kMin));
        }
        for (auto& r : rs) b.results.push_back({++seq, std::move(r)});
      }
      if (gap.count > 0) b.gaps.push_back(gap);
      clock = day;
      auto out = store->ingest(b);
      INFO((out.ok() ? "" : out.error()));
      REQUIRE(out.ok());
    }
  }
  {
    std::int64_t seq = 0;
    for (std::int64_t day = kMarch; day <= kApril; day += kDay) {
      IngestBatch b;
      b.agent = AgentInfo{"collector", "collector.example", "0.1.0", {}};
      b.received_ms = day;
      const std::int64_t end = day == kApril ? kApril + 1 : day + kDay;
      for (std::int64_t t = day; t < end; t += kHour) b.results.push_back({++seq, chain_view_result(t)});
      clock = day;
      REQUIRE(store->ingest(b).ok());
    }
  }
  clock = kMarch + 5 * kDay;
  REQUIRE(store->audit("cli:root", "token.create", "agent-token:1", "{}").ok());
  REQUIRE(store->audit("cli:root", "token.create", "agent-token:2", "{}").ok());
  clock = kMarch + 6 * kDay;
  REQUIRE(store->audit("api:alice", "token.revoke", "agent-token:1", "{}").ok());
  clock = fx.now;
  REQUIRE(store->maintain(fx.now).ok());
  store.reset();

  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(fx.file.c_str(), &db) == SQLITE_OK);
  auto alert = [&](const std::string& fp, const std::string& host, const std::string& check, int severity,
                   std::vector<std::int64_t> fired) {
    sql(db, "INSERT INTO alerts VALUES('" + fp + "', 'status', 'status', '" + host + "', '" + check +
                "', '{}', 'resolved', " + std::to_string(severity) + ", 0, 0, 0, '', '[]', 0, 0)");
    for (auto ts : fired) {
      sql(db, "INSERT INTO alert_history(fingerprint, since, state, severity, ts, summary) VALUES('" + fp +
                  "', " + std::to_string(ts) + ", 'firing', " + std::to_string(severity) + ", " +
                  std::to_string(ts) + ", '')");
      sql(db, "INSERT INTO outbox(idem_key, fingerprint, transition, channel, recipient, text, created,"
              " next_attempt, status) VALUES('" + fp + std::to_string(ts) + "', '" + fp +
                  "', 'firing', 'wecom', '', 'x', " + std::to_string(ts) + ", 0, " +
                  (ts == fired.front() && host == "db-02" ? "2" : "1") + ")");
    }
  };
  alert("a1", "web-03", "process:nginx", 2,
        {kMarch + 9 * kDay + 10 * kHour + 18 * kMin, kMarch + 12 * kDay, kMarch + 13 * kDay});
  alert("a2", "db-02", "port:5432", 2, {kMarch + 19 * kDay + 2 * kHour + kMin});
  alert("a3", "web-07", "cpu", 1, {kMarch + kDay, kMarch + 2 * kDay});
  alert("a4", "web-07", "cpu", 2, {kMarch - kDay});  // February: not in the report
  // Incidents with known times (minutes after opening): acknowledged, resolved; deadlines as
  // the contract defaults (respond 30 min; repair P1 2 h, P2 3 h, P3 12 h).
  auto incident = [&](const std::string& level, const std::string& host, std::int64_t opened, std::int64_t ack_min,
                      std::int64_t resolved_min, std::int64_t repair_h) {
    auto at = [&](std::int64_t m) { return std::to_string(m < 0 ? 0 : opened + m * kMin); };
    sql(db, "INSERT INTO incidents(title, level, state, source, host, system, opened, opened_by, acknowledged,"
            " acknowledged_by, resolved, resolved_by, closed, closed_by, respond_due, repair_due, respond_warned,"
            " repair_warned, respond_breached, repair_breached, description, impact, cause, handling, updated)"
            " VALUES('" + host + "', '" + level + "', 'resolved', 'alert', '" + host + "', '', " +
                std::to_string(opened) + ", 'collector', " + at(ack_min) + ", 'api:zhang', " + at(resolved_min) +
                ", 'collector', 0, '', " + std::to_string(opened + 30 * kMin) + ", " +
                std::to_string(opened + repair_h * kHour) + ", 0, 0, 0, 0, '', '', '', '', " +
                std::to_string(opened) + ")");
  };
  incident("P2", "web-03", kMarch + 9 * kDay + 10 * kHour + 18 * kMin, 12, 90, 3);  // both on time
  incident("P1", "db-02", kMarch + 19 * kDay + 2 * kHour + kMin, 45, 150, 2);     // both late
  incident("P3", "web-07", kMarch + kDay, -1, 20, 12);  // resolved unacknowledged: responds at 20
  incident("P2", "web-07", kMarch - kDay, 5, 10, 3);    // February: not in the report
  auto licence = [&](int id, const std::string& product, const std::string& host, std::int64_t expiry,
                     const std::string& source, const std::string& check, const std::string& state) {
    sql(db, "INSERT INTO licences VALUES(" + std::to_string(id) + ", '" + product + "', '某市市场监督管理局', '" +
                host + "', " + std::to_string(expiry) + ", 'HT-2026-01', '" + source + "', '" + check + "', '" +
                state + "', " + std::to_string(kMarch - 10 * kDay) + ", " + std::to_string(kMarch) + ")");
  };
  auto licence_event = [&](int id, std::int64_t ts, const std::string& event, const std::string& actor) {
    sql(db, "INSERT INTO licence_events(licence, ts, event, actor, detail, audit_id) VALUES(" + std::to_string(id) +
                ", " + std::to_string(ts) + ", '" + event + "', '" + actor + "', '{}', 0)");
  };
  licence(1, "区块链BaaS平台", "db-01", kMarch + 75 * kDay, "check", "licence", "active");
  licence(2, "国密SSL网关", "", kApril + 20 * kDay, "operator", "", "active");
  licence(3, "达梦数据库 DM8", "", kApril + 100 * kDay, "operator", "", "active");
  licence(4, "旧版中间件", "", kApril + 10 * kDay, "operator", "", "revoked");
  licence_event(1, kMarch - 10 * kDay, "seen", "check");      // February
  licence_event(3, kMarch - 5 * kDay, "applied", "api:alice");  // February
  licence_event(1, kMarch + 2 * kHour, "seen", "check");      // not a lifecycle step
  licence_event(2, kMarch + 4 * kDay + 9 * kHour, "applied", "api:alice");
  licence_event(2, kMarch + 5 * kDay + 10 * kHour, "activated", "api:alice");
  licence_event(3, kMarch + 19 * kDay + 15 * kHour, "renewed", "api:zhang");
  licence_event(4, kMarch + 24 * kDay + 16 * kHour, "revoked", "api:zhang");
  sqlite3_close(db);
  return fx;
}

// The fixture store shared by every test process (ctest runs each case as its own process):
// written once under a lock, then only read; rewritten when this header changes.
inline const FixtureStore& shared_fixture_store() {
  static const FixtureStore fx = [] {
    const auto root = std::filesystem::path(XJ_BINARY_DIR) / "report_tests";
    const auto dir = root / ("fixture-" + std::string(kFixtureStamp));
    std::filesystem::create_directories(dir);
    for (const auto& old : std::filesystem::directory_iterator(root)) {  // of an older header
      if (old.path().filename().string().rfind("fixture-", 0) == 0 && old.path() != dir) {
        std::filesystem::remove_all(old.path());
      }
    }
    const int lock = ::open((dir / "lock").c_str(), O_CREAT | O_RDWR, 0600);
    REQUIRE(lock >= 0);
    REQUIRE(::flock(lock, LOCK_EX) == 0);
    FixtureStore out;
    out.file = dir / "collector.db";
    if (!std::filesystem::exists(dir / "done")) {
      std::filesystem::remove(out.file);
      std::filesystem::remove(dir / "collector.db-wal");
      std::filesystem::remove(dir / "collector.db-shm");
      out = make_fixture_store(dir);
      std::ofstream(dir / "done") << "ok\n";
    }
    ::flock(lock, LOCK_UN);
    ::close(lock);
    return out;
  }();
  return fx;
}

}  // namespace xj::test
