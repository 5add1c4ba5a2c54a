// Thin RAII over the SQLite C API for the collector store: a connection with a cache of
// prepared statements, a statement in use (bind/step/reset), transactions that roll back
// unless committed, and a pool of read connections.
#pragma once

#include <sqlite3.h>

#include <concepts>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "xj/common/expected.hpp"

namespace xj::detail {

class SqliteConn {
 public:
  // `reader`: query_only, a smaller page cache. Errors name the file and the cause.
  static Expected<std::unique_ptr<SqliteConn>> open(const std::string& path, bool reader,
                                                    bool durable);
  ~SqliteConn();
  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;

  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }
  // Prepared once per connection and kept: every caller passes a string literal, so its
  // address is the key. nullptr on a syntax error (see error()).
  sqlite3_stmt* prepare(const char* sql);
  bool exec(const char* sql);
  // "collector store <path>: <what>: <sqlite's message>".
  Error error(std::string_view what) const;

 private:
  SqliteConn(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  std::string path_;
  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> stmts_;
};

// A cached statement for one use: bind, step, read columns; reset when it goes out of scope.
class Query {
 public:
  Query(SqliteConn& conn, const char* sql) : stmt_(conn.prepare(sql)) {}
  ~Query() {
    if (stmt_ != nullptr) sqlite3_reset(stmt_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  template <typename... A>
  Query& bind(const A&... args) {
    int i = 1;
    (bind_one(i++, args), ...);
    return *this;
  }
  // For a large text that outlives the step (a result body): no copy.
  Query& bind_static(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  int step() { return stmt_ != nullptr ? sqlite3_step(stmt_) : SQLITE_ERROR; }
  bool row() { return step() == SQLITE_ROW; }
  bool done() { return step() == SQLITE_DONE; }
  void reset() { sqlite3_reset(stmt_); }

  std::int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
  double f64(int col) const { return sqlite3_column_double(stmt_, col); }
  bool null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p != nullptr ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
                        : std::string();
  }

 private:
  template <std::integral T>
  void bind_one(int i, T v) {
    sqlite3_bind_int64(stmt_, i, static_cast<sqlite3_int64>(v));
  }
  void bind_one(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  void bind_one(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind_one(int i, const std::string& v) { bind_one(i, std::string_view(v)); }
  void bind_one(int i, const char* v) { bind_one(i, std::string_view(v)); }
  void bind_one(int i, std::nullptr_t) { sqlite3_bind_null(stmt_, i); }

  sqlite3_stmt* stmt_;
};

// BEGIN ... COMMIT; rolls back in the destructor unless committed.
class Txn {
 public:
  Txn(SqliteConn& conn, const char* begin) : conn_(conn) { ok_ = conn_.exec(begin); }
  ~Txn() {
    if (ok_ && !done_) conn_.exec("ROLLBACK");
  }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  bool ok() const { return ok_; }
  bool commit() {
    done_ = conn_.exec("COMMIT");
    return done_;
  }

 private:
  SqliteConn& conn_;
  bool ok_ = false;
  bool done_ = false;
};

// Read connections, one per concurrent reader, kept for reuse. WAL lets each see the last
// committed state while the writer works.
class ReaderPool {
 public:
  class Lease {
   public:
    Lease(ReaderPool* pool, std::unique_ptr<SqliteConn> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    ~Lease() {
      if (conn_) pool_->give_back(std::move(conn_));
    }
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    explicit operator bool() const { return conn_ != nullptr; }
    SqliteConn& operator*() { return *conn_; }
    SqliteConn* operator->() { return conn_.get(); }

   private:
    ReaderPool* pool_;
    std::unique_ptr<SqliteConn> conn_;
  };

  explicit ReaderPool(std::string path) : path_(std::move(path)) {}
  // An empty lease when a connection cannot be opened (logged).
  Lease acquire();

 private:
  void give_back(std::unique_ptr<SqliteConn> conn);
  std::string path_;
  std::mutex mu_;
  std::vector<std::unique_ptr<SqliteConn>> idle_;
};

}  // namespace xj::detail
