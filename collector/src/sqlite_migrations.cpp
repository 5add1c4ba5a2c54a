#include "detail/sqlite_migrations.hpp"

namespace xj::detail {
namespace {

// Version 1. Layout notes for readers of the file (reports read the rollup and status tables):
// - Times are UTC epoch ms. Hourly buckets start at UTC hours; daily buckets at local
//   midnight of meta.timezone (as UTC ms).
// - The high-volume tables (results, samples) declare no foreign keys: checking them would
//   cost a lookup per row; ingest writes them only with ids it just resolved.
// - samples is keyed by the minute (slot = ts / 60000) first: what arrives together is
//   stored together (each commit touches a few pages at the tail instead of one page per
//   series), retention drops whole minutes from the front, and rolling up an hour reads one
//   contiguous range. A series' raw points are read with one seek per minute.
// - rollup_state: buckets before rolled_to are rolled up; the bucket starting at rolled_to is
//   rolled up for series ids below partial_sid; everything later is computed from samples.
// - status_hourly / status_daily: milliseconds spent in each status per check and bucket; the
//   time between two results counts as the earlier result's status (capped).
const char* const kV1 = R"sql(
CREATE TABLE meta(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE hosts(
  hid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  hostname TEXT NOT NULL,
  version TEXT NOT NULL,
  labels TEXT NOT NULL,            -- JSON object
  first_seen INTEGER NOT NULL,
  last_contact INTEGER NOT NULL    -- 0: never (only collector-made results so far)
);

CREATE TABLE checks(
  cid INTEGER PRIMARY KEY,
  hid INTEGER NOT NULL REFERENCES hosts(hid),
  check_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  status INTEGER NOT NULL,         -- 0 ok, 1 warning, 2 critical, 3 unknown
  summary TEXT NOT NULL,
  since INTEGER NOT NULL,          -- when the current status began
  last_ts INTEGER NOT NULL,        -- the newest result applied
  metrics TEXT NOT NULL,           -- JSON array: the newest result's metrics
  UNIQUE(hid, check_id)
);

-- Which (agent, seq) are stored: disjoint closed ranges per host, so dedupe outlives the
-- raw results and costs a few rows per agent instead of an index entry per result.
CREATE TABLE agent_seqs(
  hid INTEGER NOT NULL,
  lo INTEGER NOT NULL,
  hi INTEGER NOT NULL,
  PRIMARY KEY(hid, lo)
) WITHOUT ROWID;

CREATE TABLE results(
  rid INTEGER PRIMARY KEY,
  hid INTEGER NOT NULL,
  cid INTEGER NOT NULL,
  seq INTEGER NOT NULL,            -- 0: collector-made
  ts INTEGER NOT NULL,
  received INTEGER NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL               -- the result's wire JSON
);

CREATE TABLE series(
  sid INTEGER PRIMARY KEY,
  cid INTEGER NOT NULL REFERENCES checks(cid),
  metric TEXT NOT NULL,
  labels TEXT NOT NULL,            -- canonical JSON object (keys sorted)
  unit TEXT NOT NULL,
  UNIQUE(cid, metric, labels)
);

CREATE TABLE samples(
  slot INTEGER NOT NULL,           -- ts / 60000
  sid INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  rid INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY(slot, sid, ts, rid)
) WITHOUT ROWID;

CREATE TABLE rollup_hourly(
  bucket INTEGER NOT NULL,
  sid INTEGER NOT NULL,
  min REAL NOT NULL,
  max REAL NOT NULL,
  sum REAL NOT NULL,
  count INTEGER NOT NULL,
  last REAL NOT NULL,
  last_ts INTEGER NOT NULL,
  PRIMARY KEY(bucket, sid)
) WITHOUT ROWID;
CREATE INDEX rollup_hourly_by_series ON rollup_hourly(sid, bucket);

CREATE TABLE rollup_daily(
  bucket INTEGER NOT NULL,
  sid INTEGER NOT NULL,
  min REAL NOT NULL,
  max REAL NOT NULL,
  sum REAL NOT NULL,
  count INTEGER NOT NULL,
  last REAL NOT NULL,
  last_ts INTEGER NOT NULL,
  PRIMARY KEY(bucket, sid)
) WITHOUT ROWID;
CREATE INDEX rollup_daily_by_series ON rollup_daily(sid, bucket);

CREATE TABLE rollup_state(
  level TEXT PRIMARY KEY,          -- 'hour', 'day'
  rolled_to INTEGER NOT NULL,
  partial_sid INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE status_hourly(
  bucket INTEGER NOT NULL,
  cid INTEGER NOT NULL,
  ok_ms INTEGER NOT NULL,
  warning_ms INTEGER NOT NULL,
  critical_ms INTEGER NOT NULL,
  unknown_ms INTEGER NOT NULL,
  PRIMARY KEY(bucket, cid)
) WITHOUT ROWID;
CREATE INDEX status_hourly_by_check ON status_hourly(cid, bucket);

CREATE TABLE status_daily(
  bucket INTEGER NOT NULL,
  cid INTEGER NOT NULL,
  ok_ms INTEGER NOT NULL,
  warning_ms INTEGER NOT NULL,
  critical_ms INTEGER NOT NULL,
  unknown_ms INTEGER NOT NULL,
  PRIMARY KEY(bucket, cid)
) WITHOUT ROWID;
CREATE INDEX status_daily_by_check ON status_daily(cid, bucket);

CREATE TABLE status_changes(
  id INTEGER PRIMARY KEY,
  cid INTEGER NOT NULL REFERENCES checks(cid),
  ts INTEGER NOT NULL,
  from_status INTEGER,             -- NULL: the check's first result
  to_status INTEGER NOT NULL,
  summary TEXT NOT NULL
);
CREATE INDEX status_changes_by_check ON status_changes(cid, ts);
CREATE INDEX status_changes_by_ts ON status_changes(ts);

CREATE TABLE gaps(
  hid INTEGER NOT NULL REFERENCES hosts(hid),
  from_seq INTEGER NOT NULL,
  to_seq INTEGER NOT NULL,
  count INTEGER NOT NULL,
  from_ts INTEGER NOT NULL,
  to_ts INTEGER NOT NULL,
  received INTEGER NOT NULL,
  PRIMARY KEY(hid, from_seq)
) WITHOUT ROWID;

CREATE TABLE tokens(
  id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: audit entries name tokens by id
  name TEXT NOT NULL,
  role TEXT,                             -- NULL: agent token
  hash TEXT NOT NULL UNIQUE,             -- lower-case hex SHA-256 of the token
  created INTEGER NOT NULL,
  last_used INTEGER NOT NULL DEFAULT 0,
  revoked INTEGER NOT NULL DEFAULT 0,
  revoked_at INTEGER
);

CREATE TABLE audit(
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
)sql";

// Version 2: alerts and the persistent outbox (alerts/ declares AlertStore; sqlite_alert_store.cpp
// implements it).
// - alerts: the current state per fingerprint (one row per alert identity; a new episode of the
//   same problem overwrites a resolved row). alert_history keeps every state change for reports.
// - outbox: one row per message part; idem_key is (alert, transition, channel, recipient, part)
//   and UNIQUE, so a state change replayed after a crash can never enqueue a message twice.
//   status 0 pending, 1 delivered, 2 failed (gave up). A channel delivers in id order.
const char* const kV2 = R"sql(
CREATE TABLE alerts(
  fingerprint TEXT PRIMARY KEY,
  rule TEXT NOT NULL,
  kind TEXT NOT NULL,
  host TEXT NOT NULL,
  check_id TEXT NOT NULL,
  labels TEXT NOT NULL,            -- JSON object
  state TEXT NOT NULL,             -- pending, firing, resolved
  severity INTEGER NOT NULL,       -- Status code
  since INTEGER NOT NULL,
  fired INTEGER NOT NULL,
  resolved INTEGER NOT NULL,
  summary TEXT NOT NULL,
  metrics TEXT NOT NULL,           -- JSON array
  changes INTEGER NOT NULL,
  updated INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE alert_history(
  id INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  since INTEGER NOT NULL,
  state TEXT NOT NULL,
  severity INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  summary TEXT NOT NULL
);
CREATE INDEX alert_history_by_alert ON alert_history(fingerprint, since);

CREATE TABLE outbox(
  id INTEGER PRIMARY KEY,
  idem_key TEXT NOT NULL UNIQUE,
  fingerprint TEXT NOT NULL,
  transition TEXT NOT NULL,
  channel TEXT NOT NULL,
  recipient TEXT NOT NULL,
  text TEXT NOT NULL,
  created INTEGER NOT NULL,
  next_attempt INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  status INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  delivered INTEGER NOT NULL DEFAULT 0,
  latency_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending ON outbox(channel, id) WHERE status = 0;
)sql";

// The licence registry (licences.hpp): one row per licence, its lifecycle events beside it.
// A licence seen by a check is keyed by (host, check id); operators' entries by id only.
// Every event row names the audit entry written with it in the same transaction.
const char* const kLicences = R"sql(
CREATE TABLE licences(
  id INTEGER PRIMARY KEY,
  product TEXT NOT NULL,
  holder TEXT NOT NULL,
  host TEXT NOT NULL,              -- '' when not tied to a host
  expiry INTEGER NOT NULL,         -- end of validity, UTC epoch ms
  contract TEXT NOT NULL,
  source TEXT NOT NULL,            -- check, operator
  check_id TEXT NOT NULL,          -- source check: the licence check's id on host
  state TEXT NOT NULL,             -- applied, active, revoked
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL
);
CREATE UNIQUE INDEX licences_by_check ON licences(host, check_id) WHERE source = 'check';

CREATE TABLE licence_events(
  id INTEGER PRIMARY KEY,
  licence INTEGER NOT NULL REFERENCES licences(id),
  ts INTEGER NOT NULL,
  event TEXT NOT NULL,             -- applied, activated, renewed, revoked, seen
  actor TEXT NOT NULL,
  detail TEXT NOT NULL,            -- JSON
  audit_id INTEGER NOT NULL
);
CREATE INDEX licence_events_by_licence ON licence_events(licence, id);
)sql";

// Incidents (故障单) with the contract's deadlines (alerts/incident_tracker.hpp; written by
// sqlite_incidents.cpp in the same transaction as the alert changes that open them).
// - incidents: one row per incident number; the current state, who did what when, deadlines
//   (epoch ms) and the breach flags reports count; impact/cause/handling for the fault report.
// - incident_alerts: the alert episodes (fingerprint + since) linked to an incident.
// - incident_timeline: append-only, every line of the timeline (kind, actor, text).
const char* const kIncidents = R"sql(
CREATE TABLE incidents(
  id INTEGER PRIMARY KEY,          -- the incident number (INC-0042)
  title TEXT NOT NULL,
  level TEXT NOT NULL,             -- P1..P4
  state TEXT NOT NULL,             -- open, acknowledged, resolved, closed
  source TEXT NOT NULL,            -- alert, operator
  host TEXT NOT NULL,
  system TEXT NOT NULL,
  opened INTEGER NOT NULL,
  opened_by TEXT NOT NULL,
  acknowledged INTEGER NOT NULL,
  acknowledged_by TEXT NOT NULL,
  resolved INTEGER NOT NULL,
  resolved_by TEXT NOT NULL,
  closed INTEGER NOT NULL,
  closed_by TEXT NOT NULL,
  respond_due INTEGER NOT NULL,
  repair_due INTEGER NOT NULL,
  respond_warned INTEGER NOT NULL,
  repair_warned INTEGER NOT NULL,
  respond_breached INTEGER NOT NULL,
  repair_breached INTEGER NOT NULL,
  description TEXT NOT NULL,
  impact TEXT NOT NULL,
  cause TEXT NOT NULL,
  handling TEXT NOT NULL,
  updated INTEGER NOT NULL
);
CREATE INDEX incidents_by_opened ON incidents(opened);

CREATE TABLE incident_alerts(
  incident INTEGER NOT NULL,
  fingerprint TEXT NOT NULL,
  since INTEGER NOT NULL,
  host TEXT NOT NULL,
  check_id TEXT NOT NULL,
  linked INTEGER NOT NULL,
  resolved INTEGER NOT NULL,       -- 0: still firing
  PRIMARY KEY(incident, fingerprint, since)
) WITHOUT ROWID;

CREATE TABLE incident_timeline(
  id INTEGER PRIMARY KEY,
  incident INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  kind TEXT NOT NULL,
  actor TEXT NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX incident_timeline_by_incident ON incident_timeline(incident, id);
)sql";

// Silences and maintenance windows (alerts/silence.hpp; sqlite_silences.cpp). Matchers and the
// weekly recurrence are JSON as the API takes them; times are epoch ms, 0 = not set. A
// suppressed message is an outbox row with status 3 (no schema change to the outbox).
const char* const kSilences = R"sql(
CREATE TABLE silences(
  id INTEGER PRIMARY KEY,
  maintenance INTEGER NOT NULL,    -- 1: a maintenance window (also keeps incidents from opening)
  matchers TEXT NOT NULL,          -- JSON array of "name=value" / "name=~regex" ...
  starts INTEGER NOT NULL,
  ends INTEGER NOT NULL,           -- 0: open-ended (recurring windows)
  recurrence TEXT NOT NULL,        -- '' one-off; JSON {days, from, to, holidays}
  author TEXT NOT NULL,
  comment TEXT NOT NULL,
  created INTEGER NOT NULL,
  ended INTEGER NOT NULL           -- ended early by an operator (0: not)
);
)sql";

// Reports (reports/; collector/src/sqlite_report_source.cpp):
// - report_archive: every generated report file with its SHA-256, so a signed PDF can be
//   matched to what the collector produced (运维有痕、可追溯).
// - report_notes: operator-written notes per period (next month's plan), shown in the report
//   of that period; period_key is Period::key() ("month-2026-03").
const char* const kReports = R"sql(
CREATE TABLE report_archive(
  id INTEGER PRIMARY KEY,
  period_key TEXT NOT NULL,
  kind TEXT NOT NULL,              -- weekly, monthly, period
  format TEXT NOT NULL,            -- html, pdf, md, json
  from_ms INTEGER NOT NULL,
  to_ms INTEGER NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,            -- lower-case hex of the file's bytes
  bytes INTEGER NOT NULL,
  created INTEGER NOT NULL,
  actor TEXT NOT NULL              -- "schedule", "cli:root", "api:alice"
);
CREATE INDEX report_archive_by_period ON report_archive(period_key, id);

CREATE TABLE report_notes(
  id INTEGER PRIMARY KEY,
  period_key TEXT NOT NULL,
  text TEXT NOT NULL,
  author TEXT NOT NULL,
  created INTEGER NOT NULL
);
CREATE INDEX report_notes_by_period ON report_notes(period_key, id);
)sql";

// Console users, sessions and login failures (users.hpp; sqlite_users.cpp). Passwords are
// PBKDF2 hashes with their parameters beside them; sessions are kept by the SHA-256 of their
// id only; login_failures holds the lockout counters by key ("user:NAME", "address:IP") so a
// restart keeps a lock.
const char* const kUsers = R"sql(
CREATE TABLE users(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,              -- viewer, operator, admin
  kdf TEXT NOT NULL,               -- pbkdf2-sha256
  iterations INTEGER NOT NULL,
  salt TEXT NOT NULL,              -- hex
  password_hash TEXT NOT NULL,     -- hex
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE console_sessions(
  id_hash TEXT PRIMARY KEY,        -- SHA-256 hex of the cookie's session id
  user_id INTEGER NOT NULL,
  csrf TEXT NOT NULL,
  created INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
);
CREATE INDEX console_sessions_by_user ON console_sessions(user_id);
CREATE TABLE login_failures(
  key TEXT PRIMARY KEY,
  count INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  locked_until INTEGER NOT NULL
);
)sql";

// Personal channels (alerts/src/sms_channels.cpp, email_channel.cpp): outbox.fields holds the
// alert's fields (severity, host, check, system, incident) as a JSON object, for SMS body
// templates. Rows from before stay '{}'.
const char* const kOutboxFields = R"sql(
ALTER TABLE outbox ADD COLUMN fields TEXT NOT NULL DEFAULT '{}';
)sql";

// Report delivery (report_service.cpp): the files generated together are one report, named by
// the id of its first file (`report`; 0 on rows from before: each its own report). Its outbox
// rows (transition 'report', fingerprint 'report:<id>') are written with the archive rows and
// looked up by fingerprint for the delivery status.
const char* const kReportDelivery = R"sql(
ALTER TABLE report_archive ADD COLUMN report INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_report_rows ON outbox(fingerprint) WHERE transition = 'report';
)sql";

}  // namespace

const std::vector<const char*>& sqlite_migrations() {
  static const std::vector<const char*> list = {kV1,      kV2,    kLicences,    kIncidents,
                                                 kSilences, kReports, kUsers, kOutboxFields,
                                                 kReportDelivery};
  return list;
}

}  // namespace xj::detail
