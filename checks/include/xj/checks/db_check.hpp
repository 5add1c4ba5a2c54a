// Pieces every database check (postgres, mysql, odbc) shares: result sets as text, the named
// SQL statements of a dialect (built in from checks/sql/, overridable per site), custom
// `queries:` turned into metrics, passwords from a file or the environment, and counters
// remembered between runs. All pure or file-only, so they are tested without a server.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xj/checks/result.hpp"
#include "xj/checks/spec.hpp"
#include "xj/common/expected.hpp"

namespace xj {

// One result set as every driver can give it: column names and rows of nullable text.
struct SqlTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;

  // Index of a column, compared ignoring ASCII case (drivers differ in case); -1 when absent.
  int column(std::string_view name) const;
  // Value of a named column in a row; nullopt when NULL or the column is absent.
  std::optional<std::string> text(std::size_t row, std::string_view name) const;
  // Value as a number ("t"/"f", "true"/"false", "YES"/"NO", "ON"/"OFF" read as 1/0).
  std::optional<double> number(std::size_t row, std::string_view name) const;
};

// Rows of a check's built-in statements in one run, by statement name. A statement that did
// not run (replication on a standby, say) is absent.
using SqlSnapshot = std::map<std::string, SqlTable>;

// A number in SQL text output: decimal, exponent, booleans as above. nullopt otherwise.
std::optional<double> parse_sql_number(std::string_view text);

// The statements of one dialect file. Each statement starts at a line "-- name: <name>"
// (names are [a-z0-9_]); text before the first such line is a header comment. Trailing
// whitespace and one trailing ';' are removed, because several ODBC drivers (Oracle's among
// them) reject a statement ending in ';'. Errors give the line number.
using SqlStatements = std::map<std::string, std::string>;
Expected<SqlStatements> parse_sql_statements(std::string_view text);

// The text of checks/sql/<dialect>.sql as compiled into the binary; empty when unknown.
std::string_view builtin_sql_file(std::string_view dialect);

// The statements of a dialect: the built-in ones, where <override_dir>/<dialect>.sql (when
// override_dir is given and the file exists) replaces those of the same name. A name in the
// override file that the dialect does not have is an error, since nothing would run it.
Expected<SqlStatements> load_dialect_sql(const std::string& dialect,
                                         const std::filesystem::path& override_dir);

// A site's own query from `queries:` with thresholds from `query_warn` / `query_crit`.
struct CustomQuery {
  std::string name;
  std::string sql;
  std::optional<Range> warn, crit;
};

// Rows of a custom query as metrics. Two shapes: rows of (name text, value number) give one
// metric `<query>` per row labelled name=<first column>; otherwise exactly one row whose
// columns are all numbers gives `<query>` (one column) or `<query>_<column>` (several).
// NULL values are skipped. Error says what was wrong with the shape.
Expected<std::vector<Metric>> custom_query_metrics(const CustomQuery& q, const SqlTable& t);

// Password from a file (first line, trailing CR/LF removed) or else an environment variable;
// empty when neither is configured. Errors name the file or variable, never the value.
Expected<std::string> read_password(const std::string& file, const std::string& env_name);

// Remembers counters between runs to report "since the previous run". A counter that went
// down (statistics reset, server restart) has no delta this time and starts again.
class CounterMemory {
 public:
  std::optional<double> delta(const std::string& key, double value);
  void forget_missing(const std::vector<std::string>& present);  // dropped databases
 private:
  std::map<std::string, double> last_;
};

// Keys every database check has: password_file, password_env, connect_timeout, queries,
// query_warn, query_crit, sql_dir.
std::vector<KeySpec> db_common_keys();
// Reads the custom queries (queries, query_warn, query_crit) of a check's config;
// throws ConfigError for a threshold without a query or one that does not parse.
std::vector<CustomQuery> load_custom_queries(const CheckOptions& o);

// "warning: connections_pct=85% (warn ~:80); ..." for every metric not ok, worst first;
// empty when all are ok.
std::string describe_alerts(const std::vector<Metric>& metrics);

// Rounds for display and for stable metric values.
double round_to(double v, int decimals);

}  // namespace xj
