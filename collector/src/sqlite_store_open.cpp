// Opening the SQLite store: schema migrations, the time-zone guard, the in-memory caches;
// and the small value types the other parts share.
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "detail/sqlite_migrations.hpp"
#include "detail/sqlite_store_impl.hpp"

namespace xj {

Expected<std::unique_ptr<Store>> open_sqlite_store(const std::string& path,
                                                   SqliteStoreOptions options) {
  return detail::SqliteStore::open(path, std::move(options));
}

int sqlite_store_schema_version() {
  return static_cast<int>(detail::sqlite_migrations().size());
}

}  // namespace xj

namespace xj::detail {

void Agg::add(double v, std::int64_t ts) {
  if (count == 0) {
    min = max = v;
  } else {
    min = std::min(min, v);
    max = std::max(max, v);
  }
  sum += v;
  ++count;
  if (count == 1 || ts >= last_ts) {
    last = v;
    last_ts = ts;
  }
}

void Agg::merge(const Agg& o) {
  if (o.count == 0) return;
  if (count == 0) {
    *this = o;
    return;
  }
  min = std::min(min, o.min);
  max = std::max(max, o.max);
  sum += o.sum;
  count += o.count;
  if (o.last_ts >= last_ts) {
    last = o.last;
    last_ts = o.last_ts;
  }
}

SeriesPoint Agg::point(std::int64_t ts) const {
  return SeriesPoint{ts, min, max, count > 0 ? sum / static_cast<double>(count) : 0, last, count};
}

bool SeqRanges::contains(std::int64_t seq) const {
  auto it = ranges_.upper_bound(seq);
  if (it == ranges_.begin()) return false;
  --it;
  return seq <= it->second;
}

void SeqRanges::insert(std::int64_t seq) {
  if (contains(seq)) return;
  auto next = ranges_.upper_bound(seq);
  bool joins_next = next != ranges_.end() && next->first == seq + 1;
  if (next != ranges_.begin()) {
    auto prev = std::prev(next);
    if (prev->second + 1 == seq) {
      prev->second = joins_next ? next->second : seq;
      if (joins_next) ranges_.erase(next);
      return;
    }
  }
  if (joins_next) {
    std::int64_t hi = next->second;
    ranges_.erase(next);
    ranges_[seq] = hi;
    return;
  }
  ranges_[seq] = seq;
}

void IngestCache::merge_from(IngestCache&& o) {
  for (auto& [k, v] : o.checks) checks.insert_or_assign(k, v);
  for (auto& [k, v] : o.series) series.insert_or_assign(k, std::move(v));
  for (auto& [k, v] : o.seqs) seqs.insert_or_assign(k, std::move(v));
}

std::string check_key(std::int64_t hid, const std::string& check) {
  std::string k = std::to_string(hid);
  k += '\x1f';
  k += check;
  return k;
}

std::string series_key(std::int64_t cid, const std::string& metric, const std::string& labels) {
  std::string k = std::to_string(cid);
  k += '\x1f';
  k += metric;
  k += '\x1f';
  k += labels;
  return k;
}

std::string labels_json(const Labels& labels) {
  if (labels.empty()) return "{}";
  return nlohmann::json(labels).dump();
}

Labels labels_from_json(const std::string& text) {
  Labels out;
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return out;
  for (auto& [k, v] : j.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

SqliteStore::SqliteStore(std::string path, SqliteStoreOptions o, TimeZone tz,
                         std::unique_ptr<SqliteConn> writer)
    : path_(std::move(path)),
      opt_(std::move(o)),
      tz_(std::move(tz)),
      writer_(std::move(writer)),
      readers_(path_) {}

std::int64_t SqliteStore::now() const { return opt_.now(); }

Expected<std::unique_ptr<Store>> SqliteStore::open(const std::string& path,
                                                   SqliteStoreOptions o) {
  if (!o.now) o.now = [] { return now_epoch_ms(); };
  if (o.raw_retention_days < 1) {
    return make_error("collector store " + path + ": raw_retention_days must be at least 1, got " +
                      std::to_string(o.raw_retention_days));
  }
  if (o.status_span_cap_ms < 1) o.status_span_cap_ms = 24 * kHourMs;
  auto tz = TimeZone::load(o.timezone);
  if (!tz) return make_error("collector store " + path + ": " + tz.error());
  auto writer = SqliteConn::open(path, /*reader=*/false, o.durable);
  if (!writer) return Error{writer.error()};
  std::unique_ptr<SqliteStore> store(
      new SqliteStore(path, std::move(o), std::move(tz).value(), std::move(writer).value()));
  if (auto r = store->migrate(); !r) return Error{r.error()};
  if (auto r = store->check_meta(); !r) return Error{r.error()};
  if (auto r = store->load_caches(); !r) return Error{r.error()};
  return std::unique_ptr<Store>(std::move(store));
}

Expected<bool> SqliteStore::migrate() {
  const auto& migrations = sqlite_migrations();
  const auto known = static_cast<std::int64_t>(migrations.size());
  for (;;) {
    // One transaction per migration; IMMEDIATE so two processes opening a new file at once
    // cannot both apply the same migration.
    Txn txn(*writer_, "BEGIN IMMEDIATE");
    if (!txn.ok()) return writer_->error("cannot begin the schema migration");
    std::int64_t version = 0;
    {
      Query has(*writer_,
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_version'");
      if (!has.row()) return writer_->error("cannot read the schema");
      if (has.i64(0) == 0) {
        Query other(*writer_, "SELECT count(*) FROM sqlite_master WHERE type='table'");
        if (!other.row()) return writer_->error("cannot read the schema");
        if (other.i64(0) > 0) {
          return make_error(path_ + " is an SQLite file but not a xunjian collector store (it has " +
                            "tables but no schema_version): refusing to add tables to it");
        }
        if (!writer_->exec("CREATE TABLE schema_version(version INTEGER PRIMARY KEY,"
                           " applied INTEGER NOT NULL)")) {
          return writer_->error("cannot create schema_version");
        }
      } else {
        Query v(*writer_, "SELECT coalesce(max(version), 0) FROM schema_version");
        if (!v.row()) return writer_->error("cannot read the schema version");
        version = v.i64(0);
      }
    }
    if (version > known) {
      return make_error(path_ + " has schema " + std::to_string(version) +
                        ", this xunjian-collector knows up to " + std::to_string(known) +
                        ": upgrade xunjian-collector");
    }
    if (version == known) {
      if (!txn.commit()) return writer_->error("cannot commit the schema check");
      return true;
    }
    const std::string step = "schema migration " + std::to_string(version + 1);
    if (!writer_->exec(migrations[static_cast<std::size_t>(version)])) {
      return writer_->error("cannot apply " + step);
    }
    Query rec(*writer_, "INSERT INTO schema_version(version, applied) VALUES(?, ?)");
    if (!rec.bind(version + 1, now()).done()) return writer_->error("cannot record " + step);
    if (!txn.commit()) return writer_->error("cannot commit " + step);
  }
}

Expected<bool> SqliteStore::check_meta() {
  Txn txn(*writer_, "BEGIN IMMEDIATE");
  if (!txn.ok()) return writer_->error("cannot begin");
  std::string zone;
  {
    Query q(*writer_, "SELECT value FROM meta WHERE key='timezone'");
    if (q.row()) zone = q.text(0);
  }
  if (zone.empty()) {
    Query ins(*writer_, "INSERT INTO meta(key, value) VALUES('timezone', ?)");
    if (!ins.bind(tz_.name()).done()) return writer_->error("cannot record the time zone");
  } else if (zone != tz_.name()) {
    return make_error(path_ + " keeps its daily rollups in local days of " + zone +
                      ", but the configured time zone is " + tz_.name() +
                      ": configure " + zone + " again, or start a new store");
  }
  // A new store has nothing to roll up before now: both levels start at the current bucket.
  const std::int64_t t = now();
  Query init(*writer_,
             "INSERT OR IGNORE INTO rollup_state(level, rolled_to, partial_sid)"
             " VALUES('hour', ?, 0), ('day', ?, 0)");
  if (!init.bind(floor_to(t, kHourMs), tz_.day_start(t)).done()) {
    return writer_->error("cannot initialise the rollup state");
  }
  if (!txn.commit()) return writer_->error("cannot commit the store settings");
  return true;
}

Expected<bool> SqliteStore::load_caches() {
  Txn txn(*writer_, "BEGIN");
  if (!txn.ok()) return writer_->error("cannot begin");
  // Runs `sql`, calling `each` per row; false when the statement fails.
  auto scan = [&](const char* sql, auto each) {
    Query q(*writer_, sql);
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) each(q);
    return rc == SQLITE_DONE;
  };
  bool ok =
      scan("SELECT cid, hid, check_id, status, since, last_ts FROM checks",
           [&](Query& q) {
             cache_.checks[check_key(q.i64(1), q.text(2))] = CheckState{
                 q.i64(0), status_from_code(static_cast<int>(q.i64(3))), q.i64(4), q.i64(5)};
           }) &&
      scan("SELECT sid, cid, metric, labels, unit FROM series",
           [&](Query& q) {
             cache_.series[series_key(q.i64(1), q.text(2), q.text(3))] = {q.i64(0), q.text(4)};
           }) &&
      scan("SELECT hid, lo, hi FROM agent_seqs",
           [&](Query& q) { cache_.seqs[q.i64(0)].add_range(q.i64(1), q.i64(2)); }) &&
      scan("SELECT level, rolled_to, partial_sid FROM rollup_state", [&](Query& q) {
        (q.text(0) == "hour" ? hour_ : day_) = LevelState{q.i64(1), q.i64(2)};
      });
  if (!ok) return writer_->error("cannot load the ingest caches");
  txn.commit();
  return true;
}

std::int64_t SqliteStore::size_bytes() {
  std::int64_t bytes = 0;
  auto conn = readers_.acquire();
  if (conn) {
    Query pc(*conn, "PRAGMA page_count");
    Query ps(*conn, "PRAGMA page_size");
    if (pc.row() && ps.row()) bytes = pc.i64(0) * ps.i64(0);
  }
  std::error_code ec;
  auto wal = std::filesystem::file_size(path_ + "-wal", ec);
  if (!ec) bytes += static_cast<std::int64_t>(wal);
  return bytes;
}

}  // namespace xj::detail
