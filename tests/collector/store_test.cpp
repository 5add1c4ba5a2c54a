// The SQLite store: schema migrations, ingest, dedupe, atomic batches, current state.
#include "xj/collector/sqlite_store.hpp"

#include <catch2/catch.hpp>

#include "store_test_util.hpp"

using namespace xj;
using namespace xj::test;

TEST_CASE("a new store file gets every schema migration, once", "[store]") {
  auto file = store_dir("store-migrate") / "collector.db";
  TestClock clock;
  open_store(file, options_with(clock));
  {
    RawDb raw(file);
    CHECK(raw.integer("SELECT max(version) FROM schema_version") == sqlite_store_schema_version());
    CHECK(raw.integer("SELECT count(*) FROM schema_version") == sqlite_store_schema_version());
    CHECK(raw.integer("SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN"
                      " ('hosts','checks','results','samples','rollup_hourly','rollup_daily',"
                      "  'status_hourly','status_daily','status_changes','gaps','tokens','audit')") ==
          12);
    CHECK(raw.integer("SELECT count(*) FROM pragma_journal_mode WHERE journal_mode='wal'") == 1);
  }
  open_store(file, options_with(clock));  // reopening applies nothing again
  RawDb raw(file);
  CHECK(raw.integer("SELECT count(*) FROM schema_version") == sqlite_store_schema_version());
}

TEST_CASE("a store written by a newer collector is refused, naming the file and both versions",
          "[store]") {
  auto file = store_dir("store-newer") / "collector.db";
  TestClock clock;
  open_store(file, options_with(clock));
  const std::string newer = std::to_string(sqlite_store_schema_version() + 1);
  RawDb(file).exec("INSERT INTO schema_version(version, applied) VALUES(" + newer + ", 0)");
  auto s = open_sqlite_store(file.string(), options_with(clock));
  REQUIRE_FALSE(s.ok());
  CHECK(s.error() == file.string() + " has schema " + newer + ", this xunjian-collector knows up to " +
                         std::to_string(sqlite_store_schema_version()) +
                         ": upgrade xunjian-collector");
}

TEST_CASE("an SQLite file that is not a collector store is left alone", "[store]") {
  auto file = store_dir("store-foreign") / "other.db";
  RawDb(file).exec("CREATE TABLE invoices(id INTEGER)");
  TestClock clock;
  auto s = open_sqlite_store(file.string(), options_with(clock));
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.error(), Catch::Contains("not a xunjian collector store"));
  CHECK(RawDb(file).integer("SELECT count(*) FROM sqlite_master") == 1);
}

TEST_CASE("a store keeps the time zone of its daily buckets and refuses another", "[store]") {
  auto file = store_dir("store-tz") / "collector.db";
  TestClock clock;
  open_store(file, options_with(clock, "Asia/Shanghai"));
  auto s = open_sqlite_store(file.string(), options_with(clock, "Europe/Berlin"));
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.error(), Catch::Contains("local days of Asia/Shanghai") &&
                            Catch::Contains("configured time zone is Europe/Berlin"));
  auto bad = open_sqlite_store(file.string(), options_with(clock, "Mars/Olympus_Mons"));
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error(), Catch::Contains("Mars/Olympus_Mons"));
}

TEST_CASE("a batch sent twice is stored once and acknowledged both times", "[store]") {
  auto file = store_dir("store-dedupe") / "collector.db";
  TestClock clock;
  auto store = open_store(file, options_with(clock));
  auto make = [](std::int64_t from, std::int64_t to) {
    std::vector<SpooledResult> rs;
    for (std::int64_t s = from; s <= to; ++s) {
      rs.push_back({s, result("load", Status::kOk, kT0 + s * kMin, {metric("load1", 0.1 * s)})});
    }
    return batch("web-01", rs);
  };
  auto first = ingest_ok(*store, make(1, 5));
  CHECK(first.accepted == 5);
  CHECK(first.duplicates == 0);
  CHECK(first.ack_seq == 5);
  auto again = ingest_ok(*store, make(1, 5));
  CHECK(again.accepted == 0);
  CHECK(again.duplicates == 5);
  CHECK(again.ack_seq == 5);
  auto overlap = ingest_ok(*store, make(4, 8));
  CHECK(overlap.accepted == 3);
  CHECK(overlap.duplicates == 2);
  CHECK(overlap.ack_seq == 8);
  auto heartbeat = ingest_ok(*store, batch("web-01", {}, kT0 + kHour));
  CHECK(heartbeat.accepted == 0);
  CHECK(heartbeat.ack_seq == 8);  // what is stored for this agent

  RawDb raw(file);
  CHECK(raw.integer("SELECT count(*) FROM results") == 8);
  CHECK(raw.integer("SELECT count(*) FROM samples") == 8);
  CHECK(raw.integer("SELECT count(*) FROM status_changes") == 1);
  auto host = store->host("web-01");
  REQUIRE(host);
  CHECK(host->last_contact_ms == kT0 + kHour);
  CHECK(host->first_seen_ms == kT0);
  CHECK(host->agent.labels.at("role") == "db");
}

TEST_CASE("dedupe is exact for seqs with holes and survives reopening the store", "[store]") {
  auto file = store_dir("store-dedupe-holes") / "collector.db";
  TestClock clock;
  auto one = [](std::int64_t s) {
    return SpooledResult{s, result("load", Status::kOk, kT0 + s * 1000)};
  };
  {
    auto store = open_store(file, options_with(clock));
    ingest_ok(*store, batch("web-01", {one(1), one(2), one(3), one(10), one(11)}));
    ingest_ok(*store, batch("db-01", {one(4), one(5)}));  // another agent's seqs are its own
  }
  auto store = open_store(file, options_with(clock));
  std::vector<SpooledResult> rs;
  for (std::int64_t s = 3; s <= 11; ++s) rs.push_back(one(s));
  auto out = ingest_ok(*store, batch("web-01", rs));
  CHECK(out.accepted == 6);  // 4..9
  CHECK(out.duplicates == 3);
  CHECK(out.ack_seq == 11);
  CHECK(RawDb(file).integer("SELECT count(*) FROM results") == 13);
  CHECK(RawDb(file).integer("SELECT count(*) FROM agent_seqs WHERE hid = (SELECT hid FROM hosts"
                            " WHERE id = 'web-01')") == 1);  // 1..11 is one range again
}

TEST_CASE("a batch that fails halfway leaves nothing stored, in the file or in memory", "[store]") {
  auto file = store_dir("store-atomic") / "collector.db";
  TestClock clock;
  auto store = open_store(file, options_with(clock));
  std::vector<SpooledResult> good = {
      {1, result("disk:/", Status::kOk, kT0, {metric("used_pct", 40, {{"mount", "/"}})})},
      {2, result("load", Status::kWarning, kT0 + 1000, {metric("load1", 3)})},
  };
  auto broken = good;
  broken.push_back({3, result("", Status::kOk, kT0 + 2000)});  // no check id
  broken.back().result.kind = "exec";
  IngestBatch b = batch("web-01", broken);
  b.gaps.push_back(GapRecord{100, 120, 21, kT0 - kHour, kT0 - kMin});
  auto out = store->ingest(b);
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.error(), Catch::Contains("results[2]") && Catch::Contains("'check'"));

  RawDb raw(file);
  for (const char* table : {"hosts", "checks", "results", "samples", "series", "status_changes",
                            "gaps", "agent_seqs", "status_hourly"}) {
    INFO(table);
    CHECK(raw.integer(std::string("SELECT count(*) FROM ") + table) == 0);
  }
  CHECK(store->hosts().empty());

  // Sent again without the bad result, everything is new: no memory of the failed attempt.
  auto retry = ingest_ok(*store, batch("web-01", good));
  CHECK(retry.accepted == 2);
  CHECK(retry.duplicates == 0);
  auto checks = store->checks({});
  REQUIRE(checks.size() == 2);
  CHECK(checks[0].check == "disk:/");
  CHECK(checks[0].metrics.at(0).labels.at("mount") == "/");
  CHECK(checks[1].status == Status::kWarning);
  CHECK(raw.integer("SELECT count(*) FROM samples") == 2);
  CHECK(raw.integer("SELECT count(*) FROM series") == 2);
}

TEST_CASE("status changes are recorded in ts order with the time each status began", "[store]") {
  auto file = store_dir("store-changes") / "collector.db";
  TestClock clock;
  auto store = open_store(file, options_with(clock));
  Metric used = metric("used_pct", 91, {{"mount", "/data"}});
  used.warn = Range::above(80);
  used.crit = Range::above(90);
  // One batch out of order: the store sorts by ts.
  ingest_ok(*store, batch("web-01", {{3, result("disk:/data", Status::kCritical, kT0 + 20 * kMin, {used})},
                                     {1, result("disk:/data", Status::kOk, kT0)},
                                     {2, result("disk:/data", Status::kOk, kT0 + 10 * kMin)}}));
  ingest_ok(*store, batch("web-01", {{4, result("disk:/data", Status::kCritical, kT0 + 30 * kMin)},
                                     {5, result("disk:/data", Status::kOk, kT0 + 40 * kMin)}}));
  auto changes = store->status_changes("web-01", kT0, kT0 + kDay);
  REQUIRE(changes.size() == 3);
  CHECK(changes[0].first);
  CHECK(changes[0].to == Status::kOk);
  CHECK(changes[0].ts_ms == kT0);
  CHECK_FALSE(changes[1].first);
  CHECK(changes[1].from == Status::kOk);
  CHECK(changes[1].to == Status::kCritical);
  CHECK(changes[1].ts_ms == kT0 + 20 * kMin);
  CHECK(changes[2].from == Status::kCritical);
  CHECK(changes[2].to == Status::kOk);
  CHECK(changes[2].ts_ms == kT0 + 40 * kMin);
  CHECK(changes[2].summary == "disk:/data is ok");
  CHECK(store->status_changes("web-01", kT0 + 15 * kMin, kT0 + 35 * kMin).size() == 1);
  CHECK(store->status_changes("db-01", kT0, kT0 + kDay).empty());

  auto checks = store->checks({});
  REQUIRE(checks.size() == 1);
  CHECK(checks[0].status == Status::kOk);
  CHECK(checks[0].since_ms == kT0 + 40 * kMin);
  CHECK(checks[0].last_ts_ms == kT0 + 40 * kMin);
  CHECK(store->checks(CheckFilter{Status::kCritical, "", ""}).empty());
  CHECK(store->checks(CheckFilter{Status::kOk, "web-01", "disk"}).size() == 1);
  CHECK(store->checks(CheckFilter{std::nullopt, "", "load"}).empty());
}

TEST_CASE("an older result arriving late is kept as history but does not move the state back",
          "[store]") {
  auto file = store_dir("store-late") / "collector.db";
  TestClock clock;
  auto store = open_store(file, options_with(clock));
  ingest_ok(*store, batch("web-01", {{10, result("load", Status::kOk, kT0 + kHour, {metric("load1", 1)})}}));
  ingest_ok(*store, batch("web-01", {{5, result("load", Status::kCritical, kT0, {metric("load1", 9)})}}));
  auto checks = store->checks({});
  REQUIRE(checks.size() == 1);
  CHECK(checks[0].status == Status::kOk);
  CHECK(checks[0].since_ms == kT0 + kHour);
  CHECK(checks[0].last_ts_ms == kT0 + kHour);
  CHECK(checks[0].metrics.at(0).value == 1);
  CHECK(store->status_changes("web-01", 0, kT0 + kDay).size() == 1);
  auto series = store->series(SeriesQuery{"web-01", "load", "load1", {}, kT0 - kHour, kT0 + kDay, 0});
  REQUIRE(series.size() == 1);
  REQUIRE(series[0].points.size() == 2);
  CHECK(series[0].points[0].ts_ms == kT0);
  CHECK(series[0].points[0].last == 9);
  CHECK(RawDb(file).integer("SELECT count(*) FROM results") == 2);
}

TEST_CASE("collector-made results are never duplicates and are not contact from the agent",
          "[store]") {
  auto file = store_dir("store-collector-made") / "collector.db";
  TestClock clock;
  auto store = open_store(file, options_with(clock));
  ingest_ok(*store, batch("web-01", {{1, result("load", Status::kOk, kT0)}}, kT0));
  IngestBatch alive;
  alive.agent.id = "web-01";  // the liveness sweep knows little about the agent
  alive.contact = false;
  alive.received_ms = kT0 + 10 * kMin;
  alive.results.push_back({0, result("host:alive", Status::kCritical, kT0 + 10 * kMin)});
  CHECK(ingest_ok(*store, alive).accepted == 1);
  alive.results[0].result.ts_ms += kMin;
  auto second = ingest_ok(*store, alive);
  CHECK(second.accepted == 1);
  CHECK(second.duplicates == 0);
  CHECK(second.ack_seq == 1);
  auto host = store->host("web-01");
  REQUIRE(host);
  CHECK(host->last_contact_ms == kT0);
  CHECK(host->agent.hostname == "web-01.example");
  CHECK(host->worst == Status::kCritical);
  CHECK(host->checks_critical == 1);
  CHECK(host->checks_ok == 1);
  CHECK_FALSE(store->host("nope"));
}

TEST_CASE("gap records are stored once per range and listed per host", "[store]") {
  auto file = store_dir("store-gaps") / "collector.db";
  TestClock clock;
  auto store = open_store(file, options_with(clock));
  IngestBatch b = batch("web-01", {{130, result("load", Status::kOk, kT0)}});
  b.gaps.push_back(GapRecord{100, 129, 30, kT0 - kHour, kT0 - kMin});
  ingest_ok(*store, b);
  ingest_ok(*store, b);  // resent after a lost answer
  auto gaps = store->gaps("web-01");
  REQUIRE(gaps.size() == 1);
  CHECK(gaps[0].from_seq == 100);
  CHECK(gaps[0].to_seq == 129);
  CHECK(gaps[0].count == 30);
  CHECK(gaps[0].from_ts == kT0 - kHour);
  CHECK(store->gaps("db-01").empty());
  b.gaps[0] = GapRecord{200, 150, 1, 0, 0};
  auto bad = store->ingest(b);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error(), Catch::Contains("gaps[0]"));
}
