// SqliteReportSource: the reports' reads over rollup_daily, status_daily, status_changes,
// alert_history, outbox, audit, gaps, incidents and the licence registry — never results or samples — and the report archive.
// Each read runs in one read transaction, so a report sees one committed state.
#include "xj/collector/sqlite_report_source.hpp"

#include <nlohmann/json.hpp>

#include <mutex>

#include "detail/sqlite_conn.hpp"
#include "detail/sqlite_outbox.hpp"
#include "detail/time_zone.hpp"

namespace xj {
namespace {

using detail::Query;
using detail::SqliteConn;
using detail::Txn;

Labels labels_of(const std::string& text) {
  Labels out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

ArchivedReport archived_row(const Query& q) {
  return {q.i64(0), q.text(1), q.text(2), q.text(3), q.i64(4), q.i64(5), q.text(6), q.text(7),
          q.i64(8), q.i64(9), q.text(10), q.i64(11) != 0 ? q.i64(11) : q.i64(0)};
}

std::string json_list(const std::vector<std::string>& v) { return nlohmann::json(v).dump(); }

class Impl final : public SqliteReportSource {
 public:
  Impl(std::unique_ptr<SqliteConn> conn, detail::TimeZone tz) : conn_(std::move(conn)), tz_(std::move(tz)) {}

  std::int64_t utc_offset_ms(std::int64_t utc_ms) const override { return tz_.offset_ms(utc_ms); }

  std::vector<reports::SourceHost> hosts() override {
    std::lock_guard lock(mu_);
    std::vector<reports::SourceHost> out;
    Query q(*conn_, "SELECT id, hostname, labels, first_seen FROM hosts ORDER BY id");
    while (q.row()) out.push_back({q.text(0), q.text(1), labels_of(q.text(2)), q.i64(3)});
    return out;
  }

  std::vector<reports::SourceCheck> checks() override {
    std::lock_guard lock(mu_);
    std::vector<reports::SourceCheck> out;
    Query q(*conn_,
            "SELECT h.id, c.check_id, c.kind FROM checks c JOIN hosts h ON h.hid = c.hid"
            " ORDER BY h.id, c.check_id");
    while (q.row()) out.push_back({q.text(0), q.text(1), q.text(2)});
    return out;
  }

  std::vector<reports::CheckStatusTime> status_time(std::int64_t from, std::int64_t to) override {
    std::lock_guard lock(mu_);
    std::vector<reports::CheckStatusTime> out;
    Query q(*conn_,
            "SELECT h.id, c.check_id, sum(s.ok_ms), sum(s.warning_ms), sum(s.critical_ms),"
            " sum(s.unknown_ms) FROM status_daily s JOIN checks c ON c.cid = s.cid"
            " JOIN hosts h ON h.hid = c.hid WHERE s.bucket >= ? AND s.bucket < ?"
            " GROUP BY s.cid ORDER BY h.id, c.check_id");
    q.bind(from, to);
    while (q.row()) out.push_back({q.text(0), q.text(1), q.i64(2), q.i64(3), q.i64(4), q.i64(5)});
    return out;
  }

  std::vector<reports::CheckTimeline> timelines(std::int64_t from, std::int64_t to) override {
    std::lock_guard lock(mu_);
    Txn txn(*conn_, "BEGIN");
    std::vector<reports::CheckTimeline> out;
    std::unordered_map<std::int64_t, std::size_t> index;  // cid -> out
    {
      // The status in force at `from`: the check's last change before it.
      Query q(*conn_,
              "SELECT c.cid, h.id, c.check_id, c.kind,"
              " (SELECT to_status FROM status_changes s WHERE s.cid = c.cid AND s.ts < ?1"
              "  ORDER BY s.ts DESC, s.id DESC LIMIT 1),"
              " (SELECT ts FROM status_changes s WHERE s.cid = c.cid AND s.ts < ?1"
              "  ORDER BY s.ts DESC, s.id DESC LIMIT 1)"
              " FROM checks c JOIN hosts h ON h.hid = c.hid ORDER BY h.id, c.check_id");
      q.bind(from);
      while (q.row()) {
        reports::CheckTimeline t;
        t.host = q.text(1);
        t.check = q.text(2);
        t.kind = q.text(3);
        if (!q.null(4)) {
          t.at_start = status_from_code(static_cast<int>(q.i64(4)));
          t.at_start_since_ms = q.i64(5);
        }
        index[q.i64(0)] = out.size();
        out.push_back(std::move(t));
      }
    }
    Query q(*conn_,
            "SELECT cid, ts, to_status FROM status_changes WHERE ts >= ? AND ts < ? ORDER BY ts, id");
    q.bind(from, to);
    while (q.row()) {
      auto it = index.find(q.i64(0));
      if (it == index.end()) continue;
      out[it->second].changes.push_back({q.i64(1), status_from_code(static_cast<int>(q.i64(2)))});
    }
    std::erase_if(out, [](const reports::CheckTimeline& t) { return !t.at_start && t.changes.empty(); });
    return out;
  }

  std::vector<reports::MetricDay> metric_days(std::int64_t from, std::int64_t to,
                                              const std::vector<std::string>& kinds,
                                              const std::vector<std::string>& metrics) override {
    std::lock_guard lock(mu_);
    std::vector<reports::MetricDay> out;
    Query q(*conn_,
            "SELECT h.id, c.check_id, c.kind, s.metric, s.labels, r.bucket, r.min, r.max, r.sum,"
            " r.last, r.count FROM rollup_daily r JOIN series s ON s.sid = r.sid"
            " JOIN checks c ON c.cid = s.cid JOIN hosts h ON h.hid = c.hid"
            " WHERE r.bucket >= ? AND r.bucket < ?"
            " AND c.kind IN (SELECT value FROM json_each(?)) AND s.metric IN (SELECT value FROM json_each(?))"
            " ORDER BY h.id, c.check_id, s.metric, s.labels, r.bucket");
    q.bind(from, to, json_list(kinds), json_list(metrics));
    while (q.row()) {
      out.push_back({q.text(0), q.text(1), q.text(2), q.text(3), labels_of(q.text(4)), q.i64(5),
                     q.f64(6), q.f64(7), q.f64(8), q.f64(9), q.i64(10)});
    }
    return out;
  }

  std::vector<reports::AlertFiring> alert_firings(std::int64_t from, std::int64_t to) override {
    std::lock_guard lock(mu_);
    std::vector<reports::AlertFiring> out;
    Query q(*conn_,
            "SELECT a.host, a.check_id, a.rule, h.severity, h.ts FROM alert_history h"
            " JOIN alerts a ON a.fingerprint = h.fingerprint"
            " WHERE h.state = 'firing' AND h.ts >= ? AND h.ts < ? ORDER BY h.ts, h.id");
    q.bind(from, to);
    while (q.row()) {
      out.push_back({q.text(0), q.text(1), q.text(2), status_from_code(static_cast<int>(q.i64(3))), q.i64(4)});
    }
    return out;
  }

  reports::DeliveryStats deliveries(std::int64_t from, std::int64_t to) override {
    std::lock_guard lock(mu_);
    Query q(*conn_,
            "SELECT count(*), coalesce(sum(status = 1), 0), coalesce(sum(status = 2), 0),"
            " coalesce(sum(status = 0), 0) FROM outbox WHERE created >= ? AND created < ?"
            // Alert notifications only: a report's own delivery is not a notification of a fault.
            " AND transition != 'report'");
    q.bind(from, to);
    if (!q.row()) return {};
    return {q.i64(0), q.i64(1), q.i64(2), q.i64(3)};
  }

  std::vector<reports::AuditCount> audit_counts(std::int64_t from, std::int64_t to) override {
    std::lock_guard lock(mu_);
    std::vector<reports::AuditCount> out;
    Query q(*conn_,
            "SELECT action, count(*) FROM audit WHERE ts >= ? AND ts < ? GROUP BY action ORDER BY action");
    q.bind(from, to);
    while (q.row()) out.push_back({q.text(0), q.i64(1)});
    return out;
  }

  std::vector<reports::SourceGap> gaps(std::int64_t from, std::int64_t to) override {
    std::lock_guard lock(mu_);
    std::vector<reports::SourceGap> out;
    Query q(*conn_,
            "SELECT h.id, g.from_ts, g.to_ts, g.count FROM gaps g JOIN hosts h ON h.hid = g.hid"
            " WHERE g.to_ts >= ? AND g.from_ts < ? ORDER BY h.id, g.from_ts");
    q.bind(from, to);
    while (q.row()) out.push_back({q.text(0), q.i64(1), q.i64(2), q.i64(3)});
    return out;
  }

  // Incidents opened in [from, to) (the incidents table, alerts/incident_tracker.hpp). The
  // response is the acknowledgement or, without one, the resolve (a resolve stops the response
  // clock too); on time means at or before its deadline. An incident counts towards an on-time
  // rate once it was responded to (repaired) or its deadline passed before `to`.
  std::optional<reports::IncidentStats> incidents(std::int64_t from, std::int64_t to) override {
    std::lock_guard lock(mu_);
    Query q(*conn_,
            "SELECT opened, acknowledged, resolved, respond_due, repair_due FROM incidents"
            " WHERE opened >= ? AND opened < ? ORDER BY id");
    q.bind(from, to);
    reports::IncidentStats st;
    double ack_sum = 0, repair_sum = 0;
    std::int64_t responded = 0, respond_due = 0, respond_ok = 0, repair_due = 0, repair_ok = 0;
    while (q.row()) {
      const std::int64_t opened = q.i64(0), acked = q.i64(1), resolved = q.i64(2);
      const std::int64_t respond_by = q.i64(3), repair_by = q.i64(4);
      ++st.total;
      if (acked > 0) ++st.acked;
      if (resolved > 0) ++st.resolved;
      const std::int64_t response = acked > 0 ? acked : resolved;
      if (response > 0) {
        ++responded;
        ack_sum += static_cast<double>(response - opened) / 60'000.0;
      }
      if (resolved > 0) repair_sum += static_cast<double>(resolved - opened) / 60'000.0;
      if (response > 0 || respond_by < to) {
        ++respond_due;
        if (response > 0 && response <= respond_by) ++respond_ok;
      }
      if (resolved > 0 || repair_by < to) {
        ++repair_due;
        if (resolved > 0 && resolved <= repair_by) ++repair_ok;
      }
    }
    if (responded > 0) st.mtta_min = ack_sum / static_cast<double>(responded);
    if (st.resolved > 0) st.mttr_min = repair_sum / static_cast<double>(st.resolved);
    if (respond_due > 0) st.respond_on_time_rate = 100.0 * static_cast<double>(respond_ok) / static_cast<double>(respond_due);
    if (repair_due > 0) st.repair_on_time_rate = 100.0 * static_cast<double>(repair_ok) / static_cast<double>(repair_due);
    return st;
  }

  std::optional<reports::LicenceRegistry> licence_registry(std::int64_t from, std::int64_t to) override {
    std::lock_guard lock(mu_);
    Txn txn(*conn_, "BEGIN");
    reports::LicenceRegistry reg;
    {
      Query q(*conn_,
              "SELECT id, product, holder, host, contract, source, check_id, state, expiry FROM licences"
              " ORDER BY expiry, id");
      while (q.row()) {
        reg.licences.push_back({q.i64(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), q.text(6),
                                q.text(7), q.i64(8)});
      }
    }
    Query q(*conn_,
            "SELECT e.licence, l.product, l.holder, e.ts, e.event, e.actor FROM licence_events e"
            " JOIN licences l ON l.id = e.licence WHERE e.ts >= ? AND e.ts < ? ORDER BY e.ts, e.id");
    q.bind(from, to);
    while (q.row()) reg.events.push_back({q.i64(0), q.text(1), q.text(2), q.i64(3), q.text(4), q.text(5)});
    return reg;
  }

  std::vector<std::string> plan_notes(const std::string& period_key) override {
    std::vector<std::string> out;
    for (auto& n : notes(period_key)) out.push_back(std::move(n.text));
    return out;
  }

  Expected<std::int64_t> archive(const ArchivedReport& a) override {
    std::lock_guard lock(mu_);
    return insert_archived(a);
  }

  Expected<std::vector<ArchivedReport>> archive_report(std::vector<ArchivedReport> files,
                                                       const ReportMessages& messages) override {
    std::lock_guard lock(mu_);
    Txn txn(*conn_, "BEGIN IMMEDIATE");
    if (!txn.ok()) return conn_->error("cannot begin archiving a report");
    for (auto& f : files) {
      f.report = files.front().id;  // 0 for the first: its own id, set below
      auto id = insert_archived(f);
      if (!id) return Error{id.error()};
      f.id = *id;
      if (f.report == 0) f.report = f.id;
    }
    if (!files.empty()) {
      Query q(*conn_, "UPDATE report_archive SET report = ?1 WHERE id = ?1");
      q.bind(files.front().id);
      if (!q.done()) return conn_->error("cannot archive report " + files.front().path);
    }
    if (messages) {
      auto made = messages(files);
      if (!made) return Error{made.error()};
      for (const auto& m : *made) {
        if (auto r = detail::insert_outbox_message(*conn_, m); !r) return Error{r.error()};
      }
    }
    if (!txn.commit()) return conn_->error("cannot commit the archive of a report and its deliveries");
    return files;
  }

  std::vector<alerts::OutboxMessage> report_deliveries(std::int64_t report) override {
    std::lock_guard lock(mu_);
    Query q(*conn_, "SELECT " XJ_OUTBOX_COLUMNS " FROM outbox WHERE transition = 'report' AND fingerprint = ?"
                    " ORDER BY id");
    q.bind("report:" + std::to_string(report));
    return detail::read_outbox_messages(q);
  }

  std::vector<ArchivedReport> archived(const std::string& period_key, std::size_t limit) override {
    std::lock_guard lock(mu_);
    std::vector<ArchivedReport> out;
    Query q(*conn_,
            "SELECT id, period_key, kind, format, from_ms, to_ms, path, sha256, bytes, created, actor, report"
            " FROM report_archive WHERE ?1 = '' OR period_key = ?1 ORDER BY id DESC LIMIT ?2");
    q.bind(period_key, static_cast<std::int64_t>(limit));
    while (q.row()) out.push_back(archived_row(q));
    return out;
  }

  std::optional<ArchivedReport> archived_report(std::int64_t id) override {
    std::lock_guard lock(mu_);
    Query q(*conn_,
            "SELECT id, period_key, kind, format, from_ms, to_ms, path, sha256, bytes, created, actor, report"
            " FROM report_archive WHERE id = ?");
    q.bind(id);
    if (!q.row()) return std::nullopt;
    return archived_row(q);
  }

  Expected<std::int64_t> add_note(const std::string& period_key, const std::string& text,
                                  const std::string& author, std::int64_t now_ms) override {
    std::lock_guard lock(mu_);
    Query q(*conn_,
            "INSERT INTO report_notes(period_key, text, author, created) VALUES(?, ?, ?, ?) RETURNING id");
    q.bind(period_key, text, author, now_ms);
    if (!q.row()) return conn_->error("cannot store the note for " + period_key);
    return q.i64(0);
  }

  std::vector<PlanNote> notes(const std::string& period_key) override {
    std::lock_guard lock(mu_);
    std::vector<PlanNote> out;
    Query q(*conn_,
            "SELECT id, period_key, text, author, created FROM report_notes WHERE period_key = ? ORDER BY id");
    q.bind(period_key);
    while (q.row()) out.push_back({q.i64(0), q.text(1), q.text(2), q.text(3), q.i64(4)});
    return out;
  }

 private:
  Expected<std::int64_t> insert_archived(const ArchivedReport& a) {
    Query q(*conn_,
            "INSERT INTO report_archive(period_key, kind, format, from_ms, to_ms, path, sha256, bytes,"
            " created, actor, report) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
    q.bind(a.period_key, a.kind, a.format, a.from_ms, a.to_ms, a.path, a.sha256, a.bytes, a.created_ms, a.actor,
           a.report);
    if (!q.row()) return conn_->error("cannot archive report " + a.path);
    return q.i64(0);
  }

  std::mutex mu_;  // one connection: one statement user at a time
  std::unique_ptr<SqliteConn> conn_;
  const detail::TimeZone tz_;
};

}  // namespace

Expected<std::unique_ptr<SqliteReportSource>> open_sqlite_report_source(const std::string& path,
                                                                        const std::string& timezone) {
  auto tz = detail::TimeZone::load(timezone);
  if (!tz) return make_error("reports: " + tz.error());
  auto conn = SqliteConn::open(path, /*reader=*/false, /*durable=*/true);
  if (!conn) return Error{conn.error()};
  {
    Query q(**conn, "SELECT count(*) FROM sqlite_master WHERE name = 'report_archive'");
    if (!q.row() || q.i64(0) == 0) {
      return make_error("collector store " + path + ": no report_archive table (open the store first)");
    }
  }
  return std::unique_ptr<SqliteReportSource>(new Impl(std::move(conn).value(), std::move(tz).value()));
}

}  // namespace xj
