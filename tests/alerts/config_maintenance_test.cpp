// Maintenance windows written in collector.yaml (alerts.maintenance): parsed with file, line and
// key in every error, in force beside the API's windows, listed, and not ended through the API.
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <ctime>

#include "memory_alert_store.hpp"
#include "xj/alerts/alert_pipeline.hpp"
#include "xj/common/config_error.hpp"
#include "xj/common/config_section.hpp"

using namespace xj;
using namespace xj::alerts;
using xj::alerts::test::MemoryAlertStore;

namespace {

// 2026-12-07 is a Monday; 10:00 in Shanghai (UTC+8) is 02:00 UTC.
constexpr std::int64_t kMonday10 = 1'796'608'800'000;
constexpr std::int64_t kHour = 3'600'000;

AlertsConfig parse(const std::string& yaml) {
  ::setenv("TZ", "Asia/Shanghai", 1);
  ::tzset();
  return parse_alerts_config(ConfigSection(YAML::Load(yaml), "collector.yaml", "alerts"));
}

const char* const kWindows = R"(
channels:
  - {name: ops, type: wecom, key_env: HOME}
maintenance:
  - matchers: [system=区块链平台]
    comment: 周末补丁
    days: sat,sun
    time: 22:00-02:00
    holidays: skip
  - matchers: [host=db-01, check=~disk:.*]
    comment: 扩容
    from: 2026-12-07 09:00
    to: 2026-12-07 11:30
)";

Result critical(const std::string& check, std::int64_t ts) {
  Result r;
  r.check = check;
  r.kind = "disk";
  r.status = Status::kCritical;
  r.summary = "x";
  r.ts_ms = ts;
  return r;
}

}  // namespace

TEST_CASE(
    "maintenance windows in collector.yaml: weekly and one-off, in the contract's local time") {
  auto cfg = parse(kWindows);
  REQUIRE(cfg.maintenance.size() == 2);
  const Silence& weekly = cfg.maintenance[0];
  CHECK(weekly.from_config);
  CHECK(weekly.maintenance);
  CHECK(weekly.label() == "M-config-1");
  CHECK(weekly.author == "collector.yaml");
  REQUIRE(weekly.recurrence);
  CHECK(weekly.recurrence->days == std::set<int>{6, 7});
  CHECK(weekly.recurrence->from_min == 22 * 60);
  CHECK(weekly.recurrence->holidays == HolidayRule::kSkip);
  const Silence& once = cfg.maintenance[1];
  CHECK(once.label() == "M-config-2");
  CHECK(once.starts_ms == kMonday10 - kHour);
  CHECK(once.ends_ms == kMonday10 + kHour + kHour / 2);
  CHECK(once.matchers.size() == 2);
}

TEST_CASE("a config window mutes its alerts and opens no incident, and the API cannot end it") {
  MemoryAlertStore store;
  auto cfg = parse(kWindows);
  std::int64_t now = kMonday10;
  AlertPipeline p(store, cfg, {}, [&] { return now; });
  p.restore();
  auto listed = p.silences();
  REQUIRE(listed.size() == 2);
  CHECK(listed[1].label() == "M-config-2");
  CHECK(p.on_results({"db-01", {}}, {critical("disk:/data", now)}) == 0);  // in the one-off window
  REQUIRE(store.outbox.size() == 1);
  CHECK(store.outbox[0].status == DeliveryStatus::kSuppressed);
  CHECK(store.outbox[0].last_error == "muted by M-config-2");
  CHECK(store.incident_rows.empty());
  CHECK(p.on_results({"web-01", {}}, {critical("disk:/data", now)}) ==
        1);  // another host: not muted
  auto ended = p.end_silence(-2);
  REQUIRE_FALSE(ended);
  CHECK(ended.failure().status == 409);
  CHECK_THAT(ended.error(), Catch::Contains("collector.yaml"));
  // After the window the still-firing alert's message is released.
  now += 2 * kHour;
  CHECK(p.tick() >= 1);
  CHECK(store.outbox[0].status == DeliveryStatus::kPending);
}

TEST_CASE("config window errors name the file, the line and the key") {
  auto fails = [](const std::string& yaml, const std::string& want) {
    try {
      parse(yaml);
      FAIL("accepted: " << yaml);
    } catch (const ConfigError& e) {
      INFO(e.what());
      CHECK_THAT(std::string(e.what()), Catch::Contains(want));
      CHECK_THAT(std::string(e.what()), Catch::Contains("collector.yaml:"));
    }
  };
  fails("maintenance:\n  - {comment: x, from: 2026-12-07 09:00, to: 2026-12-07 10:00}\n",
        "alerts.maintenance[0]: key 'matchers'");
  fails("maintenance:\n  - {matchers: [host=a], from: 2026-12-07 09:00, to: 2026-12-07 10:00}\n",
        "key 'comment'");
  fails("maintenance:\n  - {matchers: [host], comment: x, time: 22:00-02:00}\n",
        "has no name and operator");
  fails(
      "maintenance:\n  - {matchers: [host=a], comment: x, from: tomorrow, to: 2026-12-07 10:00}\n",
      "'tomorrow' is not a local time like 2026-12-05 22:00");
  fails(
      "maintenance:\n  - {matchers: [host=a], comment: x, from: 2026-12-07 10:00, to: 2026-12-07 "
      "09:00}\n",
      "the end is not after the start");
  fails("maintenance:\n  - {matchers: [host=a], comment: x, from: 2026-12-07 10:00}\n",
        "a one-off window needs from and to");
  fails("maintenance:\n  - {matchers: [host=a], comment: x, days: sat}\n", "needs 'time'");
  fails("maintenance:\n  - {matchers: [host=a], comment: x, time: 22:00-02:00, holidays: never}\n",
        "'never' is not any, skip or only");
  fails("maintenance:\n  - {matchers: [host=a], comment: x, time: 22:00-02:00, author: me}\n",
        "unknown key 'author'");
}
