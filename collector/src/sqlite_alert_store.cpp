#include "xj/collector/sqlite_alert_store.hpp"

#include <mutex>
#include <nlohmann/json.hpp>

#include "detail/sqlite_conn.hpp"
#include "detail/sqlite_incidents.hpp"
#include "detail/sqlite_outbox.hpp"
#include "detail/sqlite_silences.hpp"

namespace xj {
namespace {

using alerts::Alert;
using alerts::AttemptRecord;
using alerts::OutboxMessage;
using detail::Query;
using detail::SqliteConn;
using detail::Txn;
using nlohmann::json;

std::string metrics_json(const std::vector<Metric>& ms) {
  json a = json::array();
  for (const auto& m : ms) a.push_back(to_json(m));
  return a.dump();
}

std::vector<Metric> metrics_from_json(const std::string& text) {
  // Read back through the strict Result parser, which owns the Metric wire form.
  json r{{"check", "x"}, {"kind", "x"}, {"status", "ok"}, {"ts", 0},
         {"metrics", json::parse(text, nullptr, false)}};
  auto parsed = result_from_json(r);
  return parsed ? parsed->metrics : std::vector<Metric>{};
}

class SqliteAlertStore final : public alerts::AlertStore {
 public:
  explicit SqliteAlertStore(std::unique_ptr<SqliteConn> c) : conn_(std::move(c)) {}

  using alerts::AlertStore::commit;
  Expected<bool> commit(const alerts::AlertChanges& c) override {
    const auto& changed = c.alerts;
    const auto& messages = c.messages;
    std::lock_guard lock(mu_);
    Txn txn(*conn_, "BEGIN IMMEDIATE");
    if (!txn.ok()) return conn_->error("cannot begin an alert commit");
    for (const auto& a : changed) {
      Query up(*conn_,
               "INSERT INTO alerts(fingerprint, rule, kind, host, check_id, labels, state, severity,"
               " since, fired, resolved, summary, metrics, changes, updated)"
               " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(fingerprint) DO UPDATE SET"
               " labels=excluded.labels, state=excluded.state, severity=excluded.severity,"
               " since=excluded.since, fired=excluded.fired, resolved=excluded.resolved,"
               " summary=excluded.summary, metrics=excluded.metrics, changes=excluded.changes,"
               " updated=excluded.updated");
      json labels(a.labels);
      const std::string state(alerts::to_string(a.state));
      up.bind(a.fingerprint, a.rule, std::string(alerts::to_string(a.kind)), a.host, a.check,
              labels.dump(), state, code_of(a.severity), a.since_ms, a.fired_ms, a.resolved_ms,
              a.summary, metrics_json(a.metrics), a.changes, now_epoch_ms());
      if (!up.done()) return conn_->error("cannot store alert " + a.fingerprint);
      Query h(*conn_,
              "INSERT INTO alert_history(fingerprint, since, state, severity, ts, summary)"
              " VALUES(?,?,?,?,?,?)");
      h.bind(a.fingerprint, a.since_ms, state, code_of(a.severity), now_epoch_ms(), a.summary);
      if (!h.done()) return conn_->error("cannot store the history of alert " + a.fingerprint);
    }
    for (const auto& m : messages) {
      // The same (alert, transition, channel, recipient, part) is never enqueued twice.
      if (auto r = detail::insert_outbox_message(*conn_, m); !r) return r;
    }
    if (auto r = detail::write_incident_changes(*conn_, c.incidents); !r) return r;
    if (!txn.commit()) return conn_->error("cannot commit alerts and their messages");
    return true;
  }

  std::vector<Alert> active_alerts() override {
    std::lock_guard lock(mu_);
    std::vector<Alert> out;
    Query q(*conn_,
            "SELECT fingerprint, rule, kind, host, check_id, labels, state, severity, since, fired,"
            " resolved, summary, metrics, changes FROM alerts WHERE state != 'resolved'");
    while (q.row()) {
      Alert a;
      a.fingerprint = q.text(0);
      a.rule = q.text(1);
      a.kind = alerts::parse_alert_kind(q.text(2)).value_or(alerts::AlertKind::kStatus);
      a.host = q.text(3);
      a.check = q.text(4);
      json labels = json::parse(q.text(5), nullptr, false);
      if (labels.is_object()) {
        for (auto& [k, v] : labels.items()) {
          if (v.is_string()) a.labels[k] = v.get<std::string>();
        }
      }
      a.state = alerts::parse_alert_state(q.text(6)).value_or(alerts::AlertState::kPending);
      a.severity = status_from_code(static_cast<int>(q.i64(7)));
      a.since_ms = q.i64(8);
      a.fired_ms = q.i64(9);
      a.resolved_ms = q.i64(10);
      a.summary = q.text(11);
      a.metrics = metrics_from_json(q.text(12));
      a.changes = static_cast<int>(q.i64(13));
      out.push_back(std::move(a));
    }
    return out;
  }

  std::vector<OutboxMessage> due_messages(std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    Query q(*conn_,
            "SELECT " XJ_OUTBOX_COLUMNS " FROM outbox"
            " WHERE id IN (SELECT min(id) FROM outbox WHERE status = 0 GROUP BY channel)"
            " AND next_attempt <= ? ORDER BY id");
    q.bind(now_ms);
    return read_messages(q);
  }

  std::optional<std::int64_t> next_due() override {
    std::lock_guard lock(mu_);
    Query q(*conn_,
            "SELECT min(next_attempt) FROM outbox WHERE id IN"
            " (SELECT min(id) FROM outbox WHERE status = 0 GROUP BY channel)");
    if (!q.row() || q.null(0)) return std::nullopt;
    return q.i64(0);
  }

  std::vector<OutboxMessage> pending_messages(const std::string& channel, std::size_t limit) override {
    std::lock_guard lock(mu_);
    Query q(*conn_,
            "SELECT id, idem_key, fingerprint, transition, channel, recipient, text, created,"
            " next_attempt, attempts, status, last_error, delivered, latency_ms, fields FROM outbox"
            " WHERE status = 0 AND channel = ? ORDER BY id LIMIT ?");
    q.bind(channel, static_cast<std::int64_t>(limit));
    return read_messages(q);
  }

  Expected<bool> record_attempt(const AttemptRecord& a) override {
    std::lock_guard lock(mu_);
    return update_attempt(a);
  }

  Expected<bool> record_attempts(const std::vector<AttemptRecord>& attempts) override {
    std::lock_guard lock(mu_);
    Txn txn(*conn_, "BEGIN IMMEDIATE");
    if (!txn.ok()) return conn_->error("cannot begin recording a combined delivery");
    for (const auto& a : attempts) {
      if (auto r = update_attempt(a); !r) return r;
    }
    if (!txn.commit()) return conn_->error("cannot commit a combined delivery");
    return true;
  }

  Expected<bool> postpone(std::int64_t id, std::int64_t next_attempt_ms) override {
    std::lock_guard lock(mu_);
    Query q(*conn_, "UPDATE outbox SET next_attempt = ? WHERE id = ?");
    q.bind(next_attempt_ms, id);
    if (!q.done()) return conn_->error("cannot postpone a message");
    return true;
  }

  bool has_message(const std::string& key) override {
    std::lock_guard lock(mu_);
    Query q(*conn_, "SELECT 1 FROM outbox WHERE idem_key = ?");
    q.bind(key);
    return q.row();
  }

  std::vector<OutboxMessage> messages(std::int64_t after_id, std::size_t limit) override {
    std::lock_guard lock(mu_);
    Query q(*conn_,
            "SELECT " XJ_OUTBOX_COLUMNS " FROM outbox"
            " WHERE id > ? ORDER BY id LIMIT ?");
    q.bind(after_id, static_cast<std::int64_t>(limit));
    return read_messages(q);
  }

  std::vector<alerts::Incident> incidents(const alerts::IncidentFilter& filter) override {
    std::lock_guard lock(mu_);
    return detail::read_incidents(*conn_, filter);
  }
  std::optional<alerts::Incident> incident(std::int64_t id) override {
    std::lock_guard lock(mu_);
    return detail::read_incident(*conn_, id);
  }
  std::vector<alerts::TimelineEntry> timeline(std::int64_t incident_id) override {
    std::lock_guard lock(mu_);
    return detail::read_timeline(*conn_, incident_id);
  }
  std::int64_t max_incident_id() override {
    std::lock_guard lock(mu_);
    return detail::read_max_incident_id(*conn_);
  }

  Expected<std::int64_t> add_silence(const alerts::Silence& s) override {
    std::lock_guard lock(mu_);
    return detail::insert_silence(*conn_, s);
  }
  Expected<bool> end_silence(std::int64_t id, std::int64_t at_ms) override {
    std::lock_guard lock(mu_);
    return detail::mark_silence_ended(*conn_, id, at_ms);
  }
  std::vector<alerts::Silence> silences() override {
    std::lock_guard lock(mu_);
    return detail::read_silences(*conn_);
  }
  std::vector<std::pair<std::string, std::int64_t>> suppressed_firing() override {
    std::lock_guard lock(mu_);
    return detail::read_suppressed_firing(*conn_);
  }
  Expected<bool> release_suppressed(const std::string& fingerprint, std::int64_t since_ms,
                                    std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    return detail::release_suppressed(*conn_, fingerprint, since_ms, now_ms);
  }

 private:
  // Under mu_.
  Expected<bool> update_attempt(const AttemptRecord& a) {
    Query q(*conn_,
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?,"
            " status = ?, next_attempt = ?, delivered = ?,"
            " latency_ms = CASE WHEN ? THEN ? - created ELSE latency_ms END WHERE id = ?");
    const int status = a.delivered ? 1 : a.give_up ? 2 : 0;
    q.bind(a.error, status, a.next_attempt_ms, a.delivered ? a.at_ms : 0, a.delivered ? 1 : 0,
           a.at_ms, a.id);
    if (!q.done()) return conn_->error("cannot record a delivery attempt");
    return true;
  }

  static std::vector<OutboxMessage> read_messages(Query& q) { return detail::read_outbox_messages(q); }

  std::mutex mu_;
  std::unique_ptr<SqliteConn> conn_;
};

}  // namespace

namespace detail {

Expected<bool> insert_outbox_message(SqliteConn& conn, const OutboxMessage& m) {
  Query q(conn,
          "INSERT OR IGNORE INTO outbox(idem_key, fingerprint, transition, channel, recipient,"
          " text, created, next_attempt, status, last_error, fields) VALUES(?,?,?,?,?,?,?,?,?,?,?)");
  q.bind(m.idempotency_key, m.fingerprint, m.transition, m.channel, m.recipient, m.text,
         m.created_ms, m.next_attempt_ms, m.status == alerts::DeliveryStatus::kSuppressed ? 3 : 0,
         m.last_error, nlohmann::json(m.fields).dump());
  if (!q.done()) return conn.error("cannot enqueue message " + m.idempotency_key);
  return true;
}

std::vector<OutboxMessage> read_outbox_messages(Query& q) {
  std::vector<OutboxMessage> out;
  while (q.row()) {
    OutboxMessage m;
    m.id = q.i64(0);
    m.idempotency_key = q.text(1);
    m.fingerprint = q.text(2);
    m.transition = q.text(3);
    m.channel = q.text(4);
    m.recipient = q.text(5);
    m.text = q.text(6);
    m.created_ms = q.i64(7);
    m.next_attempt_ms = q.i64(8);
    m.attempts = static_cast<int>(q.i64(9));
    const auto st = q.i64(10);
    m.status = st == 1   ? alerts::DeliveryStatus::kDelivered
               : st == 2 ? alerts::DeliveryStatus::kFailed
               : st == 3 ? alerts::DeliveryStatus::kSuppressed
                         : alerts::DeliveryStatus::kPending;
    m.last_error = q.text(11);
    m.delivered_ms = q.i64(12);
    m.latency_ms = q.i64(13);
    auto fields = nlohmann::json::parse(q.text(14), nullptr, false);
    if (fields.is_object()) {
      for (auto& [k, v] : fields.items()) {
        if (v.is_string()) m.fields[k] = v.get<std::string>();
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace detail

Expected<std::unique_ptr<alerts::AlertStore>> open_sqlite_alert_store(const std::string& path) {
  auto conn = SqliteConn::open(path, /*reader=*/false, /*durable=*/true);
  if (!conn) return Error{conn.error()};
  {
    Query probe(**conn, "SELECT count(*) FROM outbox");
    if (!probe.ok() || !probe.row()) {
      return make_error("collector store " + path + ": no outbox table (open the store first)");
    }
  }
  return std::unique_ptr<alerts::AlertStore>(new SqliteAlertStore(std::move(conn).value()));
}

}  // namespace xj
