// The embedded SQLite store behind Store (see store.hpp): one file, WAL mode, zero setup.
//
// What the file holds and how long:
//   hosts, checks (current state), status_changes        kept for the contract term
//   rollup_hourly / rollup_daily per metric series        kept for the contract term
//   status_hourly / status_daily per check (ms in status)  kept for the contract term
//   results (JSON body), samples                           raw_retention_days
//   tokens (SHA-256 hashes only), audit (SM3 chain)       kept
//
// Concurrency: ingest() may be called from many threads. Writers are serialised on one
// connection; concurrent ingest calls are committed together (group commit: one transaction,
// one savepoint per batch, so a failing batch never takes others with it) — with
// synchronous=FULL one fsync then covers many batches. Readers use a pool of their own
// connections and see the last committed state; they never wait for a writer.
//
// Time: storage is UTC epoch ms. Hourly buckets are UTC hours; daily buckets are the local
// days of `timezone` (read from the system tz database), keyed by the UTC ms of local
// midnight. The zone is recorded in the file at creation: opening it with another zone is
// refused, since the existing daily buckets would no longer line up.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "xj/collector/store.hpp"
#include "xj/common/expected.hpp"

namespace xj {

struct SqliteStoreOptions {
  int raw_retention_days = 14;
  std::string timezone = "Asia/Shanghai";
  // synchronous=FULL: an acknowledged batch survives power loss, not only a crash of the
  // collector (the agent deletes what we acknowledge). Group commit keeps the fsyncs few.
  bool durable = true;
  // The time between two results of a check is counted as the earlier result's status, but
  // at most this long: a check that stops reporting stops accumulating time in its status.
  std::int64_t status_span_cap_ms = 24LL * 3600 * 1000;
  // Injected clock (epoch ms) for tests; default: the system clock.
  std::function<std::int64_t()> now;
};

// Opens (creating if needed) the store at `path` and brings its schema up to date. Refuses a
// file whose schema is newer than this binary knows, naming the file and both versions.
Expected<std::unique_ptr<Store>> open_sqlite_store(const std::string& path,
                                                   SqliteStoreOptions options = {});

// The newest schema version this binary knows (the number of migrations).
int sqlite_store_schema_version();

}  // namespace xj
