// Metric alerts through the pipeline, configured as in collector.yaml: routes by the rule's
// name and severity, the incident a critical one opens, silences on rule=NAME — all unchanged
// machinery, so these show the new kind takes part in it.
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "memory_alert_store.hpp"
#include "xj/alerts/alert_pipeline.hpp"
#include "xj/common/config_section.hpp"

using namespace xj;
using namespace xj::alerts;
using xj::alerts::test::MemoryAlertStore;

namespace {

constexpr std::int64_t kT0 = 1'760'000'000'000;

AlertsConfig config() {
  ::setenv("XJ_METRIC_TEST_KEY", "k", 1);
  YAML::Node root = YAML::Load(
      "alerts:\n"
      "  channels:\n"
      "    - {name: ops, type: wecom, key_env: XJ_METRIC_TEST_KEY}\n"
      "    - {name: dba, type: wecom, key_env: XJ_METRIC_TEST_KEY}\n"
      "  routes:\n"
      "    - {match: [rule=disk-almost-full], channels: [dba]}\n"
      "    - {channels: [ops]}\n"
      "  rules:\n"
      "    - name: disk-almost-full\n"
      "      expr: 'disk.used_pct{mount=\"/data\"} > 90'\n"
      "      severity: critical\n"
      "    - name: disk-filling\n"
      "      expr: 'disk.used_pct > 80'\n");
  return parse_alerts_config(ConfigSection(root, "collector.yaml", "").section("alerts"));
}

Result disk(double pct, std::int64_t ts) {
  Result r;
  r.check = "disk:/data";
  r.kind = "disk";
  r.status = Status::kOk;
  r.summary = "ok";
  r.metrics = {Metric{"used_pct", pct, "%", {{"mount", "/data"}}, {}, {}}};
  r.ts_ms = ts;
  return r;
}

}  // namespace

TEST_CASE(
    "metric alerts are routed by rule name, and a critical one opens an incident its message "
    "names") {
  MemoryAlertStore store;
  std::int64_t now = kT0;
  AlertPipeline p(store, config(), {{"ops", 4096}, {"dba", 4096}}, [&] { return now; });
  Subject db{"db-01", {{"system", "存证平台"}}};
  CHECK(p.on_results(db, {disk(95, now)}) == 2);
  REQUIRE(store.outbox.size() == 2);
  // Each rule's alert takes its own route: the critical one to the DBAs, the warning to ops.
  CHECK(store.outbox[0].channel == "dba");
  CHECK_THAT(store.outbox[0].text, Catch::Contains("指标告警：disk-almost-full"));
  CHECK_THAT(store.outbox[0].text, Catch::Contains("> 故障单：INC-0001（一级故障）"));
  CHECK(store.outbox[1].channel == "ops");
  CHECK_THAT(store.outbox[1].text, Catch::Contains("指标告警：disk-filling"));
  CHECK_THAT(store.outbox[1].text,
             Catch::Contains("disk.used_pct（mount=/data）：95%，阈值 > 80%"));
  CHECK_FALSE(store.outbox[1].text.find("故障单") != std::string::npos);  // a warning is P4
  REQUIRE(store.incident_rows.size() == 1);
  CHECK(store.incident_rows.begin()->second.title == "db-01 disk:/data");
  // The stored alert is of kind metric under the rule's name.
  int metric_rows = 0;
  for (const auto& [fp, a] : store.alerts) metric_rows += a.kind == AlertKind::kMetric;
  CHECK(metric_rows == 2);

  now += 60'000;
  CHECK(p.on_results(db, {disk(70, now)}) == 2);  // both recover
  CHECK_THAT(store.outbox[2].text,
             Catch::Contains("【已恢复】db-01 disk:/data 指标告警：disk-almost-full"));
  CHECK(store.incident_rows.begin()->second.state == IncidentState::kResolved);  // auto-resolved
}

TEST_CASE("a silence on rule=NAME mutes that rule's alerts and nothing else") {
  MemoryAlertStore store;
  std::int64_t now = kT0;
  AlertPipeline p(store, config(), {{"ops", 4096}, {"dba", 4096}}, [&] { return now; });
  Silence s;
  s.matchers = {parse_matcher("rule=disk-filling").value()};
  s.starts_ms = now;
  s.ends_ms = now + 3'600'000;
  s.comment = "扩容中";
  REQUIRE(p.add_silence(s));
  Subject db{"db-01", {}};
  CHECK(p.on_results(db, {disk(95, now)}) == 1);  // the critical one is sent
  REQUIRE(store.outbox.size() == 2);
  CHECK(store.outbox[0].status == DeliveryStatus::kPending);
  CHECK(store.outbox[1].status == DeliveryStatus::kSuppressed);
  CHECK_THAT(store.outbox[1].last_error, Catch::StartsWith("muted by S-"));
}
