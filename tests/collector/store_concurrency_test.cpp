// The SQLite store under concurrency: readers during a write, many ingesting threads.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "store_test_util.hpp"

using namespace xj;
using namespace xj::test;

namespace {

// True while some connection holds the write lock of the file (a write transaction is open).
bool write_lock_held(sqlite3* probe) {
  if (sqlite3_exec(probe, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_BUSY) return true;
  sqlite3_exec(probe, "ROLLBACK", nullptr, nullptr, nullptr);
  return false;
}

}  // namespace

TEST_CASE("readers get answers while a long ingest transaction is open", "[store]") {
  auto file = store_dir("store-readers") / "collector.db";
  TestClock clock;
  auto store = open_store(file, options_with(clock));
  ingest_ok(*store, batch("small", {{1, result("load", Status::kOk, kT0, {metric("load1", 1)})}}));

  std::vector<SpooledResult> rs;
  for (int i = 1; i <= 60'000; ++i) {
    rs.push_back({i, result("check:" + std::to_string(i % 200), Status::kOk, kT0 + i,
                            {metric("a", i), metric("b", i), metric("c", i)})});
  }
  IngestBatch big = batch("big", std::move(rs));
  std::atomic<bool> finished{false};
  std::thread writer([&] {
    ingest_ok(*store, big);
    finished = true;
  });

  RawDb probe(file);
  sqlite3_busy_timeout(probe.get(), 0);
  while (!finished && !write_lock_held(probe.get())) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE_FALSE(finished.load());  // the batch must still be in its transaction

  auto started = std::chrono::steady_clock::now();
  auto hosts = store->hosts();
  auto checks = store->checks({});
  auto series = store->series(SeriesQuery{"small", "load", "load1", {}, 0, kT0 + kDay, 0});
  auto took = std::chrono::steady_clock::now() - started;
  const bool still_writing = write_lock_held(probe.get());
  writer.join();

  CHECK(still_writing);  // all three reads finished inside the write transaction
  CHECK(took < std::chrono::seconds(1));
  REQUIRE(hosts.size() == 1);  // the last committed state, without the open batch
  CHECK(hosts[0].agent.id == "small");
  CHECK(checks.size() == 1);
  REQUIRE(series.size() == 1);
  CHECK(series[0].points.size() == 1);
  CHECK(store->hosts().size() == 2);
  CHECK(store->checks(CheckFilter{std::nullopt, "big", ""}).size() == 200);
}

TEST_CASE("batches from many threads are all stored, and a bad one among them alone fails",
          "[store]") {
  auto file = store_dir("store-threads") / "collector.db";
  TestClock clock;
  auto store = open_store(file, options_with(clock));
  constexpr int kThreads = 8, kBatches = 40, kPerBatch = 25;
  std::atomic<int> failures{0}, accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string agent = "agent-" + std::to_string(t);
      for (int b = 0; b < kBatches; ++b) {
        std::vector<SpooledResult> rs;
        for (int i = 0; i < kPerBatch; ++i) {
          const std::int64_t seq = b * kPerBatch + i + 1;
          rs.push_back({seq, result("load", Status::kOk, kT0 + seq * 1000, {metric("load1", seq)})});
        }
        if (t == 3 && b == 7) rs[10].result.check.clear();  // this one batch is broken
        auto out = store->ingest(batch(agent, rs));
        if (!out.ok()) {
          ++failures;
          continue;
        }
        accepted += static_cast<int>(out->accepted);
        if (out->ack_seq != (b + 1) * kPerBatch) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 1);
  CHECK(accepted == (kThreads * kBatches - 1) * kPerBatch);
  RawDb raw(file);
  CHECK(raw.integer("SELECT count(*) FROM results") == (kThreads * kBatches - 1) * kPerBatch);
  CHECK(raw.integer("SELECT count(*) FROM results r JOIN hosts h USING(hid)"
                    " WHERE h.id = 'agent-3' AND seq BETWEEN 176 AND 200") == 0);
  CHECK(raw.integer("SELECT count(*) FROM agent_seqs") == kThreads + 1);  // agent-3 has a hole
}
