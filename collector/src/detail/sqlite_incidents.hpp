// Incident rows in the collector's SQLite file (migration "incidents"): written inside the
// alert store's transaction, read by the API and the fault report.
#pragma once

#include "sqlite_conn.hpp"
#include "xj/alerts/alert_store.hpp"

namespace xj::detail {

// Inside the caller's open transaction.
Expected<bool> write_incident_changes(SqliteConn& conn, const alerts::IncidentChanges& changes);

std::vector<alerts::Incident> read_incidents(SqliteConn& conn, const alerts::IncidentFilter& filter);
std::optional<alerts::Incident> read_incident(SqliteConn& conn, std::int64_t id);
std::vector<alerts::TimelineEntry> read_timeline(SqliteConn& conn, std::int64_t incident_id);
std::int64_t read_max_incident_id(SqliteConn& conn);

}  // namespace xj::detail
