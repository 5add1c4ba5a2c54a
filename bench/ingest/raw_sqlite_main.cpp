// ingest_raw_sqlite: the limit of the collector's storage design. The same rows the
// collector writes for each result -- one `results` row with the wire JSON body and one
// `samples` row per metric, same tables, keys and pragmas (WAL, synchronous=FULL, 64 MiB
// cache) -- inserted straight into SQLite with prepared statements in large transactions,
// without HTTP, JSON parsing, token checks, dedupe, current state or rollups.
//
// The two CREATE TABLE statements are copied from migration v1
// (collector/src/sqlite_migrations.cpp); keep them in step when that schema changes.
#include <sqlite3.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "proc_stat.hpp"
#include "synthetic.hpp"

namespace {

const char* const kSchema = R"sql(
CREATE TABLE results(
  rid INTEGER PRIMARY KEY,
  hid INTEGER NOT NULL,
  cid INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  received INTEGER NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE TABLE samples(
  slot INTEGER NOT NULL,
  sid INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  rid INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY(slot, sid, ts, rid)
) WITHOUT ROWID;
)sql";

constexpr std::int64_t kSlotMs = 60'000;  // as the collector: samples keyed by the minute

bool exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::cerr << "ingest_raw_sqlite: " << sql << ": " << (err ? err : "?") << "\n";
    sqlite3_free(err);
    return false;
  }
  return true;
}

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ingest_raw_sqlite: the collector's result rows inserted straight into SQLite"};
  std::string path, json_file;
  std::size_t agents = 10'000, checks = 20, txn_results = 5'000;
  double duration_s = 60;
  bool durable = true;
  app.add_option("--db", path, "a new SQLite file")->required();
  app.add_option("--agents", agents, "simulated agents");
  app.add_option("--checks", checks, "checks per agent");
  app.add_option("--txn-results", txn_results, "results per transaction");
  app.add_option("--duration", duration_s, "seconds to insert for");
  app.add_option("--durable", durable, "synchronous=FULL (as the collector) or NORMAL");
  app.add_option("--json", json_file, "also write the figures as JSON here");
  CLI11_PARSE(app, argc, argv);

  // Bodies and metric values come from a pool made before the clock starts: the point is
  // what SQLite can take, not how fast this program formats JSON.
  constexpr std::size_t kVariants = 8;
  std::vector<std::vector<std::pair<std::string, xj::Result>>> pool(checks);
  std::size_t body_bytes = 0;
  for (std::size_t c = 0; c < checks; ++c) {
    for (std::size_t v = 0; v < kVariants; ++v) {
      xj::Result r = xj::bench::make_result(v, c, v, epoch_ms());
      std::string body = to_json(r).dump();
      body_bytes += body.size();
      pool[c].emplace_back(std::move(body), std::move(r));
    }
  }

  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::cerr << "ingest_raw_sqlite: cannot open " << path << "\n";
    return 1;
  }
  if (!exec(db, "PRAGMA journal_mode=WAL") ||
      !exec(db, durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL") ||
      !exec(db, "PRAGMA cache_size=-65536; PRAGMA journal_size_limit=67108864") ||
      !exec(db, kSchema)) {
    return 1;
  }
  sqlite3_stmt* ins_result = nullptr;
  sqlite3_stmt* ins_sample = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO results(hid, cid, seq, ts, received, status, body)"
                     " VALUES(?, ?, ?, ?, ?, ?, ?)",
                     -1, &ins_result, nullptr);
  sqlite3_prepare_v2(db,
                     "INSERT INTO samples(slot, sid, ts, rid, value) VALUES(?, ?, ?, ?, ?)"
                     " ON CONFLICT DO NOTHING",
                     -1, &ins_sample, nullptr);
  if (ins_result == nullptr || ins_sample == nullptr) {
    std::cerr << "ingest_raw_sqlite: prepare: " << sqlite3_errmsg(db) << "\n";
    return 1;
  }

  std::vector<std::int64_t> next_seq(agents, 1);
  std::uint64_t results = 0, samples = 0, transactions = 0;
  std::size_t cursor = 0, in_txn = 0;
  const auto sched0 = xj::bench::sample_process(getpid());
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  exec(db, "BEGIN IMMEDIATE");
  // Agents round robin, one batch (a round of every check) each, as the HTTP load sends them.
  while (elapsed() < duration_s) {
    const std::size_t a = cursor++ % agents;
    const std::int64_t now = epoch_ms();
    const std::uint64_t round = cursor / agents;
    for (std::size_t c = 0; c < checks; ++c) {
      const auto& [body, r] = pool[c][(a + round) % kVariants];
      const std::int64_t ts = now - static_cast<std::int64_t>(checks - c);
      const auto cid = static_cast<std::int64_t>(a * checks + c + 1);
      sqlite3_bind_int64(ins_result, 1, static_cast<std::int64_t>(a + 1));
      sqlite3_bind_int64(ins_result, 2, cid);
      sqlite3_bind_int64(ins_result, 3, next_seq[a]++);
      sqlite3_bind_int64(ins_result, 4, ts);
      sqlite3_bind_int64(ins_result, 5, now);
      sqlite3_bind_int(ins_result, 6, static_cast<int>(r.status));
      sqlite3_bind_text(ins_result, 7, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
      if (sqlite3_step(ins_result) != SQLITE_DONE) {
        std::cerr << "ingest_raw_sqlite: insert: " << sqlite3_errmsg(db) << "\n";
        return 1;
      }
      sqlite3_reset(ins_result);
      const std::int64_t rid = sqlite3_last_insert_rowid(db);
      for (std::size_t k = 0; k < r.metrics.size(); ++k) {
        sqlite3_bind_int64(ins_sample, 1, ts / kSlotMs);
        sqlite3_bind_int64(ins_sample, 2, (cid - 1) * static_cast<std::int64_t>(xj::bench::kMaxMetricsPerCheck) + static_cast<std::int64_t>(k) + 1);
        sqlite3_bind_int64(ins_sample, 3, ts);
        sqlite3_bind_int64(ins_sample, 4, rid);
        sqlite3_bind_double(ins_sample, 5, r.metrics[k].value);
        if (sqlite3_step(ins_sample) != SQLITE_DONE) {
          std::cerr << "ingest_raw_sqlite: insert sample: " << sqlite3_errmsg(db) << "\n";
          return 1;
        }
        sqlite3_reset(ins_sample);
        ++samples;
      }
      ++results;
    }
    in_txn += checks;
    if (in_txn >= txn_results) {
      if (!exec(db, "COMMIT") || !exec(db, "BEGIN IMMEDIATE")) return 1;
      ++transactions;
      in_txn = 0;
    }
  }
  if (!exec(db, "COMMIT")) return 1;
  ++transactions;
  const double seconds = elapsed();
  const auto sched1 = xj::bench::sample_process(getpid());
  const double cpu_s = sched0 && sched1 ? sched1->cpu_s - sched0->cpu_s : 0;
  const double run_s = sched0 && sched1 ? sched1->sched_run_s - sched0->sched_run_s : 0;
  const double wait_s = sched0 && sched1 ? sched1->sched_wait_s - sched0->sched_wait_s : 0;
  sqlite3_finalize(ins_result);
  sqlite3_finalize(ins_sample);
  sqlite3_close(db);

  const double rate = static_cast<double>(results) / seconds;
  std::printf("ingest_raw_sqlite: %zu agents x %zu checks, results + samples rows, %zu results per"
              " transaction, synchronous=%s, WAL\n  %llu results (%llu samples) in %.1f s in %llu"
              " transactions: %.0f results/s\n",
              agents, checks, txn_results, durable ? "FULL" : "NORMAL",
              static_cast<unsigned long long>(results), static_cast<unsigned long long>(samples),
              seconds, static_cast<unsigned long long>(transactions), rate);
  std::printf("  %.2f CPU s; %.2f s running, %.2f s runnable but waiting for a CPU (schedstat)\n",
              cpu_s, run_s, wait_s);
  if (!json_file.empty()) {
    std::ofstream(json_file) << nlohmann::json{{"results", results},
                                               {"samples", samples},
                                               {"seconds", seconds},
                                               {"transactions", transactions},
                                               {"txn_results", txn_results},
                                               {"durable", durable},
                                               {"results_per_s", rate},
                                               {"cpu_s", cpu_s},
                                               {"sched_run_s", run_s},
                                               {"sched_wait_s", wait_s},
                                               {"mean_body_bytes", static_cast<double>(body_bytes) / static_cast<double>(checks * kVariants)}}
                                    .dump(2)
                             << "\n";
  }
  return 0;
}
