// A collector restart with metric alerts active, through the collector's real SQLite store:
// the alert is restored (neither its expression nor its comparisons are stored; the rule gives
// them), a still-true result announces nothing, a result without the metric changes nothing,
// and the recovery names the rule.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "xj/alerts/alert_pipeline.hpp"
#include "xj/collector/sqlite_alert_store.hpp"
#include "xj/collector/sqlite_store.hpp"

using namespace xj;
using namespace xj::alerts;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kT0 = 1'760'000'000'000;

AlertsConfig config() {
  AlertsConfig c;
  c.enabled = true;
  c.channels = {ChannelConfig{"ops", "wecom", "", "k", "", 20, {}}};
  MetricRule r;
  r.name = "disk-almost-full";
  r.expr = parse_metric_expr(R"(disk.used_pct{mount="/data"} > 90)").value();
  r.severity = Status::kCritical;
  c.rules.metric_rules = {r};
  return c;
}

Result disk(std::vector<Metric> metrics, std::int64_t ts) {
  Result r;
  r.check = "disk:/data";
  r.kind = "disk";
  r.status = Status::kOk;
  r.metrics = std::move(metrics);
  r.ts_ms = ts;
  return r;
}

Metric used(double pct) { return Metric{"used_pct", pct, "%", {{"mount", "/data"}}, {}, {}}; }

}  // namespace

TEST_CASE(
    "an active metric alert survives a restart: not announced twice, its recovery sent once") {
  auto dir =
      fs::path(XJ_BINARY_DIR) / "alerts-tests" / ("metric-restart-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string db = (dir / "collector.db").string();
  auto main = open_sqlite_store(db);  // migrates
  REQUIRE(main.ok());
  std::int64_t now = kT0;
  Subject host{"db-01", {{"system", "存证平台"}}};
  std::string fingerprint;
  {
    auto store = open_sqlite_alert_store(db);
    REQUIRE(store.ok());
    AlertPipeline p(**store, config(), {{"ops", 4096}}, [&] { return now; });
    p.restore();
    REQUIRE(p.on_results(host, {disk({used(95)}, now)}) == 1);
    REQUIRE(p.active().size() == 1);
    fingerprint = p.active()[0].fingerprint;
  }
  auto store = open_sqlite_alert_store(db);
  REQUIRE(store.ok());
  now += 60'000;
  AlertPipeline p(**store, config(), {{"ops", 4096}}, [&] { return now; });
  p.restore();
  auto active = p.active();
  REQUIRE(active.size() == 1);
  CHECK(active[0].kind == AlertKind::kMetric);
  CHECK(active[0].rule == "disk-almost-full");
  CHECK(active[0].fingerprint == fingerprint);
  CHECK(active[0].state == AlertState::kFiring);
  CHECK(active[0].conditions == std::vector<std::string>{"> 90%"});
  REQUIRE(active[0].metrics.size() == 1);
  CHECK(active[0].metrics[0].name == "disk.used_pct");
  CHECK(active[0].metrics[0].labels == Labels{{"mount", "/data"}});

  CHECK(p.on_results(host, {disk({used(96)}, now)}) == 0);  // still true: nothing new
  now += 1000;
  CHECK(p.on_results(host, {disk({}, now)}) == 0);  // the metric missing: not recovered
  CHECK(p.tick() == 0);
  now += 1000;
  CHECK(p.on_results(host, {disk({used(60)}, now)}) == 1);
  CHECK(p.active().empty());
  auto due = (*store)->due_messages(now);
  REQUIRE(due.size() == 1);  // the firing message (never sent here) heads the channel
  CHECK(due[0].transition == "firing");
  CHECK((*store)->has_message(idempotency_key(fingerprint, kT0, "resolved", "ops", "", 1)));
}
