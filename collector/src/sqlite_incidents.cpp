#include "detail/sqlite_incidents.hpp"

namespace xj::detail {

using alerts::Incident;
using alerts::IncidentAlert;
using alerts::TimelineEntry;

namespace {

constexpr const char* kColumns =
    "id, title, level, state, source, host, system, opened, opened_by, acknowledged,"
    " acknowledged_by, resolved, resolved_by, closed, closed_by, respond_due, repair_due,"
    " respond_warned, repair_warned, respond_breached, repair_breached, description, impact,"
    " cause, handling";

Incident incident_row(const Query& q) {
  Incident i;
  i.id = q.i64(0);
  i.title = q.text(1);
  i.level = alerts::parse_incident_level(q.text(2)).value_or(alerts::IncidentLevel::kP4);
  i.state = alerts::parse_incident_state(q.text(3)).value_or(alerts::IncidentState::kOpen);
  i.source = q.text(4);
  i.host = q.text(5);
  i.system = q.text(6);
  i.opened_ms = q.i64(7);
  i.opened_by = q.text(8);
  i.acknowledged_ms = q.i64(9);
  i.acknowledged_by = q.text(10);
  i.resolved_ms = q.i64(11);
  i.resolved_by = q.text(12);
  i.closed_ms = q.i64(13);
  i.closed_by = q.text(14);
  i.respond_due_ms = q.i64(15);
  i.repair_due_ms = q.i64(16);
  i.respond_warned = q.i64(17) != 0;
  i.repair_warned = q.i64(18) != 0;
  i.respond_breached = q.i64(19) != 0;
  i.repair_breached = q.i64(20) != 0;
  i.description = q.text(21);
  i.impact = q.text(22);
  i.cause = q.text(23);
  i.handling = q.text(24);
  return i;
}

void read_links(SqliteConn& conn, Incident& i) {
  Query q(conn,
          "SELECT fingerprint, since, host, check_id, linked, resolved FROM incident_alerts"
          " WHERE incident = ? ORDER BY linked, fingerprint");
  q.bind(i.id);
  while (q.row()) {
    i.alerts.push_back(IncidentAlert{q.text(0), q.i64(1), q.text(2), q.text(3), q.i64(4), q.i64(5)});
  }
}

}  // namespace

Expected<bool> write_incident_changes(SqliteConn& conn, const alerts::IncidentChanges& changes) {
  for (const auto& i : changes.incidents) {
    Query up(conn,
             "INSERT INTO incidents(id, title, level, state, source, host, system, opened, opened_by,"
             " acknowledged, acknowledged_by, resolved, resolved_by, closed, closed_by, respond_due,"
             " repair_due, respond_warned, repair_warned, respond_breached, repair_breached,"
             " description, impact, cause, handling, updated)"
             " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET"
             " title=excluded.title, level=excluded.level, state=excluded.state,"
             " acknowledged=excluded.acknowledged, acknowledged_by=excluded.acknowledged_by,"
             " resolved=excluded.resolved, resolved_by=excluded.resolved_by, closed=excluded.closed,"
             " closed_by=excluded.closed_by, respond_due=excluded.respond_due,"
             " repair_due=excluded.repair_due, respond_warned=excluded.respond_warned,"
             " repair_warned=excluded.repair_warned, respond_breached=excluded.respond_breached,"
             " repair_breached=excluded.repair_breached, description=excluded.description,"
             " impact=excluded.impact, cause=excluded.cause, handling=excluded.handling,"
             " updated=excluded.updated");
    up.bind(i.id, i.title, std::string(alerts::to_string(i.level)), std::string(alerts::to_string(i.state)),
            i.source, i.host, i.system, i.opened_ms, i.opened_by, i.acknowledged_ms, i.acknowledged_by,
            i.resolved_ms, i.resolved_by, i.closed_ms, i.closed_by, i.respond_due_ms, i.repair_due_ms,
            i.respond_warned ? 1 : 0, i.repair_warned ? 1 : 0, i.respond_breached ? 1 : 0,
            i.repair_breached ? 1 : 0, i.description, i.impact, i.cause, i.handling, now_epoch_ms());
    if (!up.done()) return conn.error("cannot store incident " + alerts::incident_number(i.id));
    for (const auto& l : i.alerts) {
      Query link(conn,
                 "INSERT INTO incident_alerts(incident, fingerprint, since, host, check_id, linked, resolved)"
                 " VALUES(?,?,?,?,?,?,?) ON CONFLICT(incident, fingerprint, since) DO UPDATE SET"
                 " resolved=excluded.resolved");
      link.bind(i.id, l.fingerprint, l.since_ms, l.host, l.check, l.linked_ms, l.resolved_ms);
      if (!link.done()) return conn.error("cannot link an alert to incident " + alerts::incident_number(i.id));
    }
  }
  for (const auto& e : changes.timeline) {
    Query t(conn, "INSERT INTO incident_timeline(incident, ts, kind, actor, text) VALUES(?,?,?,?,?)");
    t.bind(e.incident, e.ts_ms, e.kind, e.actor, e.text);
    if (!t.done()) return conn.error("cannot append to the timeline of " + alerts::incident_number(e.incident));
  }
  return true;
}

std::vector<Incident> read_incidents(SqliteConn& conn, const alerts::IncidentFilter& f) {
  static const std::string sql = std::string("SELECT ") + kColumns +
                                 " FROM incidents WHERE (?1 = '' OR state = ?1)"
                                 " AND (?2 = 0 OR state IN ('open', 'acknowledged'))"
                                 " AND (?3 = '' OR host = ?3) AND (?4 = 0 OR opened >= ?4)"
                                 " AND (?5 = 0 OR opened < ?5) ORDER BY id DESC LIMIT ?6";
  std::vector<Incident> out;
  {
    Query q(conn, sql.c_str());  // a static string: one address, one cached statement
    q.bind(f.state ? std::string(alerts::to_string(*f.state)) : std::string(), f.active_only ? 1 : 0, f.host,
           f.from_ms, f.to_ms, static_cast<std::int64_t>(f.limit));
    while (q.row()) out.push_back(incident_row(q));
  }
  for (auto& i : out) read_links(conn, i);
  return out;
}

std::optional<Incident> read_incident(SqliteConn& conn, std::int64_t id) {
  static const std::string sql = std::string("SELECT ") + kColumns + " FROM incidents WHERE id = ?";
  std::optional<Incident> out;
  {
    Query q(conn, sql.c_str());
    q.bind(id);
    if (q.row()) out = incident_row(q);
  }
  if (out) read_links(conn, *out);
  return out;
}

std::vector<TimelineEntry> read_timeline(SqliteConn& conn, std::int64_t incident_id) {
  Query q(conn, "SELECT id, incident, ts, kind, actor, text FROM incident_timeline WHERE incident = ? ORDER BY id");
  q.bind(incident_id);
  std::vector<TimelineEntry> out;
  while (q.row()) out.push_back(TimelineEntry{q.i64(0), q.i64(1), q.i64(2), q.text(3), q.text(4), q.text(5)});
  return out;
}

std::int64_t read_max_incident_id(SqliteConn& conn) {
  Query q(conn, "SELECT coalesce(max(id), 0) FROM incidents");
  return q.row() ? q.i64(0) : 0;
}

}  // namespace xj::detail
