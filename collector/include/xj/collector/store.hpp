// The collector's storage interface. SQLite (sqlite_store.cpp) is the embedded default; a
// PostgreSQL store for multi-collector sites implements the same interface, and nothing in
// ingest, liveness or the API changes.
//
// Ingest is one writer with batched transactions; reads never block it (WAL).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "xj/checks/result.hpp"
#include "xj/collector/licences.hpp"
#include "xj/collector/users.hpp"
#include "xj/common/expected.hpp"

namespace xj {

struct AgentInfo {
  std::string id;  // host id; unique per agent
  std::string hostname;
  std::string version;
  Labels labels;
};

struct SpooledResult {
  std::int64_t seq = 0;  // the agent's spool sequence; 0 for collector-made results
  Result result;
};

// The agent dropped spooled results (spool cap): what is missing, so reports can say
// "no data from ... to ..." instead of pretending.
struct GapRecord {
  std::int64_t from_seq = 0, to_seq = 0, count = 0;
  std::int64_t from_ts = 0, to_ts = 0;  // epoch ms of the first and last dropped result
};

struct IngestBatch {
  AgentInfo agent;
  std::vector<SpooledResult> results;  // may be empty: a heartbeat
  std::vector<GapRecord> gaps;
  std::int64_t received_ms = 0;
  // False for collector-made results (host:alive): they must not count as contact from the
  // agent, or a silent host would look alive because of its own "no contact" result.
  bool contact = true;
};

struct IngestOutcome {
  std::size_t accepted = 0;    // newly stored
  std::size_t duplicates = 0;  // (agent, seq) already stored: acknowledged and dropped
  std::int64_t ack_seq = 0;    // highest seq now safely stored for this agent (0: none)
};

struct HostRow {
  AgentInfo agent;
  std::int64_t first_seen_ms = 0;
  std::int64_t last_contact_ms = 0;
  Status worst = Status::kOk;
  std::size_t checks_ok = 0, checks_warning = 0, checks_critical = 0, checks_unknown = 0;
};

struct CheckRow {
  std::string host;
  std::string check;
  std::string kind;
  Status status = Status::kUnknown;
  std::string summary;
  std::int64_t since_ms = 0;    // when the current status began
  std::int64_t last_ts_ms = 0;  // the latest result
  std::vector<Metric> metrics;  // of the latest result
};

struct CheckFilter {
  std::optional<Status> status;
  std::string host;  // "" = any
  std::string kind;  // "" = any
};

struct StatusChange {
  std::string host, check;
  Status from = Status::kUnknown, to = Status::kUnknown;
  std::int64_t ts_ms = 0;
  std::string summary;
  bool first = false;  // the check's first result: there was no status before (`from` unused)
};

struct SeriesQuery {
  std::string host, check, metric;
  Labels labels;  // must match exactly when given
  // Raw points with from <= ts <= to; rollup buckets that overlap [from, to].
  std::int64_t from_ms = 0, to_ms = 0;
  // 0: raw points; >= 1h: hourly rollups; >= 1d: daily rollups (local days); in between,
  // buckets of the source merged step/bucket at a time, counted from the first bucket.
  std::int64_t step_ms = 0;
};

struct SeriesPoint {
  std::int64_t ts_ms = 0;  // start of the bucket (or the sample time for raw)
  double min = 0, max = 0, avg = 0, last = 0;
  std::int64_t count = 0;
};

struct Series {
  std::string host, check, metric, unit;
  Labels labels;
  std::string source;  // "raw", "hourly", "daily"
  std::vector<SeriesPoint> points;
};

struct TokenRow {
  std::int64_t id = 0;
  std::string name;  // agent id for agent tokens, a person or tool for API tokens
  std::optional<Role> role;  // API tokens only
  std::int64_t created_ms = 0;
  std::int64_t last_used_ms = 0;
  bool revoked = false;
};

struct AuditEntry {
  std::int64_t id = 0;
  std::int64_t ts_ms = 0;
  std::string actor;   // "cli:root", "api:alice", "agent:web-01", "collector"
  std::string action;  // "token.create", "token.revoke", ...
  std::string object;  // "agent-token:3"
  std::string detail;  // JSON
  std::string prev_hash;  // hex SM3 of the previous entry ("" for the first)
  std::string hash;       // hex SM3 over this entry's fields and prev_hash
};

struct AuditVerdict {
  bool ok = true;
  std::int64_t entries = 0;
  std::int64_t first_bad_id = 0;  // the first entry whose hash or link does not match
  std::string reason;
};

// Users, sessions and login failures (users.hpp) live in the same store.
class Store : public UserStore {
 public:
  virtual ~Store() = default;

  // Stores the whole batch (results, their metric samples, status changes, the agent's
  // contact time) in one transaction, or nothing.
  virtual Expected<IngestOutcome> ingest(const IngestBatch& batch) = 0;

  virtual std::vector<HostRow> hosts() = 0;
  virtual std::optional<HostRow> host(const std::string& id) = 0;
  virtual std::vector<CheckRow> checks(const CheckFilter& filter) = 0;
  virtual std::vector<StatusChange> status_changes(const std::string& host, std::int64_t from_ms,
                                                   std::int64_t to_ms) = 0;
  virtual std::vector<GapRecord> gaps(const std::string& host) = 0;
  virtual std::vector<Series> series(const SeriesQuery& query) = 0;

  // Tokens are stored as hashes only; `find` takes the hash of a presented token.
  virtual Expected<std::int64_t> create_token(const std::string& name, std::optional<Role> role,
                                              const std::string& token_hash) = 0;
  virtual std::optional<TokenRow> find_token(const std::string& token_hash) = 0;
  virtual std::vector<TokenRow> tokens() = 0;
  virtual Expected<bool> revoke_token(std::int64_t id) = 0;

  // Appends to the hash-chained audit log (the store computes the chain).
  virtual Expected<AuditEntry> audit(const std::string& actor, const std::string& action,
                                     const std::string& object, const std::string& detail) = 0;
  virtual std::vector<AuditEntry> audit_entries(std::int64_t after_id, std::size_t limit) = 0;
  virtual AuditVerdict verify_audit() = 0;

  // The licence registry (licences.hpp). A change, its event and its audit entry are one
  // transaction. add_licence records `applied` or `activated` per the row's state.
  virtual Expected<LicenceRow, LicenceError> add_licence(const LicenceRow& l, const std::string& actor) = 0;
  // kActivated (applied -> active), kRenewed (a later expiry; contract replaced when given),
  // kRevoked. A revoked licence takes no further change (kConflict).
  virtual Expected<LicenceRow, LicenceError> change_licence(std::int64_t id, LicenceEventKind event,
                                                            const LicenceUpdate& update,
                                                            const std::string& actor) = 0;
  // From a licence check's result: records a licence seen for the first time (`seen`), or its
  // expiry moving (later: `renewed`, earlier: `seen`); returns the row when it changed.
  virtual Expected<std::optional<LicenceRow>> note_seen_licence(const SeenLicence& seen) = 0;
  // Every licence, soonest expiry first; revoked ones after the rest.
  virtual std::vector<LicenceRow> licences() = 0;
  virtual std::optional<LicenceRow> licence(std::int64_t id) = 0;
  virtual std::vector<LicenceEvent> licence_events(std::int64_t id) = 0;

  // Housekeeping: closes finished rollup buckets and deletes raw rows older than retention.
  virtual Expected<bool> maintain(std::int64_t now_ms) = 0;
  virtual std::int64_t size_bytes() = 0;
};

std::string_view to_string(Role r);
std::optional<Role> parse_role(std::string_view s);

}  // namespace xj
