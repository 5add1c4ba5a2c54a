// The collector's SQLite AlertStore: one transaction for state and messages, idempotency keys,
// per-channel order, and everything still there after the file is reopened.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "xj/collector/sqlite_alert_store.hpp"
#include "xj/collector/sqlite_store.hpp"

using namespace xj;
using namespace xj::alerts;
namespace fs = std::filesystem;

namespace {

fs::path fresh_db(const std::string& name) {
  auto d = fs::path(XJ_BINARY_DIR) / "alerts-tests" / (name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d / "collector.db";
}

std::unique_ptr<AlertStore> open_both(const fs::path& db, std::unique_ptr<Store>& main) {
  auto s = open_sqlite_store(db.string());
  REQUIRE(s.ok());
  main = std::move(s).value();
  auto a = open_sqlite_alert_store(db.string());
  REQUIRE(a.ok());
  return std::move(a).value();
}

Alert firing_alert() {
  Alert a;
  a.fingerprint = "abc";
  a.rule = "status";
  a.host = "db-01";
  a.check = "disk:/data";
  a.labels = {{"system", "平台"}};
  a.state = AlertState::kFiring;
  a.severity = Status::kCritical;
  a.since_ms = 1000;
  a.fired_ms = 1000;
  a.summary = "93% used";
  a.metrics = {Metric{"used_pct", 93, "%", {}, Range::parse_nagios("80").value(), std::nullopt}};
  return a;
}

OutboxMessage msg(const std::string& key, const std::string& channel) {
  OutboxMessage m;
  m.idempotency_key = key;
  m.fingerprint = "abc";
  m.transition = "firing";
  m.channel = channel;
  m.text = "告警 " + key;
  m.created_ms = 1000;
  m.next_attempt_ms = 1000;
  return m;
}

}  // namespace

TEST_CASE("the store migrates to the schema with the alert tables") {
  // The alert tables came with migration 2; later migrations append (never a fixed count).
  CHECK(sqlite_store_schema_version() >= 2);
}

TEST_CASE("the alert store refuses a file the collector store has not migrated") {
  auto db = fresh_db("unmigrated");
  auto a = open_sqlite_alert_store(db.string());
  REQUIRE_FALSE(a.ok());
  CHECK_THAT(a.error(), Catch::Contains("outbox"));
}

TEST_CASE("alerts and their messages survive a reopen, and a replayed key is not enqueued twice") {
  auto db = fresh_db("reopen");
  {
    std::unique_ptr<Store> main;
    auto s = open_both(db, main);
    REQUIRE(s->commit({firing_alert()}, {msg("k1", "ops"), msg("k2", "sms")}).ok());
    REQUIRE(s->commit({firing_alert()}, {msg("k1", "ops")}).ok());  // the same change replayed
  }
  std::unique_ptr<Store> main;
  auto s = open_both(db, main);
  auto active = s->active_alerts();
  REQUIRE(active.size() == 1);
  CHECK(active[0].host == "db-01");
  CHECK(active[0].labels.at("system") == "平台");
  CHECK(active[0].severity == Status::kCritical);
  REQUIRE(active[0].metrics.size() == 1);
  CHECK(active[0].metrics[0].warn.has_value());
  auto all = s->messages(0, 100);
  REQUIRE(all.size() == 2);
  CHECK(all[0].text == "告警 k1");
}

TEST_CASE("due messages are the head of each channel, and attempts are recorded") {
  auto db = fresh_db("due");
  std::unique_ptr<Store> main;
  auto s = open_both(db, main);
  REQUIRE(s->commit({}, {msg("a1", "ops"), msg("a2", "ops"), msg("b1", "sms")}).ok());
  auto due = s->due_messages(1000);
  REQUIRE(due.size() == 2);
  CHECK(due[0].idempotency_key == "a1");
  CHECK(due[1].idempotency_key == "b1");
  CHECK(s->due_messages(999).empty());

  REQUIRE(s->record_attempt({due[0].id, 1500, false, false, 5000, "HTTP 500"}).ok());
  CHECK(s->next_due() == 1000);  // b1 still due
  REQUIRE(s->record_attempt({due[1].id, 1200, true, false, 0, ""}).ok());
  CHECK(s->next_due() == 5000);
  CHECK(s->due_messages(4999).empty());  // a2 waits behind a1
  REQUIRE(s->record_attempt({due[0].id, 5100, true, false, 0, ""}).ok());
  due = s->due_messages(5100);
  REQUIRE(due.size() == 1);
  CHECK(due[0].idempotency_key == "a2");

  auto all = s->messages(0, 10);
  CHECK(all[0].status == DeliveryStatus::kDelivered);
  CHECK(all[0].attempts == 2);
  CHECK(all[0].latency_ms == 4100);
  CHECK(all[0].last_error.empty());
  CHECK(all[2].latency_ms == 200);
}

TEST_CASE("a message given up is kept as failed with its last error") {
  auto db = fresh_db("failed");
  std::unique_ptr<Store> main;
  auto s = open_both(db, main);
  REQUIRE(s->commit({}, {msg("a1", "ops")}).ok());
  auto id = s->due_messages(1000).at(0).id;
  REQUIRE(s->record_attempt({id, 1500, false, true, 0, "errcode 93000 invalid webhook url"}).ok());
  auto m = s->messages(0, 1).at(0);
  CHECK(m.status == DeliveryStatus::kFailed);
  CHECK(m.last_error == "errcode 93000 invalid webhook url");
  CHECK_FALSE(s->next_due().has_value());
}
