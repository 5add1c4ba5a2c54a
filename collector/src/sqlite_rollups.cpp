// maintain(): rolls finished buckets up from raw samples (hours) and from hourly rollups
// (days), deletes raw rows past retention, checkpoints the WAL.
//
// Why rollups are made here and not in ingest: an upsert of an hourly and a daily row per
// sample would triple the writes of the hot path. Instead ingest only appends samples, and
// the rollup of a finished bucket is computed once, a chunk of series ids per transaction so
// ingest is never held up for long. series() computes what is not rolled up yet (the current
// hour, the current day) from samples, so a query always includes the unfinished bucket.
//
// Samples that arrive for a bucket already rolled up (an agent backfilling after an outage)
// are merged into the rollup by ingest directly; LevelState says which buckets that is, and
// ingest and maintain agree on it because both hold the writer.
#include <algorithm>
#include <unordered_map>

#include "detail/sqlite_store_impl.hpp"

namespace xj::detail {
namespace {

constexpr std::int64_t kSidsPerChunk = 2000;    // ~60 samples each per hour
constexpr std::int64_t kSidsPerRawDay = 100;    // ~1440 samples each per day
constexpr std::int64_t kRowsPerDelete = 20'000;

}  // namespace

Expected<bool> SqliteStore::merge_rollup(bool daily, std::int64_t bucket, std::int64_t sid,
                                         const Agg& a) {
  Query q(*writer_,
          daily ? "INSERT INTO rollup_daily(bucket, sid, min, max, sum, count, last, last_ts)"
                  " VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(bucket, sid) DO UPDATE SET"
                  " min=min(min, excluded.min), max=max(max, excluded.max),"
                  " sum=sum+excluded.sum, count=count+excluded.count,"
                  " last=CASE WHEN excluded.last_ts >= last_ts THEN excluded.last ELSE last END,"
                  " last_ts=max(last_ts, excluded.last_ts)"
                : "INSERT INTO rollup_hourly(bucket, sid, min, max, sum, count, last, last_ts)"
                  " VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(bucket, sid) DO UPDATE SET"
                  " min=min(min, excluded.min), max=max(max, excluded.max),"
                  " sum=sum+excluded.sum, count=count+excluded.count,"
                  " last=CASE WHEN excluded.last_ts >= last_ts THEN excluded.last ELSE last END,"
                  " last_ts=max(last_ts, excluded.last_ts)");
  if (!q.bind(bucket, sid, a.min, a.max, a.sum, a.count, a.last, a.last_ts).done()) {
    return writer_->error(std::string("cannot update the ") + (daily ? "daily" : "hourly") +
                          " rollup");
  }
  return true;
}

Expected<bool> SqliteStore::roll_chunk(bool daily, std::int64_t now_ms, bool& more) {
  more = false;
  std::lock_guard lock(write_mu_);
  const LevelState st = daily ? day_ : hour_;
  const std::int64_t start = st.rolled_to;
  const std::int64_t end = daily ? tz_.next_day_start(start) : start + kHourMs;
  // Days are made of hourly rollups when the local day starts and ends on UTC hours (every
  // zone with whole-hour offsets); otherwise from samples.
  const bool from_hours = daily && start % kHourMs == 0 && end % kHourMs == 0;
  const std::int64_t limit = from_hours ? std::min(now_ms, hour_.rolled_to) : now_ms;
  if (end > limit) return true;  // the bucket is not finished (or its hours are not rolled)
  auto bucket_of = [&](std::int64_t t) { return daily ? tz_.day_start(t) : floor_to(t, kHourMs); };
  const char* level = daily ? "day" : "hour";

  Txn txn(*writer_, "BEGIN IMMEDIATE");
  if (!txn.ok()) return writer_->error("cannot begin a rollup");
  LevelState next = st;
  if (st.partial_sid == 0) {
    // Nothing in this bucket: jump to the bucket of the next data (or the current one).
    Query first(*writer_, from_hours
                              ? "SELECT bucket FROM rollup_hourly WHERE bucket >= ? ORDER BY bucket LIMIT 1"
                              : "SELECT slot * 60000 FROM samples WHERE slot >= ? ORDER BY slot LIMIT 1");
    first.bind(from_hours ? start : start / kSlotMs);
    const int rc = first.step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return writer_->error("cannot find data to roll up");
    const bool found = rc == SQLITE_ROW;
    const std::int64_t next_data = found ? first.i64(0) : limit;
    if (next_data >= end) {
      next = LevelState{std::max(end, bucket_of(std::min(next_data, limit))), 0};
    }
  }
  if (next.rolled_to == st.rolled_to) {
    std::int64_t max_sid = 0;
    {
      Query q(*writer_, "SELECT coalesce(max(sid), 0) FROM series");
      if (!q.row()) return writer_->error("cannot read the series ids");
      max_sid = q.i64(0);
    }
    const std::int64_t lo = st.partial_sid;
    const std::int64_t hi = lo + (daily && !from_hours ? kSidsPerRawDay : kSidsPerChunk);
    std::unordered_map<std::int64_t, Agg> aggs;
    if (from_hours) {
      for (std::int64_t h = start; h < end; h += kHourMs) {
        Query q(*writer_,
                "SELECT sid, min, max, sum, count, last, last_ts FROM rollup_hourly"
                " WHERE bucket = ? AND sid >= ? AND sid < ?");
        q.bind(h, lo, hi);
        while (q.row()) {
          aggs[q.i64(0)].merge(Agg{q.f64(1), q.f64(2), q.f64(3), q.f64(5), q.i64(4), q.i64(6)});
        }
      }
    } else {
      for (std::int64_t slot = start / kSlotMs; slot * kSlotMs < end; ++slot) {
        Query q(*writer_,
                "SELECT sid, ts, value FROM samples WHERE slot = ? AND sid >= ? AND sid < ?"
                " AND ts >= ? AND ts < ?");
        q.bind(slot, lo, hi, start, end);
        while (q.row()) aggs[q.i64(0)].add(q.f64(2), q.i64(1));
      }
    }
    for (const auto& [sid, agg] : aggs) {
      if (auto r = merge_rollup(daily, start, sid, agg); !r) return r;
    }
    next = hi > max_sid ? LevelState{end, 0} : LevelState{start, hi};
  }
  Query up(*writer_, "UPDATE rollup_state SET rolled_to=?, partial_sid=? WHERE level=?");
  if (!up.bind(next.rolled_to, next.partial_sid, level).done()) {
    return writer_->error("cannot record the rollup progress");
  }
  if (!txn.commit()) return writer_->error("cannot commit a rollup");
  (daily ? day_ : hour_) = next;
  more = true;
  return true;
}

Expected<bool> SqliteStore::delete_expired(std::int64_t now_ms) {
  const std::int64_t cutoff = now_ms - opt_.raw_retention_days * kDayMs;
  // Samples a rollup still needs stay, whatever their age.
  std::int64_t sample_cut = 0;
  {
    std::lock_guard lock(write_mu_);
    sample_cut = std::min({cutoff, hour_.rolled_to, day_.rolled_to}) / kSlotMs;
  }
  for (bool more = true; more;) {
    std::lock_guard lock(write_mu_);
    Txn txn(*writer_, "BEGIN IMMEDIATE");
    if (!txn.ok()) return writer_->error("cannot begin deleting old samples");
    std::int64_t deleted = 0;
    more = false;
    while (deleted < kRowsPerDelete) {
      Query first(*writer_, "SELECT min(slot) FROM samples");
      if (!first.row()) return writer_->error("cannot find old samples");
      if (first.null(0) || first.i64(0) >= sample_cut) break;
      Query del(*writer_, "DELETE FROM samples WHERE slot = ?");
      if (!del.bind(first.i64(0)).done()) return writer_->error("cannot delete old samples");
      deleted += sqlite3_changes(writer_->db());
      more = true;
    }
    if (!txn.commit()) return writer_->error("cannot commit deleting old samples");
  }
  // Results go by arrival, in rid order: cheap without an index on ts, and a backfilled
  // result is kept for the retention period after it arrived.
  constexpr std::int64_t kResultsPerDelete = kRowsPerDelete / 4;  // bodies are large
  for (;;) {
    std::lock_guard lock(write_mu_);
    Txn txn(*writer_, "BEGIN IMMEDIATE");
    if (!txn.ok()) return writer_->error("cannot begin deleting old results");
    std::int64_t last = -1, seen = 0;
    bool reached_recent = false;
    {
      Query q(*writer_, "SELECT rid, received FROM results ORDER BY rid LIMIT ?");
      q.bind(kResultsPerDelete);
      while (q.row()) {
        ++seen;
        if (q.i64(1) >= cutoff) {
          reached_recent = true;
          break;
        }
        last = q.i64(0);
      }
    }
    if (last < 0) break;
    Query del(*writer_, "DELETE FROM results WHERE rid <= ?");
    if (!del.bind(last).done()) return writer_->error("cannot delete old results");
    if (!txn.commit()) return writer_->error("cannot commit deleting old results");
    if (reached_recent || seen < kResultsPerDelete) break;
  }
  return true;
}

Expected<bool> SqliteStore::maintain(std::int64_t now_ms) {
  for (bool daily : {false, true}) {
    bool more = true;
    while (more) {
      if (auto r = roll_chunk(daily, now_ms, more); !r) return r;
    }
  }
  if (auto r = delete_expired(now_ms); !r) return r;
  std::lock_guard lock(write_mu_);
  auto uses = take_token_uses();
  if (!uses.empty()) {
    Txn txn(*writer_, "BEGIN IMMEDIATE");
    if (!txn.ok() || !write_token_uses(uses) || !txn.commit()) {
      restore_token_uses(uses);
      return writer_->error("cannot record when tokens were last used");
    }
  }
  // PASSIVE: never waits for readers; the WAL is reset once no reader needs its frames.
  sqlite3_wal_checkpoint_v2(writer_->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  return true;
}

}  // namespace xj::detail
