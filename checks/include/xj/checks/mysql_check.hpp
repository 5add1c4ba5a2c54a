// `mysql`: MySQL 5.7/8 and MariaDB through MariaDB Connector/C, with the statements of
// checks/sql/mysql.sql. Rows -> metrics is a pure function tested on fixtures; the client
// library I/O is in the check's run().
#pragma once

#include <optional>
#include <string>

#include "xj/checks/db_check.hpp"

namespace xj {

struct MysqlThresholds {
  std::optional<Range> connections_warn, connections_crit;  // % of max_connections
  std::optional<Range> cache_hit_warn, cache_hit_crit;      // InnoDB buffer pool, %, lower is worse
  std::optional<Range> long_query_warn, long_query_crit;    // seconds
  std::optional<Range> lag_warn, lag_crit;                  // seconds behind the source
  std::optional<Range> threads_running_warn, threads_running_crit;
  std::optional<Range> slow_queries_warn, slow_queries_crit;  // since the previous run
  std::optional<Range> aborted_connects_warn, aborted_connects_crit;
};

// Appends the metrics and details of one run's rows to r and sets its status and summary.
// "replica" holds the rows of SHOW REPLICA/SLAVE STATUS (none when not a replica).
Expected<bool> evaluate_mysql(const SqlSnapshot& s, const MysqlThresholds& t, CounterMemory& h,
                              Result& r);

// The client library's error as one phrase naming the address: (2003, "Can't connect to server
// on '127.0.0.1' (111)", "127.0.0.1:3306") -> "connection refused at 127.0.0.1:3306".
std::string condense_mysql_error(unsigned code, const std::string& message,
                                 const std::string& target);

}  // namespace xj
