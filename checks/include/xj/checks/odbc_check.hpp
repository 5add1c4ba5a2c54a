// `odbc`: any database with an ODBC driver, through unixODBC. A `dialect` picks built-in
// statements: `generic` (connect and custom queries only), `kingbase` (kingbase.sql, the
// postgres metrics), `dm` (dm.sql) and `oracle` (oracle.sql), the last two sharing one
// evaluation of instance state, sessions and tablespace usage. Pure parts here for tests.
#pragma once

#include <optional>
#include <string>

#include "xj/checks/db_check.hpp"

namespace xj {

struct InstanceThresholds {
  std::optional<Range> sessions_warn, sessions_crit;      // % of the session limit
  std::optional<Range> tablespace_warn, tablespace_crit;  // % used of what it may grow to
};

// Rows of the dm / oracle statements (instance, sessions, tablespaces) -> metrics, status and
// summary; product is "DM" or "Oracle" for the summary. Error names a missing column.
Expected<bool> evaluate_instance_dialect(const SqlSnapshot& s, const InstanceThresholds& t,
                                         const std::string& product, Result& r);

// The connection string the driver manager gets: `DSN=<dsn>;` when a DSN is named, then
// connection_string, then UID / PWD when given. Values are braced when they hold ; { } or
// spaces at the ends, with } doubled, as the ODBC grammar wants.
std::string odbc_connection_string(const std::string& dsn, const std::string& connection_string,
                                   const std::string& user, const std::string& password);

// What a connection string points at, for messages and the default id: the DSN, else the
// SERVER / HOST / SERVERNAME value (with PORT when there is one), else "odbc". Never the
// password.
std::string odbc_target(const std::string& dsn, const std::string& connection_string);

}  // namespace xj
