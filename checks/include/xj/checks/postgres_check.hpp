// `postgres`: PostgreSQL (and KingbaseES with `dialect: kingbase`) through libpq, reading
// the server's statistics views with the statements of checks/sql/postgres.sql. The turning
// of rows into metrics is a pure function over the rows, tested on fixtures; the libpq I/O
// lives in the check's run().
#pragma once

#include <map>
#include <optional>
#include <string>

#include "xj/checks/db_check.hpp"

namespace xj {

struct PgThresholds {
  std::optional<Range> connections_warn, connections_crit;  // % of max_connections
  std::optional<Range> cache_hit_warn, cache_hit_crit;      // %, lower is worse
  std::optional<Range> long_query_warn, long_query_crit;    // seconds
  std::optional<Range> lag_warn, lag_crit;                  // seconds
  std::optional<Range> lag_bytes_warn, lag_bytes_crit;
  std::optional<Range> idle_in_transaction_warn, idle_in_transaction_crit;
  std::optional<Range> waiting_locks_warn, waiting_locks_crit;
  std::optional<Range> deadlocks_warn, deadlocks_crit;      // since the previous run
  std::optional<Range> xid_age_warn, xid_age_crit;
};

// The threshold keys of the postgres statements (also the odbc check's with dialect
// kingbase) and reading them from a check's config.
std::vector<KeySpec> postgres_threshold_keys();
PgThresholds load_pg_thresholds(const CheckOptions& o);

// What the check remembers between runs: counters for "since the previous run".
struct PgHistory {
  CounterMemory counters;
};

// Appends the metrics and details of one run's rows to r (which may already hold connect
// metrics) and sets its status and summary. Error when a statement's rows lack a column
// the check needs (a site's adjusted statement renamed it, say).
Expected<bool> evaluate_postgres(const SqlSnapshot& s, const PgThresholds& t, PgHistory& h,
                                 Result& r);

// libpq's multi-line connection error as one phrase: `connection to server at "127.0.0.1",
// port 5432 failed: Connection refused` + hint lines -> "connection refused at 127.0.0.1:5432".
std::string condense_pg_error(const std::string& libpq_message);

}  // namespace xj
