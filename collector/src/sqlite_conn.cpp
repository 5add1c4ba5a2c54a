#include "detail/sqlite_conn.hpp"

#include <spdlog/spdlog.h>

namespace xj::detail {

Expected<std::unique_ptr<SqliteConn>> SqliteConn::open(const std::string& path, bool reader,
                                                       bool durable) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_error("collector store " + path + ": cannot open: " + msg);
  }
  std::unique_ptr<SqliteConn> conn(new SqliteConn(path, db));
  sqlite3_busy_timeout(db, 5000);
  sqlite3_extended_result_codes(db, 1);
  if (reader) {
    if (!conn->exec("PRAGMA query_only=1") || !conn->exec("PRAGMA cache_size=-8192")) {
      return conn->error("cannot configure a read connection");
    }
    return conn;
  }
  {
    // Also the first read of the file: a file that is not SQLite fails here.
    Query wal(*conn, "PRAGMA journal_mode=WAL");
    if (!wal.ok() || !wal.row()) return conn->error("cannot switch to WAL mode");
    if (wal.text(0) != "wal") {
      return make_error("collector store " + path + ": journal mode is '" + wal.text(0) +
                        "', not wal (is the file on a filesystem without shared memory?)");
    }
  }
  // The writer's cache holds the hot pages of every table's tail; 64 MiB is plenty for tens
  // of thousands of series. foreign_keys guards the low-volume tables that declare them.
  const char* pragmas = durable ? "PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;"
                                  " PRAGMA foreign_keys=ON; PRAGMA journal_size_limit=67108864"
                                : "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
                                  " PRAGMA foreign_keys=ON; PRAGMA journal_size_limit=67108864";
  if (!conn->exec(pragmas)) return conn->error("cannot configure the write connection");
  return conn;
}

SqliteConn::~SqliteConn() {
  for (auto& [sql, stmt] : stmts_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

sqlite3_stmt* SqliteConn::prepare(const char* sql) {
  auto it = stmts_.find(sql);
  if (it != stmts_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    spdlog::error("event=store_prepare_failed file={} error=\"{}\" sql=\"{}\"", path_,
                  sqlite3_errmsg(db_), sql);
    return nullptr;
  }
  stmts_.emplace(sql, stmt);
  return stmt;
}

bool SqliteConn::exec(const char* sql) {
  return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
}

Error SqliteConn::error(std::string_view what) const {
  return make_error("collector store " + path_ + ": " + std::string(what) + ": " +
                    sqlite3_errmsg(db_));
}

ReaderPool::Lease ReaderPool::acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
  }
  auto conn = SqliteConn::open(path_, /*reader=*/true, /*durable=*/true);
  if (!conn) {
    spdlog::error("event=store_reader_failed error=\"{}\"", conn.error());
    return Lease(this, nullptr);
  }
  return Lease(this, std::move(conn).value());
}

void ReaderPool::give_back(std::unique_ptr<SqliteConn> conn) {
  std::lock_guard lock(mu_);
  // Beyond a handful of idle connections the extra ones only hold file descriptors.
  if (idle_.size() < 8) idle_.push_back(std::move(conn));
}

}  // namespace xj::detail
