// Spool: the agent's local store of results not yet acknowledged by the collector
// (<state_dir>/spool.db, SQLite in WAL mode). Every result gets a `seq` that only ever grows,
// never reused even after everything was acknowledged and deleted, so the collector can drop
// duplicates by (agent, seq). The shipper peeks in seq order and acks up to the collector's
// ack_seq; nothing is deleted before that except by the size cap.
//
// Durability: synchronous=FULL. In WAL mode NORMAL already survives a crash of the agent, but
// on power loss or a kernel panic it may roll back the last commits, i.e. lose results the
// agent believed stored. FULL fsyncs the WAL on every commit; at an agent's rate (a few
// results a second at most) that costs nothing measurable, and "never loses a result" holds
// across power loss too.
//
// Cap: a safety net for a collector that stays away for days. When an append takes the spool
// over max_rows or max_bytes (sum of JSON bodies), the OLDEST results are deleted: the newest
// tell the current state, which matters more when the collector comes back. Drops are counted
// (dropped()), logged once per episode, and recorded as gaps (from_seq, to_seq, count) that
// the shipper sends so reports can say "no data from ... to ..." instead of pretending. A
// disk that is full (SQLITE_FULL) is handled the same way: the oldest tenth goes and the
// append is tried once more.
//
// Thread-safe (one mutex); every error names the file and the cause, nothing throws.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "xj/checks/result.hpp"
#include "xj/common/expected.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace xj {

struct SpoolOptions {
  // One result is ~0.5-2 KB of JSON: the byte cap is what normally applies (256 MiB holds a
  // week of 30 checks at a 10 s interval); the row cap bounds the work of one ack or peek.
  std::uint64_t max_rows = 1'000'000;
  std::uint64_t max_bytes = 256ull * 1024 * 1024;
  // Hard ceiling on the file itself (SQLite max_page_count); 0 = none. Reaching it behaves
  // like a full disk. Lets tests exercise the disk-full path; also usable on tiny devices.
  std::uint64_t max_file_bytes = 0;
};

struct SpoolEntry {
  std::int64_t seq = 0;
  std::string json;  // the wire form of the Result, without seq (the shipper adds it)
};

// Results deleted by the cap before shipping: seq from..to (inclusive), their count and times.
struct SpoolGap {
  std::int64_t from_seq = 0;
  std::int64_t to_seq = 0;
  std::int64_t count = 0;
  std::int64_t from_ts_ms = 0;
  std::int64_t to_ts_ms = 0;
};

class Spool {
 public:
  // Creates the state dir and the database if missing. The error names the dir or the file.
  static Expected<std::unique_ptr<Spool>> open(const std::filesystem::path& state_dir,
                                               SpoolOptions options = {});
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Stores one result; returns its seq.
  Expected<std::int64_t> append(const Result& r);
  // Stores all in one transaction (all or none); returns the seq of the last one.
  Expected<std::int64_t> append_batch(const std::vector<Result>& results);

  // Oldest results first, at most max_count of them and max_bytes of JSON in total — but
  // always at least one when the spool is not empty, so a huge result cannot block shipping.
  Expected<std::vector<SpoolEntry>> peek(std::size_t max_count, std::size_t max_bytes) const;
  // Gaps left by the cap, oldest first.
  Expected<std::vector<SpoolGap>> gaps() const;
  // Deletes every result with seq <= upto_seq, and the gaps that end there; returns how many
  // results went. The shipper calls this only after the collector acknowledged upto_seq.
  Expected<std::uint64_t> ack(std::int64_t upto_seq);

  // Moves one result the collector refused on its own (HTTP 400 for a batch of one) out of
  // the queue into the `rejected` table, where it is kept for inspection and never shipped:
  // otherwise one malformed result would block everything behind it forever. False when no
  // result has that seq.
  Expected<bool> quarantine(std::int64_t seq, const std::string& reason);
  std::uint64_t rejected() const;  // results kept in quarantine

  std::uint64_t depth() const;      // results stored
  std::uint64_t bytes() const;      // JSON bytes stored
  std::int64_t oldest_seq() const;  // 0 when empty
  std::int64_t newest_seq() const;  // 0 when empty
  std::uint64_t dropped() const;    // results deleted by the cap since open
  // Heap held by SQLite's page cache for this file; bounded (256 KiB of pages plus SQLite's
  // per-page overhead) however large the spool grows.
  std::uint64_t cache_bytes() const;

 private:
  Spool(std::filesystem::path path, sqlite3* db, SpoolOptions options);
  Expected<bool> init_schema();
  Expected<bool> refresh_counters();
  Expected<bool> refresh_ends();
  Expected<std::int64_t> insert_all(const std::vector<const Result*>& results, int& rc);
  Expected<bool> enforce_cap();
  Expected<bool> drop_oldest(std::uint64_t rows, const char* reason);
  Error db_error(const std::string& what) const;

  std::filesystem::path path_;
  sqlite3* db_;
  SpoolOptions options_;
  mutable std::mutex mu_;
  // Statements kept prepared for the connection's life, by their SQL text (a literal).
  mutable std::map<const char*, sqlite3_stmt*> stmts_;
  std::uint64_t rows_ = 0;
  std::uint64_t bytes_ = 0;
  std::int64_t oldest_ = 0;
  std::int64_t newest_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace xj
