// The SQLite store's rollups and series queries, time in status, retention, local days.
#include <catch2/catch.hpp>

#include "store_test_util.hpp"

using namespace xj;
using namespace xj::test;

namespace {

// Ingests one result per (ts, value) for web-01 / load / load1, one seq each.
void put(Store& store, std::int64_t& seq, std::vector<std::pair<std::int64_t, double>> points,
         const std::string& agent = "web-01") {
  std::vector<SpooledResult> rs;
  for (auto [ts, v] : points) rs.push_back({++seq, result("load", Status::kOk, ts, {metric("load1", v)})});
  ingest_ok(store, batch(agent, rs, points.back().first));
}

Series one_series(Store& store, std::int64_t from, std::int64_t to, std::int64_t step) {
  auto s = store.series(SeriesQuery{"web-01", "load", "load1", {}, from, to, step});
  REQUIRE(s.size() == 1);
  return s[0];
}

void check_point(const SeriesPoint& p, std::int64_t ts, double min, double max, double avg,
                 std::int64_t count, double last) {
  INFO("bucket " << p.ts_ms);
  CHECK(p.ts_ms == ts);
  CHECK(p.min == Approx(min));
  CHECK(p.max == Approx(max));
  CHECK(p.avg == Approx(avg));
  CHECK(p.count == count);
  CHECK(p.last == Approx(last));
}

}  // namespace

TEST_CASE("hourly rollups hold min, max, avg, count and last, before and after maintain",
          "[store-rollup]") {
  auto file = store_dir("rollup-hourly") / "collector.db";
  TestClock clock;
  auto store = open_store(file, options_with(clock));
  std::int64_t seq = 0;
  put(*store, seq, {{kT0 + 10 * kMin, 1}, {kT0 + kHour - 1, 5}, {kT0 + kHour, 2},
                    {kT0 + 90 * kMin, 4}, {kT0 + 130 * kMin, 7}});
  auto verify = [&] {
    auto s = one_series(*store, kT0, kT0 + 3 * kHour, kHour);
    CHECK(s.source == "hourly");
    REQUIRE(s.points.size() == 3);
    check_point(s.points[0], kT0, 1, 5, 3, 2, 5);
    check_point(s.points[1], kT0 + kHour, 2, 4, 3, 2, 4);
    check_point(s.points[2], kT0 + 2 * kHour, 7, 7, 7, 1, 7);
  };
  verify();  // nothing rolled up yet: all from samples
  RawDb raw(file);
  REQUIRE(store->maintain(kT0 + 150 * kMin).ok());
  CHECK(raw.integer("SELECT count(*) FROM rollup_hourly") == 2);
  CHECK(raw.integer("SELECT rolled_to FROM rollup_state WHERE level='hour'") == kT0 + 2 * kHour);
  verify();  // two buckets from the rollup, the unfinished one from samples
  REQUIRE(store->maintain(kT0 + 5 * kHour).ok());
  CHECK(raw.integer("SELECT count(*) FROM rollup_hourly") == 3);
  verify();
}

TEST_CASE("daily buckets are Asia/Shanghai days, which begin at 16:00 UTC", "[store-rollup]") {
  auto file = store_dir("rollup-daily") / "collector.db";
  TestClock clock;
  auto store = open_store(file, options_with(clock));
  const std::int64_t midnight = kT0 + 16 * kHour;  // 2026-03-03 00:00 +08:00
  std::int64_t seq = 0;
  put(*store, seq, {{kT0 + kHour, 4}, {midnight - 1, 10}, {midnight, 20}, {midnight + kHour, 30}});
  auto verify = [&] {
    auto s = one_series(*store, kT0, midnight + 2 * kHour, kDay);
    CHECK(s.source == "daily");
    REQUIRE(s.points.size() == 2);
    check_point(s.points[0], midnight - kDay, 4, 10, 7, 2, 10);
    check_point(s.points[1], midnight, 20, 30, 25, 2, 30);
  };
  verify();
  RawDb raw(file);
  REQUIRE(store->maintain(midnight + 90 * kMin).ok());  // day one finished, day two running
  CHECK(raw.integer("SELECT count(*) FROM rollup_daily") == 1);
  CHECK(raw.integer("SELECT bucket FROM rollup_daily") == midnight - kDay);
  verify();
  // A sample in the running hour of the running day is in the answer right away.
  put(*store, seq, {{midnight + 85 * kMin, 60}});
  check_point(one_series(*store, kT0, midnight + 2 * kHour, kDay).points.at(1), midnight, 20, 60,
              110.0 / 3, 3, 60);
  check_point(one_series(*store, midnight, midnight + 2 * kHour, kHour).points.at(1),
              midnight + kHour, 30, 60, 45, 2, 60);
  REQUIRE(store->maintain(midnight + 2 * kDay).ok());
  CHECK(raw.integer("SELECT count(*) FROM rollup_daily") == 2);
  check_point(one_series(*store, kT0, midnight + 2 * kHour, kDay).points.at(1), midnight, 20, 60,
              110.0 / 3, 3, 60);
}

TEST_CASE("samples arriving for buckets already rolled up are merged into them",
          "[store-rollup]") {
  auto file = store_dir("rollup-late") / "collector.db";
  TestClock clock;
  auto store = open_store(file, options_with(clock));
  std::int64_t seq = 0;
  put(*store, seq, {{kT0 + 10 * kMin, 1}, {kT0 + 20 * kMin, 3}});
  REQUIRE(store->maintain(kT0 + 2 * kDay).ok());
  RawDb raw(file);
  REQUIRE(raw.integer("SELECT count(*) FROM rollup_daily") == 1);
  put(*store, seq, {{kT0 + 5 * kMin, 0.5}});  // an agent backfilling after an outage
  check_point(one_series(*store, kT0, kT0 + kHour - 1, kHour).points.at(0), kT0, 0.5, 3, 1.5, 3, 3);
  check_point(one_series(*store, kT0, kT0 + kHour, kDay).points.at(0), kT0 - 8 * kHour, 0.5, 3,
              1.5, 3, 3);
  CHECK(raw.integer("SELECT count FROM rollup_hourly") == 3);
}

TEST_CASE("the step selects raw points, hourly or daily buckets, and merges wider steps",
          "[store-rollup]") {
  auto file = store_dir("rollup-steps") / "collector.db";
  TestClock clock;
  auto store = open_store(file, options_with(clock));
  std::int64_t seq = 0;
  std::vector<std::pair<std::int64_t, double>> points;
  for (int i = 0; i < 6 * 48; ++i) points.push_back({kT0 + i * 10 * kMin, i});  // 2 days
  put(*store, seq, points);
  REQUIRE(store->maintain(kT0 + 30 * kHour).ok());  // some rolled up, some not
  const std::int64_t to = kT0 + 48 * kHour - 1;
  auto raw_points = one_series(*store, kT0, to, 0);
  CHECK(raw_points.source == "raw");
  CHECK(raw_points.points.size() == 288);
  CHECK(raw_points.points[5].ts_ms == kT0 + 50 * kMin);
  auto half_hours = one_series(*store, kT0, to, 30 * kMin);
  CHECK(half_hours.source == "raw");
  REQUIRE(half_hours.points.size() == 96);
  check_point(half_hours.points[1], kT0 + 30 * kMin, 3, 5, 4, 3, 5);
  auto hours = one_series(*store, kT0, to, kHour);
  CHECK(hours.source == "hourly");
  REQUIRE(hours.points.size() == 48);
  check_point(hours.points[29], kT0 + 29 * kHour, 174, 179, 176.5, 6, 179);
  check_point(hours.points[30], kT0 + 30 * kHour, 180, 185, 182.5, 6, 185);
  auto two_hours = one_series(*store, kT0, to, 2 * kHour);
  REQUIRE(two_hours.points.size() == 24);
  check_point(two_hours.points[1], kT0 + 2 * kHour, 12, 23, 17.5, 12, 23);
  auto days = one_series(*store, kT0, to, kDay);
  CHECK(days.source == "daily");
  REQUIRE(days.points.size() == 3);  // Shanghai days: 08:00-16:00 UTC, a full one, the rest
  check_point(days.points[0], kT0 - 8 * kHour, 0, 95, 47.5, 96, 95);
  check_point(days.points[1], kT0 + 16 * kHour, 96, 239, 167.5, 144, 239);
  auto two_days = one_series(*store, kT0, to, 2 * kDay);
  REQUIRE(two_days.points.size() == 2);
  check_point(two_days.points[0], kT0 - 8 * kHour, 0, 239, 119.5, 240, 239);
  CHECK(one_series(*store, to, kT0, kHour).points.empty());  // from after to
}

TEST_CASE("labels pick one series exactly, and no labels return every series of the metric",
          "[store-rollup]") {
  auto file = store_dir("rollup-labels") / "collector.db";
  TestClock clock;
  auto store = open_store(file, options_with(clock));
  Result r = result("disk", Status::kOk, kT0 + kMin,
                    {metric("used_pct", 40, {{"mount", "/"}}),
                     metric("used_pct", 70, {{"mount", "/data"}}),
                     metric("used_pct", 90, {{"mount", "/data"}, {"fs", "xfs"}})});
  ingest_ok(*store, batch("web-01", {{1, r}}));
  auto query = [&](Labels l) {
    return store->series(SeriesQuery{"web-01", "disk", "used_pct", std::move(l), kT0, kT0 + kHour, 0});
  };
  CHECK(query({}).size() == 3);
  auto data = query({{"mount", "/data"}});
  REQUIRE(data.size() == 1);
  CHECK(data[0].labels == Labels{{"mount", "/data"}});
  CHECK(data[0].unit == "%");
  REQUIRE(data[0].points.size() == 1);
  CHECK(data[0].points[0].last == 70);
  CHECK(query({{"mount", "/data"}, {"fs", "xfs"}}).at(0).points.at(0).last == 90);
  CHECK(query({{"mount", "/srv"}}).empty());
  CHECK(store->series(SeriesQuery{"web-01", "disk", "free_bytes", {}, kT0, kT0 + kHour, 0}).empty());
}

TEST_CASE("time in each status is counted per check, per hour and per local day",
          "[store-rollup]") {
  auto file = store_dir("rollup-status-time") / "collector.db";
  TestClock clock;
  auto o = options_with(clock);
  o.status_span_cap_ms = 2 * kHour;
  auto store = open_store(file, o);
  ingest_ok(*store, batch("web-01", {{1, result("a", Status::kOk, kT0)},
                                     {2, result("a", Status::kCritical, kT0 + 30 * kMin)},
                                     {3, result("a", Status::kOk, kT0 + 75 * kMin)},
                                     {4, result("a", Status::kOk, kT0 + 120 * kMin)},
                                     // across the Shanghai midnight (16:00 UTC)
                                     {5, result("b", Status::kWarning, kT0 + 15 * kHour + 30 * kMin)},
                                     {6, result("b", Status::kOk, kT0 + 16 * kHour + 30 * kMin)},
                                     // silent for 5 h: only the cap's 2 h count
                                     {7, result("c", Status::kUnknown, kT0)},
                                     {8, result("c", Status::kUnknown, kT0 + 5 * kHour)}}));
  RawDb raw(file);
  auto ms = [&](const char* table, const char* col, const char* check, std::int64_t bucket) {
    return raw.integer(std::string("SELECT coalesce(sum(") + col + "), 0) FROM " + table +
                       " WHERE cid = (SELECT cid FROM checks WHERE check_id = '" + check +
                       "') AND bucket = " + std::to_string(bucket));
  };
  CHECK(ms("status_hourly", "ok_ms", "a", kT0) == 30 * kMin);
  CHECK(ms("status_hourly", "critical_ms", "a", kT0) == 30 * kMin);
  CHECK(ms("status_hourly", "critical_ms", "a", kT0 + kHour) == 15 * kMin);
  CHECK(ms("status_hourly", "ok_ms", "a", kT0 + kHour) == 45 * kMin);
  CHECK(ms("status_daily", "ok_ms", "a", kT0 - 8 * kHour) == 75 * kMin);
  CHECK(ms("status_daily", "critical_ms", "a", kT0 - 8 * kHour) == 45 * kMin);
  CHECK(ms("status_daily", "warning_ms", "b", kT0 - 8 * kHour) == 30 * kMin);
  CHECK(ms("status_daily", "warning_ms", "b", kT0 + 16 * kHour) == 30 * kMin);
  CHECK(ms("status_hourly", "warning_ms", "b", kT0 + 16 * kHour) == 30 * kMin);
  CHECK(raw.integer("SELECT sum(unknown_ms) FROM status_hourly WHERE cid = (SELECT cid FROM"
                    " checks WHERE check_id = 'c')") == 2 * kHour);
}

TEST_CASE("retention deletes raw results and samples but keeps rollups and status changes",
          "[store-rollup]") {
  auto file = store_dir("rollup-retention") / "collector.db";
  TestClock clock;
  auto o = options_with(clock);
  o.raw_retention_days = 1;
  auto store = open_store(file, o);
  std::int64_t seq = 0;
  put(*store, seq, {{kT0 + kMin, 1}, {kT0 + 2 * kMin, 3}});
  const std::int64_t later = kT0 + 3 * kDay;
  ingest_ok(*store, batch("web-01", {{++seq, result("load", Status::kCritical, later - kHour,
                                                    {metric("load1", 9)})}}, later - kHour));
  REQUIRE(store->maintain(later).ok());
  RawDb raw(file);
  CHECK(raw.integer("SELECT count(*) FROM results") == 1);  // the recent one
  CHECK(raw.integer("SELECT count(*) FROM samples") == 1);
  CHECK(one_series(*store, kT0, later, 0).points.size() == 1);
  auto hours = one_series(*store, kT0, later, kHour);
  REQUIRE(hours.points.size() == 2);
  check_point(hours.points[0], kT0, 1, 3, 2, 2, 3);
  CHECK(one_series(*store, kT0, later, kDay).points.at(0).count == 2);
  CHECK(store->status_changes("web-01", 0, later).size() == 2);
}

TEST_CASE("daily buckets follow daylight saving, also past the tz file's transitions",
          "[store-rollup]") {
  TestClock clock;
  // 2026: Berlin's day of 2026-03-29 has 23 hours. 2040 is beyond Debian's transition table,
  // where the zone file's POSIX rule (last Sunday of March) applies.
  for (std::int64_t base : {std::int64_t{1'774'652'400'000}, std::int64_t{2'216'156'400'000}}) {
    auto file = store_dir("rollup-dst-" + std::to_string(base)) / "collector.db";
    clock.now = base;  // local midnight CET
    auto store = open_store(file, options_with(clock, "Europe/Berlin"));
    std::int64_t seq = 0;
    put(*store, seq, {{base + 12 * kHour, 1}, {base + 35 * kHour, 2}, {base + 59 * kHour, 3}});
    for (bool rolled : {false, true}) {
      INFO("base " << base << (rolled ? " after maintain" : " before maintain"));
      auto s = one_series(*store, base, base + 3 * kDay, kDay);
      REQUIRE(s.points.size() == 3);
      CHECK(s.points[0].ts_ms == base);
      CHECK(s.points[1].ts_ms == base + 24 * kHour);
      CHECK(s.points[2].ts_ms == base + 47 * kHour);
      CHECK(s.points[2].last == 3);
      REQUIRE(store->maintain(base + 5 * kDay).ok());
    }
  }
}

TEST_CASE("in a zone with a half-hour offset, days are rolled up from samples",
          "[store-rollup]") {
  auto file = store_dir("rollup-kolkata") / "collector.db";
  TestClock clock;
  const std::int64_t base = 1'772'389'800'000;  // 2026-03-02 00:00 +05:30
  clock.now = base;
  auto store = open_store(file, options_with(clock, "Asia/Kolkata"));
  std::int64_t seq = 0;
  put(*store, seq, {{base + kDay - kMin, 1}, {base + kDay, 2}, {base + kDay + kHour, 3}});
  auto verify = [&] {
    auto s = one_series(*store, base, base + 2 * kDay - 1, kDay);
    REQUIRE(s.points.size() == 2);
    check_point(s.points[0], base, 1, 1, 1, 1, 1);
    check_point(s.points[1], base + kDay, 2, 3, 2.5, 2, 3);
  };
  verify();
  REQUIRE(store->maintain(base + 3 * kDay).ok());
  CHECK(RawDb(file).integer("SELECT count(*) FROM rollup_daily") == 2);
  verify();
}
