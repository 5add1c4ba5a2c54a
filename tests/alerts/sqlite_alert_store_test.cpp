// The collector's SQLite AlertStore: one transaction for state and messages, idempotency keys,
// per-channel order, and everything still there after the file is reopened.
#include <unistd.h>

#include <sqlite3.h>

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

TEST_CASE("the store migrates to a schema with the alert and incident tables") {
  auto db = fresh_db("tables");
  std::unique_ptr<Store> main;
  auto s = open_both(db, main);
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(db.string().c_str(), &raw) == SQLITE_OK);
  for (const char* table : {"alerts", "alert_history", "outbox", "incidents", "incident_alerts", "incident_timeline"}) {
    INFO(table);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(raw, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", -1, &st,
                               nullptr) == SQLITE_OK);
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    CHECK(sqlite3_column_int(st, 0) == 1);
    sqlite3_finalize(st);
  }
  sqlite3_close(raw);
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

TEST_CASE("a channel's pending rows, and one combined attempt recorded on every member") {
  auto db = fresh_db("combined");
  std::unique_ptr<Store> main;
  auto s = open_both(db, main);
  REQUIRE(s->commit({}, {msg("a1", "ops"), msg("b1", "sms"), msg("a2", "ops"), msg("a3", "ops")}).ok());
  auto ops = s->pending_messages("ops", 10);
  REQUIRE(ops.size() == 3);
  CHECK(ops[0].idempotency_key == "a1");
  CHECK(ops[2].idempotency_key == "a3");
  CHECK(s->pending_messages("ops", 2).size() == 2);
  // A group of a1 and a2 failed once, then was delivered as one.
  REQUIRE(s->record_attempts({{ops[0].id, 1500, false, false, 3500, "HTTP 500"},
                              {ops[1].id, 1500, false, false, 3500, "HTTP 500"}}).ok());
  REQUIRE(s->record_attempts({{ops[0].id, 3600, true, false, 0, ""}, {ops[1].id, 3600, true, false, 0, ""}}).ok());
  ops = s->pending_messages("ops", 10);
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].idempotency_key == "a3");
  for (const auto& m : s->messages(0, 10)) {
    if (m.idempotency_key != "a1" && m.idempotency_key != "a2") continue;
    CHECK(m.status == DeliveryStatus::kDelivered);
    CHECK(m.attempts == 2);
    CHECK(m.latency_ms == 2600);
  }
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

TEST_CASE("incidents, their linked alerts and timeline are committed with the alert and read back after a reopen") {
  auto db = fresh_db("incidents");
  {
    std::unique_ptr<Store> main;
    auto s = open_both(db, main);
    Incident i;
    i.id = 1;
    i.title = "db-01 disk:/data";
    i.level = IncidentLevel::kP2;
    i.source = "alert";
    i.host = "db-01";
    i.system = "平台";
    i.opened_by = "collector";
    i.opened_ms = 1000;
    i.respond_due_ms = 1000 + 1'800'000;
    i.repair_due_ms = 1000 + 10'800'000;
    i.alerts = {IncidentAlert{"abc", 1000, "db-01", "disk:/data", 1000, 0}};
    AlertChanges c;
    c.alerts = {firing_alert()};
    c.messages = {msg("k1", "ops")};
    c.incidents.incidents = {i};
    c.incidents.timeline = {TimelineEntry{0, 1, 1000, "opened", "collector", "P2"},
                            TimelineEntry{0, 1, 1000, "alert_firing", "collector", "db-01 disk:/data: 93% used"}};
    REQUIRE(s->commit(c).ok());
    // Later: the alert resolved, the incident with it.
    i.alerts[0].resolved_ms = 5000;
    i.state = IncidentState::kResolved;
    i.resolved_ms = 5000;
    i.resolved_by = "collector";
    i.repair_warned = true;
    i.cause = "日志写满磁盘";
    AlertChanges later;
    later.incidents.incidents = {i};
    later.incidents.timeline = {TimelineEntry{0, 1, 5000, "resolved", "collector", ""}};
    REQUIRE(s->commit(later).ok());
  }
  std::unique_ptr<Store> main;
  auto s = open_both(db, main);
  CHECK(s->max_incident_id() == 1);
  auto i = s->incident(1);
  REQUIRE(i);
  CHECK(i->level == IncidentLevel::kP2);
  CHECK(i->state == IncidentState::kResolved);
  CHECK(i->system == "平台");
  CHECK(i->repair_due_ms == 1000 + 10'800'000);
  CHECK(i->repair_warned);
  CHECK_FALSE(i->respond_breached);
  CHECK(i->cause == "日志写满磁盘");
  REQUIRE(i->alerts.size() == 1);
  CHECK(i->alerts[0].resolved_ms == 5000);
  auto t = s->timeline(1);
  REQUIRE(t.size() == 3);
  CHECK(t[1].text == "db-01 disk:/data: 93% used");
  CHECK(t[2].kind == "resolved");
  IncidentFilter active;
  active.active_only = true;
  CHECK(s->incidents(active).empty());
  IncidentFilter resolved;
  resolved.state = IncidentState::kResolved;
  CHECK(s->incidents(resolved).size() == 1);
  IncidentFilter other_host;
  other_host.host = "web-01";
  CHECK(s->incidents(other_host).empty());
  CHECK_FALSE(s->incident(2));
}
