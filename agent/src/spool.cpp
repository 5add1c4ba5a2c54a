#include "xj/agent/spool.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>

namespace xj {
namespace {

using StmtCache = std::map<const char*, sqlite3_stmt*>;

constexpr int kSchemaVersion = 2;

// SQLite's page cache for the spool, KiB. Its default (2000 KiB) fills up whenever the whole
// table is read (counting it at start-up, after a collector outage left it full) and stays in
// the heap: 2 MiB on a 10 MiB budget (docs/benchmarks.md). The agent touches a few pages per
// append, peek and ack; everything else comes from the kernel's page cache as fast.
constexpr int kPageCacheKiB = 256;

// A prepared statement: one of its own, finalized at the end of the scope, or one of the
// spool's kept statements (the ones every append, peek and ack runs), prepared once for the
// connection's life and only reset here. Parsing the SQL again on every append was a third of
// the agent's spool time (docs/benchmarks.md, "Agent footprint").
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  Stmt(sqlite3* db, const char* sql, StmtCache& kept) : owned_(false) {
    sqlite3_stmt*& s = kept[sql];
    rc_ = s != nullptr ? SQLITE_OK
                       : sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc_ != SQLITE_OK) {
      sqlite3_finalize(s);
      s = nullptr;
    }
    stmt_ = s;
  }
  ~Stmt() {
    if (owned_) {
      sqlite3_finalize(stmt_);
    } else if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  int prepare_rc() const { return rc_; }
  sqlite3_stmt* get() { return stmt_; }
  void bind(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  int step() { return sqlite3_step(stmt_); }
  std::int64_t i64(int col) { return sqlite3_column_int64(stmt_, col); }
  std::string text(int col) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : "";
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
  bool owned_ = true;
};

// Rolls back unless committed, so an error return never leaves a transaction open. BEGIN,
// COMMIT and ROLLBACK are kept statements too.
class Txn {
 public:
  Txn(sqlite3* db, StmtCache& kept) : db_(db), kept_(kept) { rc_ = run("BEGIN IMMEDIATE"); }
  ~Txn() {
    if (rc_ == SQLITE_OK && !done_) run("ROLLBACK");
  }
  bool ok() const { return rc_ == SQLITE_OK; }
  // On failure the destructor rolls back, after the caller has read the error message.
  bool commit() {
    done_ = run("COMMIT") == SQLITE_OK;
    return done_;
  }

 private:
  int run(const char* sql) {
    Stmt s(db_, sql, kept_);
    if (!s.ok()) return s.prepare_rc();
    const int rc = s.step();
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
  }
  sqlite3* db_;
  StmtCache& kept_;
  int rc_;
  bool done_ = false;
};

}  // namespace

Error Spool::db_error(const std::string& what) const {
  return make_error("spool " + path_.string() + ": " + what + ": " + sqlite3_errmsg(db_));
}

Expected<std::unique_ptr<Spool>> Spool::open(const std::filesystem::path& state_dir,
                                             SpoolOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec || !std::filesystem::is_directory(state_dir)) {
    return make_error("spool: cannot create state dir '" + state_dir.string() +
                      "': " + (ec ? ec.message() : "exists and is not a directory"));
  }
  auto path = state_dir / "spool.db";
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_error("spool " + path.string() + ": cannot open: " + msg);
  }
  std::unique_ptr<Spool> spool(new Spool(path, db, options));
  if (auto r = spool->init_schema(); !r) return Error{r.error()};
  if (auto r = spool->refresh_counters(); !r) return Error{r.error()};
  return spool;
}

Spool::Spool(std::filesystem::path path, sqlite3* db, SpoolOptions options)
    : path_(std::move(path)), db_(db), options_(options) {}

Spool::~Spool() {
  for (auto& [sql, stmt] : stmts_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Expected<bool> Spool::init_schema() {
  sqlite3_busy_timeout(db_, 5000);
  {
    // Also the first read of the file: a file that is not SQLite fails here.
    Stmt wal(db_, "PRAGMA journal_mode=WAL");
    if (!wal.ok() || wal.step() != SQLITE_ROW) return db_error("cannot switch to WAL mode");
    if (wal.text(0) != "wal") {
      return make_error("spool " + path_.string() + ": journal mode is '" + wal.text(0) +
                        "', not wal (is the file on a filesystem without shared memory?)");
    }
  }
  if (sqlite3_exec(db_, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return db_error("cannot set synchronous=FULL");
  }
  const std::string cache = "PRAGMA cache_size=-" + std::to_string(kPageCacheKiB);
  if (sqlite3_exec(db_, cache.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return db_error("cannot set cache_size");
  }
  if (options_.max_file_bytes > 0) {
    Stmt ps(db_, "PRAGMA page_size");
    if (!ps.ok() || ps.step() != SQLITE_ROW) return db_error("cannot read the page size");
    std::int64_t pages = static_cast<std::int64_t>(options_.max_file_bytes) / ps.i64(0);
    std::string sql = "PRAGMA max_page_count=" + std::to_string(std::max<std::int64_t>(pages, 1));
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      return db_error("cannot set max_page_count");
    }
  }
  Stmt uv(db_, "PRAGMA user_version");
  if (!uv.ok() || uv.step() != SQLITE_ROW) return db_error("cannot read the schema version");
  const std::int64_t version = uv.i64(0);
  if (version > kSchemaVersion) {
    return make_error("spool " + path_.string() + ": schema version " + std::to_string(version) +
                      " is newer than this agent understands (" + std::to_string(kSchemaVersion) +
                      "); run the newer agent or move the file aside");
  }
  if (version == kSchemaVersion) return true;
  const char* ddl =
      "BEGIN;"
      "CREATE TABLE IF NOT EXISTS results("
      "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"  // AUTOINCREMENT: never reused after deletes
      "  ts INTEGER NOT NULL,"
      "  check_id TEXT NOT NULL,"
      "  body TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS gaps("
      "  from_seq INTEGER PRIMARY KEY,"
      "  to_seq INTEGER NOT NULL,"
      "  count INTEGER NOT NULL,"
      "  from_ts INTEGER NOT NULL,"
      "  to_ts INTEGER NOT NULL);"
      // v2: results the collector refused one by one (400), kept for inspection, never shipped.
      "CREATE TABLE IF NOT EXISTS rejected("
      "  seq INTEGER PRIMARY KEY,"
      "  ts INTEGER NOT NULL,"
      "  check_id TEXT NOT NULL,"
      "  body TEXT NOT NULL,"
      "  reason TEXT NOT NULL,"
      "  rejected_ts INTEGER NOT NULL);"
      "PRAGMA user_version=2;"
      "COMMIT;";
  if (sqlite3_exec(db_, ddl, nullptr, nullptr, nullptr) != SQLITE_OK) {
    auto err = db_error("cannot create the tables");
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return err;
  }
  return true;
}

Expected<bool> Spool::refresh_counters() {
  Stmt q(db_,
         "SELECT count(*), coalesce(sum(length(body)), 0), coalesce(min(seq), 0),"
         " coalesce(max(seq), 0) FROM results");
  if (!q.ok() || q.step() != SQLITE_ROW) return db_error("cannot count results");
  rows_ = static_cast<std::uint64_t>(q.i64(0));
  bytes_ = static_cast<std::uint64_t>(q.i64(1));
  oldest_ = q.i64(2);
  newest_ = q.i64(3);
  return true;
}

// Oldest and newest seq by the primary key: cheap, unlike counting every row.
Expected<bool> Spool::refresh_ends() {
  Stmt q(db_, "SELECT coalesce(min(seq), 0), coalesce(max(seq), 0) FROM results", stmts_);
  if (!q.ok() || q.step() != SQLITE_ROW) return db_error("cannot read the oldest and newest seq");
  oldest_ = q.i64(0);
  newest_ = q.i64(1);
  return true;
}

Expected<std::int64_t> Spool::append(const Result& r) { return append_batch({r}); }

Expected<std::int64_t> Spool::append_batch(const std::vector<Result>& results) {
  std::lock_guard lock(mu_);
  if (results.empty()) return newest_;
  std::vector<const Result*> ptrs;
  for (const auto& r : results) ptrs.push_back(&r);
  int rc = SQLITE_OK;
  auto seq = insert_all(ptrs, rc);
  if (!seq && rc == SQLITE_FULL && rows_ > 0) {
    // Disk (or max_file_bytes) full: the same policy as the cap — the oldest go, not the new.
    if (auto d = drop_oldest(std::max<std::uint64_t>(1, rows_ / 10), "disk_full"); !d) {
      return Error{d.error()};
    }
    seq = insert_all(ptrs, rc);
  }
  if (!seq) return seq;
  if (auto c = enforce_cap(); !c) return Error{c.error()};
  return seq;
}

Expected<std::int64_t> Spool::insert_all(const std::vector<const Result*>& results, int& rc) {
  // The primary code is read before the rollback in ~Txn resets it.
  auto fail = [&](const std::string& what) {
    rc = sqlite3_errcode(db_);
    return db_error(what);
  };
  Txn txn(db_, stmts_);
  if (!txn.ok()) return fail("cannot begin a transaction");
  Stmt ins(db_, "INSERT INTO results(ts, check_id, body) VALUES(?, ?, ?)", stmts_);
  if (!ins.ok()) return fail("cannot prepare insert");
  std::uint64_t added_bytes = 0;
  std::int64_t first = 0, last = 0;
  for (const Result* r : results) {
    std::string body = to_json(*r).dump();
    sqlite3_reset(ins.get());
    ins.bind(1, r->ts_ms);
    ins.bind(2, r->check);
    ins.bind(3, body);
    if (ins.step() != SQLITE_DONE) return fail("cannot store the result of '" + r->check + "'");
    last = sqlite3_last_insert_rowid(db_);
    if (first == 0) first = last;
    added_bytes += body.size();
  }
  if (!txn.commit()) return fail("cannot commit results");
  rows_ += results.size();
  bytes_ += added_bytes;
  if (oldest_ == 0) oldest_ = first;
  newest_ = last;
  return last;
}

Expected<bool> Spool::enforce_cap() {
  if (rows_ <= options_.max_rows && bytes_ <= options_.max_bytes) return true;
  const std::uint64_t need_rows = rows_ > options_.max_rows ? rows_ - options_.max_rows : 0;
  const std::uint64_t need_bytes = bytes_ > options_.max_bytes ? bytes_ - options_.max_bytes : 0;
  std::uint64_t n = 0, freed = 0;
  {  // finished before the drop writes
    Stmt q(db_, "SELECT length(body) FROM results ORDER BY seq");
    if (!q.ok()) return db_error("cannot prepare cap query");
    // Keep at least the newest result, even if it alone is over max_bytes.
    while ((n < need_rows || freed < need_bytes) && n + 1 < rows_ && q.step() == SQLITE_ROW) {
      freed += static_cast<std::uint64_t>(q.i64(0));
      ++n;
    }
  }
  if (n == 0) return true;
  return drop_oldest(n, rows_ > options_.max_rows ? "max_rows" : "max_bytes");
}

Expected<bool> Spool::drop_oldest(std::uint64_t n, const char* reason) {
  Txn txn(db_, stmts_);
  if (!txn.ok()) return db_error("cannot begin a transaction");
  Stmt sel(db_,
           "SELECT min(seq), max(seq), count(*), min(ts), max(ts), sum(length(body)) FROM"
           " (SELECT seq, ts, body FROM results ORDER BY seq LIMIT ?)");
  if (!sel.ok()) return db_error("cannot prepare drop query");
  sel.bind(1, static_cast<std::int64_t>(n));
  if (sel.step() != SQLITE_ROW) return db_error("cannot select the oldest results");
  SpoolGap g{sel.i64(0), sel.i64(1), sel.i64(2), sel.i64(3), sel.i64(4)};
  const std::uint64_t freed = static_cast<std::uint64_t>(sel.i64(5));
  if (g.count == 0) return true;
  Stmt del(db_, "DELETE FROM results WHERE seq <= ?", stmts_);
  del.bind(1, g.to_seq);
  if (!del.ok() || del.step() != SQLITE_DONE) return db_error("cannot delete the oldest results");
  // Consecutive drops extend one gap: one record (and one warning) per episode.
  bool extended = false;
  Stmt last(db_, "SELECT from_seq, to_seq FROM gaps ORDER BY from_seq DESC LIMIT 1");
  if (last.ok() && last.step() == SQLITE_ROW && last.i64(1) + 1 == g.from_seq) {
    Stmt upd(db_, "UPDATE gaps SET to_seq = ?, count = count + ?, to_ts = ? WHERE from_seq = ?");
    upd.bind(1, g.to_seq);
    upd.bind(2, g.count);
    upd.bind(3, g.to_ts_ms);
    upd.bind(4, last.i64(0));
    if (!upd.ok() || upd.step() != SQLITE_DONE) return db_error("cannot record the gap");
    extended = true;
  } else {
    Stmt ins(db_, "INSERT INTO gaps(from_seq, to_seq, count, from_ts, to_ts) VALUES(?,?,?,?,?)");
    ins.bind(1, g.from_seq);
    ins.bind(2, g.to_seq);
    ins.bind(3, g.count);
    ins.bind(4, g.from_ts_ms);
    ins.bind(5, g.to_ts_ms);
    if (!ins.ok() || ins.step() != SQLITE_DONE) return db_error("cannot record the gap");
  }
  if (!txn.commit()) return db_error("cannot commit the drop of the oldest results");
  rows_ -= std::min(rows_, static_cast<std::uint64_t>(g.count));
  bytes_ -= std::min(bytes_, freed);
  dropped_ += static_cast<std::uint64_t>(g.count);
  if (auto c = refresh_ends(); !c) return c;
  if (!extended) {
    spdlog::warn(
        "event=spool_drop file={} reason={} dropped={} from_seq={} to_seq={} "
        "note=\"spool full: oldest results deleted before shipping\"",
        path_.string(), reason, g.count, g.from_seq, g.to_seq);
  } else {
    spdlog::debug("event=spool_drop file={} reason={} dropped={} to_seq={}", path_.string(), reason,
                  g.count, g.to_seq);
  }
  return true;
}

Expected<std::vector<SpoolEntry>> Spool::peek(std::size_t max_count, std::size_t max_bytes) const {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT seq, body FROM results ORDER BY seq LIMIT ?", stmts_);
  if (!q.ok()) return db_error("cannot prepare peek");
  q.bind(1, static_cast<std::int64_t>(max_count));
  std::vector<SpoolEntry> out;
  std::size_t total = 0;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    SpoolEntry r{q.i64(0), q.text(1)};
    if (!out.empty() && total + r.json.size() > max_bytes) break;
    total += r.json.size();
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_error("cannot read results");
  return out;
}

Expected<std::vector<SpoolGap>> Spool::gaps() const {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT from_seq, to_seq, count, from_ts, to_ts FROM gaps ORDER BY from_seq");
  if (!q.ok()) return db_error("cannot prepare gap query");
  std::vector<SpoolGap> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    out.push_back({q.i64(0), q.i64(1), q.i64(2), q.i64(3), q.i64(4)});
  }
  if (rc != SQLITE_DONE) return db_error("cannot read gaps");
  return out;
}

Expected<std::uint64_t> Spool::ack(std::int64_t upto_seq) {
  std::lock_guard lock(mu_);
  Txn txn(db_, stmts_);
  if (!txn.ok()) return db_error("cannot begin a transaction");
  Stmt sel(db_, "SELECT count(*), coalesce(sum(length(body)), 0) FROM results WHERE seq <= ?",
           stmts_);
  sel.bind(1, upto_seq);
  if (!sel.ok() || sel.step() != SQLITE_ROW) return db_error("cannot select acknowledged results");
  const auto deleted = static_cast<std::uint64_t>(sel.i64(0));
  const auto freed = static_cast<std::uint64_t>(sel.i64(1));
  Stmt del(db_, "DELETE FROM results WHERE seq <= ?", stmts_);
  del.bind(1, upto_seq);
  if (!del.ok() || del.step() != SQLITE_DONE) return db_error("cannot delete acknowledged results");
  Stmt gaps(db_, "DELETE FROM gaps WHERE to_seq <= ?", stmts_);
  gaps.bind(1, upto_seq);
  if (!gaps.ok() || gaps.step() != SQLITE_DONE) return db_error("cannot delete acknowledged gaps");
  if (!txn.commit()) return db_error("cannot commit the ack");
  rows_ -= std::min(rows_, deleted);
  bytes_ -= std::min(bytes_, freed);
  if (auto c = refresh_ends(); !c) return Error{c.error()};
  return deleted;
}

Expected<bool> Spool::quarantine(std::int64_t seq, const std::string& reason) {
  std::lock_guard lock(mu_);
  Txn txn(db_, stmts_);
  if (!txn.ok()) return db_error("cannot begin a transaction");
  Stmt sel(db_, "SELECT length(body) FROM results WHERE seq = ?");
  sel.bind(1, seq);
  if (!sel.ok()) return db_error("cannot find the rejected result");
  if (sel.step() != SQLITE_ROW) return false;
  const auto freed = static_cast<std::uint64_t>(sel.i64(0));
  Stmt ins(db_,
           "INSERT OR REPLACE INTO rejected(seq, ts, check_id, body, reason, rejected_ts) "
           "SELECT seq, ts, check_id, body, ?, ? FROM results WHERE seq = ?");
  ins.bind(1, reason);
  ins.bind(2, now_epoch_ms());
  ins.bind(3, seq);
  if (!ins.ok() || ins.step() != SQLITE_DONE) return db_error("cannot keep the rejected result");
  Stmt del(db_, "DELETE FROM results WHERE seq = ?");
  del.bind(1, seq);
  if (!del.ok() || del.step() != SQLITE_DONE) return db_error("cannot move the rejected result");
  if (!txn.commit()) return db_error("cannot commit the quarantine");
  rows_ -= std::min<std::uint64_t>(rows_, 1);
  bytes_ -= std::min(bytes_, freed);
  if (auto c = refresh_ends(); !c) return Error{c.error()};
  return true;
}

std::uint64_t Spool::rejected() const {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT count(*) FROM rejected", stmts_);
  return q.ok() && q.step() == SQLITE_ROW ? static_cast<std::uint64_t>(q.i64(0)) : 0;
}

std::uint64_t Spool::depth() const {
  std::lock_guard lock(mu_);
  return rows_;
}
std::uint64_t Spool::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}
std::int64_t Spool::oldest_seq() const {
  std::lock_guard lock(mu_);
  return oldest_;
}
std::int64_t Spool::newest_seq() const {
  std::lock_guard lock(mu_);
  return newest_;
}
std::uint64_t Spool::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}
std::uint64_t Spool::cache_bytes() const {
  std::lock_guard lock(mu_);
  int used = 0, highwater = 0;
  sqlite3_db_status(db_, SQLITE_DBSTATUS_CACHE_USED, &used, &highwater, 0);
  return static_cast<std::uint64_t>(used);
}

}  // namespace xj
