// SqliteStore: the Store over one SQLite file. Split by concern: sqlite_store_open.cpp (open,
// migrations, caches), sqlite_ingest.cpp (group commit, one batch), sqlite_queries.cpp (hosts,
// checks, changes, gaps), sqlite_series.cpp (series from raw and rollups), sqlite_rollups.cpp
// (maintain: rollups, retention), sqlite_tokens_audit.cpp (tokens, the SM3 audit chain),
// sqlite_licences.cpp (the licence registry), sqlite_users.cpp (console users, sessions,
// login failures).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "sqlite_conn.hpp"
#include "time_zone.hpp"
#include "xj/collector/sqlite_store.hpp"

namespace xj::detail {

inline constexpr std::int64_t kSlotMs = 60'000;
inline constexpr std::int64_t kHourMs = 3'600'000;
inline constexpr std::int64_t kDayMs = 86'400'000;

inline std::int64_t floor_to(std::int64_t t, std::int64_t unit) {
  std::int64_t q = t / unit;
  if (t % unit != 0 && t < 0) --q;
  return q * unit;
}

// min / max / sum / count / last of one series over one bucket.
struct Agg {
  double min = 0, max = 0, sum = 0, last = 0;
  std::int64_t count = 0, last_ts = 0;
  void add(double v, std::int64_t ts);
  void merge(const Agg& o);
  SeriesPoint point(std::int64_t ts) const;
};

// How far one rollup level (hour or day) has been computed from raw samples: buckets before
// rolled_to completely, the bucket starting at rolled_to for series ids below partial_sid.
struct LevelState {
  std::int64_t rolled_to = 0, partial_sid = 0;
  bool rolled(std::int64_t bucket, std::int64_t sid) const {
    return bucket < rolled_to || (bucket == rolled_to && sid < partial_sid);
  }
};

// The stored seqs of one agent as disjoint closed ranges. An agent ships in order, so this is
// one range plus one per gap it ever had.
class SeqRanges {
 public:
  bool contains(std::int64_t seq) const;
  void insert(std::int64_t seq);
  void add_range(std::int64_t lo, std::int64_t hi) { ranges_[lo] = hi; }  // loading
  std::int64_t max() const { return ranges_.empty() ? 0 : ranges_.rbegin()->second; }
  const std::map<std::int64_t, std::int64_t>& ranges() const { return ranges_; }

 private:
  std::map<std::int64_t, std::int64_t> ranges_;  // lo -> hi
};

struct CheckState {
  std::int64_t cid = 0;
  Status status = Status::kUnknown;
  std::int64_t since = 0, last_ts = 0;
};

struct SeriesRef {
  std::int64_t sid = 0;
  std::string unit;
};

// What ingest keeps in memory to avoid reading the database per result. A batch and a commit
// group collect the entries they create or change in their own IngestCache; it is merged
// into the store's only after the savepoint is released / the transaction committed, so a
// rolled-back batch leaves no trace in memory either.
struct IngestCache {
  std::unordered_map<std::string, CheckState> checks;  // check_key(hid, check)
  std::unordered_map<std::string, SeriesRef> series;   // series_key(cid, metric, labels)
  std::unordered_map<std::int64_t, SeqRanges> seqs;    // by hid
  void merge_from(IngestCache&& o);
};

std::string check_key(std::int64_t hid, const std::string& check);
std::string series_key(std::int64_t cid, const std::string& metric, const std::string& labels);
// Canonical JSON of labels: keys sorted (std::map), so equal label sets compare as text.
std::string labels_json(const Labels& labels);
Labels labels_from_json(const std::string& text);

class SqliteStore final : public Store {
 public:
  static Expected<std::unique_ptr<Store>> open(const std::string& path, SqliteStoreOptions o);
  ~SqliteStore() override = default;

  Expected<IngestOutcome> ingest(const IngestBatch& batch) override;
  std::vector<HostRow> hosts() override;
  std::optional<HostRow> host(const std::string& id) override;
  std::vector<CheckRow> checks(const CheckFilter& filter) override;
  std::vector<StatusChange> status_changes(const std::string& host, std::int64_t from_ms,
                                           std::int64_t to_ms) override;
  std::vector<GapRecord> gaps(const std::string& host) override;
  std::vector<Series> series(const SeriesQuery& query) override;
  Expected<std::int64_t> create_token(const std::string& name, std::optional<Role> role,
                                      const std::string& token_hash) override;
  std::optional<TokenRow> find_token(const std::string& token_hash) override;
  std::vector<TokenRow> tokens() override;
  Expected<bool> revoke_token(std::int64_t id) override;
  Expected<AuditEntry> audit(const std::string& actor, const std::string& action,
                             const std::string& object, const std::string& detail) override;
  std::vector<AuditEntry> audit_entries(std::int64_t after_id, std::size_t limit) override;
  AuditVerdict verify_audit() override;
  Expected<bool> maintain(std::int64_t now_ms) override;
  std::int64_t size_bytes() override;
  Expected<LicenceRow, LicenceError> add_licence(const LicenceRow& l, const std::string& actor) override;
  Expected<LicenceRow, LicenceError> change_licence(std::int64_t id, LicenceEventKind event,
                                                    const LicenceUpdate& update,
                                                    const std::string& actor) override;
  Expected<std::optional<LicenceRow>> note_seen_licence(const SeenLicence& seen) override;
  std::vector<LicenceRow> licences() override;
  std::optional<LicenceRow> licence(std::int64_t id) override;
  std::vector<LicenceEvent> licence_events(std::int64_t id) override;
  Expected<UserRow, UserError> create_user(const UserRow& user, const std::string& actor) override;
  Expected<UserRow, UserError> update_user(const std::string& name, const UserUpdate& update,
                                           const std::string& actor, const std::string& action) override;
  std::optional<UserRow> user(const std::string& name) override;
  std::optional<UserRow> user_by_id(std::int64_t id) override;
  std::vector<UserRow> users() override;
  LoginFailures login_failures(const std::string& key) override;
  Expected<bool> set_login_failures(const std::string& key, const LoginFailures& f) override;
  Expected<bool> create_session(const SessionRow& session, std::int64_t expire_before_ms,
                                std::int64_t idle_before_ms) override;
  std::optional<SessionRow> session(const std::string& id_hash) override;
  Expected<bool> touch_session(const std::string& id_hash, std::int64_t now_ms) override;
  Expected<bool> delete_session(const std::string& id_hash) override;

 private:
  struct Request {
    const IngestBatch* batch;
    std::optional<Expected<IngestOutcome>> outcome;
  };
  // Per batch: lookups go batch -> group -> store cache; changes land in `batch`.
  struct BatchWork {
    IngestCache& batch;
    const IngestCache& group;
    std::int64_t hid = 0;
    std::unordered_map<std::int64_t, const Result*> dirty;  // cid -> newest applied result
    std::unordered_map<std::int64_t, CheckState*> dirty_state;
    // (0 hourly / 1 daily, bucket, cid) -> ms in ok, warning, critical, unknown
    std::map<std::tuple<int, std::int64_t, std::int64_t>, std::array<std::int64_t, 4>> status_ms;
  };

  SqliteStore(std::string path, SqliteStoreOptions o, TimeZone tz,
              std::unique_ptr<SqliteConn> writer);
  std::int64_t now() const;

  // sqlite_store_open.cpp
  Expected<bool> migrate();
  Expected<bool> check_meta();
  Expected<bool> load_caches();

  // sqlite_ingest.cpp
  void run_group(const std::vector<Request*>& group);
  Expected<IngestOutcome> run_batch(const IngestBatch& b, BatchWork& w);
  Expected<std::int64_t> upsert_host(const IngestBatch& b, std::int64_t received);
  Expected<bool> store_result(BatchWork& w, std::size_t index, const SpooledResult& sr,
                              std::int64_t received);
  Expected<std::int64_t> series_id(BatchWork& w, std::int64_t cid, const Metric& m);
  void add_status_time(BatchWork& w, std::int64_t cid, Status s, std::int64_t from,
                       std::int64_t to);
  Expected<bool> flush_batch(BatchWork& w);
  Expected<bool> persist_seqs(std::int64_t hid, const SeqRanges* before, const SeqRanges& after);

  // sqlite_rollups.cpp
  Expected<bool> merge_rollup(bool daily, std::int64_t bucket, std::int64_t sid, const Agg& a);
  Expected<bool> roll_chunk(bool daily, std::int64_t now_ms, bool& more);
  Expected<bool> delete_expired(std::int64_t now_ms);

  // sqlite_tokens_audit.cpp
  Expected<bool> write_token_uses(std::unordered_map<std::int64_t, std::int64_t>& uses);
  std::unordered_map<std::int64_t, std::int64_t> take_token_uses();
  // Appends one audit entry; the caller holds write_mu_ and has begun a transaction.
  Expected<AuditEntry> append_audit(const std::string& actor, const std::string& action,
                                    const std::string& object, const std::string& detail);

  // sqlite_licences.cpp: one event (row, licence_events, audit) inside the caller's transaction.
  Expected<LicenceEvent> append_licence_event(const LicenceRow& after, LicenceEventKind event,
                                              const std::string& actor, nlohmann::json detail);
  void restore_token_uses(const std::unordered_map<std::int64_t, std::int64_t>& uses);

  const std::string path_;
  const SqliteStoreOptions opt_;
  const TimeZone tz_;

  std::mutex write_mu_;  // the writer connection and everything below up to queue_mu_
  std::unique_ptr<SqliteConn> writer_;
  IngestCache cache_;
  LevelState hour_, day_;

  std::mutex queue_mu_;
  std::deque<Request*> queue_;

  ReaderPool readers_;

  std::mutex token_mu_;
  std::unordered_map<std::int64_t, std::int64_t> token_seen_;     // id -> last_used known
  std::unordered_map<std::int64_t, std::int64_t> token_pending_;  // id -> last_used to write
};

}  // namespace xj::detail
