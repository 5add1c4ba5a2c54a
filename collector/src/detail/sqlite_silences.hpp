// Silences and maintenance windows in the collector's SQLite file (migration "silences"), and
// the suppressed outbox rows they leave (status 3).
#pragma once

#include "sqlite_conn.hpp"
#include "xj/alerts/silence.hpp"

namespace xj::detail {

Expected<std::int64_t> insert_silence(SqliteConn& conn, const alerts::Silence& s);
Expected<bool> mark_silence_ended(SqliteConn& conn, std::int64_t id, std::int64_t at_ms);
std::vector<alerts::Silence> read_silences(SqliteConn& conn);
std::vector<std::pair<std::string, std::int64_t>> read_suppressed_firing(SqliteConn& conn);
Expected<bool> release_suppressed(SqliteConn& conn, const std::string& fingerprint, std::int64_t since_ms,
                                  std::int64_t now_ms);

}  // namespace xj::detail
