// A libpq connection driven without blocking, so every step stops at a deadline: the connect
// (PQconnectStartParams/PQconnectPoll) and each statement (PQsendQuery, cancelled at the
// deadline). Private to checks/.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "xj/checks/db_check.hpp"

struct pg_conn;

namespace xj {

class PgConnection {
 public:
  using Clock = std::chrono::steady_clock;

  // Connects with a libpq conninfo string or URI; password overrides one in dsn when not
  // empty. Error: the cause as one phrase ("connection refused at 127.0.0.1:5432",
  // "connect to 127.0.0.1:5432 timed out after 5s").
  static Expected<PgConnection> open(const std::string& dsn, const std::string& password,
                                     Clock::time_point deadline);

  // Runs one statement and returns its rows as text. On the deadline the statement is
  // cancelled on the server and the error says it timed out.
  Expected<SqlTable> query(const std::string& sql, Clock::time_point deadline);

  // "host:port" (or "socket dir:port") the dsn points at, for messages and the default id.
  static std::string target_of(const std::string& dsn);
  // Empty when libpq accepts dsn, else its complaint.
  static std::string dsn_error(const std::string& dsn);

 private:
  struct Closer {
    void operator()(pg_conn* c) const;
  };
  explicit PgConnection(pg_conn* c) : conn_(c) {}
  std::unique_ptr<pg_conn, Closer> conn_;
};

}  // namespace xj
