// The pipeline: results -> alert changes -> routed, rendered, split messages, committed together.
#include <catch2/catch.hpp>

#include "memory_alert_store.hpp"
#include "xj/alerts/alert_pipeline.hpp"

using namespace xj;
using namespace xj::alerts;
using xj::alerts::test::MemoryAlertStore;

namespace {

constexpr std::int64_t kT0 = 1'760'000'000'000;

AlertsConfig two_channels() {
  AlertsConfig c;
  c.enabled = true;
  c.channels = {ChannelConfig{"ops", "wecom", "", "k", "", 20, {}},
                ChannelConfig{"duty", "dingtalk", "", "k", "s", 20, {}}};
  Route critical, warning;
  critical.severities = {Status::kCritical};
  critical.channels = {"ops", "duty"};
  warning.severities = {Status::kWarning};
  warning.channels = {"ops"};
  c.routes = {critical, warning};
  c.rules.for_warning = std::chrono::milliseconds(0);
  return c;
}

Result result(const std::string& check, Status s, std::int64_t ts) {
  Result r;
  r.check = check;
  r.kind = "disk";
  r.status = s;
  r.summary = "x";
  r.ts_ms = ts;
  return r;
}

std::vector<std::string> channels_of(const MemoryAlertStore& s) {
  std::vector<std::string> out;
  for (const auto& m : s.outbox) out.push_back(m.channel);
  return out;
}

}  // namespace

TEST_CASE("routes send critical alerts to every listed channel and warnings only to theirs") {
  MemoryAlertStore store;
  std::int64_t now = kT0;
  AlertPipeline p(store, two_channels(), {{"ops", 4096}, {"duty", 16000}}, [&] { return now; });
  Subject web{"web-01", {}};
  CHECK(p.on_results(web, {result("disk:/", Status::kCritical, now)}) == 2);
  CHECK(channels_of(store) == std::vector<std::string>{"ops", "duty"});
  CHECK(p.on_results(web, {result("disk:/data", Status::kWarning, now)}) == 1);
  CHECK(store.outbox.back().channel == "ops");
}

TEST_CASE("without routes every alert goes to every channel") {
  MemoryAlertStore store;
  auto cfg = two_channels();
  cfg.routes.clear();
  AlertPipeline p(store, cfg, {}, [] { return kT0; });
  CHECK(p.on_results({"web-01", {}}, {result("disk:/", Status::kWarning, kT0)}) == 2);
}

TEST_CASE("an alert and its messages are committed in one store commit") {
  MemoryAlertStore store;
  AlertPipeline p(store, two_channels(), {}, [] { return kT0; });
  p.on_results({"web-01", {}}, {result("disk:/", Status::kCritical, kT0)});
  CHECK(store.commits == 1);
  REQUIRE(store.alerts.size() == 1);
  CHECK(store.alerts.begin()->second.state == AlertState::kFiring);
  CHECK(store.outbox.size() == 2);
}

TEST_CASE("a text over the channel's limit is enqueued as numbered parts, each within it") {
  MemoryAlertStore store;
  AlertPipeline p(store, two_channels(), {{"ops", 120}, {"duty", 16000}}, [] { return kT0; });
  p.on_results({"web-01", {}}, {result("disk:/", Status::kCritical, kT0)});
  int ops_parts = 0;
  for (const auto& m : store.outbox) {
    if (m.channel != "ops") continue;
    ++ops_parts;
    CHECK(m.text.size() <= 120);
    CHECK_THAT(m.idempotency_key, Catch::EndsWith("#" + std::to_string(ops_parts)));
  }
  CHECK(ops_parts > 1);
}

TEST_CASE("a pipeline restored from the store does not announce a firing alert again") {
  MemoryAlertStore store;
  std::int64_t now = kT0;
  {
    AlertPipeline p(store, two_channels(), {}, [&] { return now; });
    p.on_results({"web-01", {}}, {result("disk:/", Status::kCritical, now)});
  }
  const auto before = store.outbox.size();
  now += 60'000;
  AlertPipeline after_restart(store, two_channels(), {}, [&] { return now; });
  after_restart.restore();
  CHECK(after_restart.on_results({"web-01", {}}, {result("disk:/", Status::kCritical, now)}) == 0);
  CHECK(after_restart.on_results({"web-01", {}}, {result("disk:/", Status::kOk, now + 1000)}) == 2);
  CHECK(store.outbox.size() == before + 2);
  CHECK(store.outbox.back().transition == "resolved");
}
