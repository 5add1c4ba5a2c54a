// A libpq connection driven without blocking, so every step stops at a deadline: the connect
// (PQconnectStartParams/PQconnectPoll) and each statement (PQsendQuery, cancelled at the
// deadline). libpq itself is loaded at the first use (libpq_api.hpp). Private to checks/.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "xj/checks/db_check.hpp"

struct pg_conn;

namespace xj {

struct LibPq;

class PgConnection {
 public:
  using Clock = std::chrono::steady_clock;

  // Connects with a libpq conninfo string or URI; password overrides one in dsn when not
  // empty. Error: the cause as one phrase ("connection refused at 127.0.0.1:5432",
  // "connect to 127.0.0.1:5432 timed out after 5s", "libpq.so.5 cannot be loaded (install
  // the Debian package libpq5): ...").
  static Expected<PgConnection> open(const std::string& dsn, const std::string& password,
                                     Clock::time_point deadline);

  // Runs one statement and returns its rows as text. On the deadline the statement is
  // cancelled on the server and the error says it timed out.
  Expected<SqlTable> query(const std::string& sql, Clock::time_point deadline);

  // "host:port" (or "socket dir:port") the dsn points at, for messages and the default id.
  // Read by libpq; without libpq by target_without_libpq below.
  static std::string target_of(const std::string& dsn);
  // Empty when libpq accepts dsn, else its complaint. Empty too when libpq cannot be loaded:
  // the check then reports the missing library on every run.
  static std::string dsn_error(const std::string& dsn);

 private:
  struct Closer {
    const LibPq* pq;
    void operator()(pg_conn* c) const;
  };
  PgConnection(const LibPq& pq, pg_conn* c) : pq_(&pq), conn_(c, Closer{&pq}) {}
  const LibPq* pq_;
  std::unique_ptr<pg_conn, Closer> conn_;
};

// The host and port of a conninfo string (`host=... port=...`, quotes and backslashes as
// libpq reads them) or URI (`postgresql://user@host:port/db`), for when libpq is not
// installed: the check's default id should not change when it is installed later. Values
// are returned as libpq's parser gives them (a host list stays a list, URI parts are
// %-decoded); the defaults are those of Debian's libpq (/var/run/postgresql, 5432).
std::string target_without_libpq(const std::string& dsn);

}  // namespace xj
