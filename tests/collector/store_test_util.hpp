// Helpers for the SQLite store tests: scratch dirs under the build dir, an injected clock,
// result and batch builders, and a raw SQLite connection to look into the file.
#pragma once

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "xj/collector/sqlite_store.hpp"

namespace xj::test {

// 2026-03-02 00:00:00 UTC (08:00 in Asia/Shanghai), a Monday.
constexpr std::int64_t kT0 = 1'772'409'600'000;
constexpr std::int64_t kMin = 60'000, kHour = 3'600'000, kDay = 86'400'000;

inline std::filesystem::path store_dir(const std::string& name) {
  auto dir = std::filesystem::path(XJ_BINARY_DIR) / "collector_tests" /
             (name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

struct TestClock {
  std::atomic<std::int64_t> now{kT0};
};

inline SqliteStoreOptions options_with(TestClock& clock, std::string tz = "Asia/Shanghai") {
  SqliteStoreOptions o;
  o.timezone = std::move(tz);
  o.durable = false;  // tests do not need fsyncs
  o.now = [&clock] { return clock.now.load(); };
  return o;
}

inline std::unique_ptr<Store> open_store(const std::filesystem::path& file,
                                         SqliteStoreOptions o) {
  auto s = open_sqlite_store(file.string(), std::move(o));
  INFO((s.ok() ? std::string() : s.error()));
  REQUIRE(s.ok());
  return std::move(s).value();
}

inline Result result(const std::string& check, Status status, std::int64_t ts,
                     std::vector<Metric> metrics = {}) {
  Result r;
  r.check = check;
  r.kind = check.substr(0, check.find(':'));
  r.status = status;
  r.summary = check + " is " + std::string(to_string(status));
  r.ts_ms = ts;
  r.metrics = std::move(metrics);
  return r;
}

inline Metric metric(const std::string& name, double value, Labels labels = {}) {
  Metric m;
  m.name = name;
  m.value = value;
  m.unit = "%";
  m.labels = std::move(labels);
  return m;
}

inline IngestBatch batch(const std::string& agent, std::vector<SpooledResult> results,
                         std::int64_t received = kT0) {
  IngestBatch b;
  b.agent = AgentInfo{agent, agent + ".example", "0.1.0", {{"role", "db"}}};
  b.results = std::move(results);
  b.received_ms = received;
  return b;
}

inline IngestOutcome ingest_ok(Store& store, const IngestBatch& b) {
  auto out = store.ingest(b);
  INFO((out.ok() ? std::string() : out.error()));
  REQUIRE(out.ok());
  return *out;
}

// A separate connection to the store's file, as an operator (or an attacker) would open it.
class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& file) {
    REQUIRE(sqlite3_open(file.c_str(), &db_) == SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  sqlite3* get() const { return db_; }

  void exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    INFO(sql << ": " << (err != nullptr ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
  }
  std::int64_t integer(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    INFO(sql);
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    std::int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace xj::test
