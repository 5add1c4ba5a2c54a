// Reads of the current state: hosts, checks, status changes, gaps. Each runs on a pooled read
// connection inside one read transaction, so it sees one committed state and never waits for
// ingest.
#include <spdlog/spdlog.h>

#include "detail/sqlite_store_impl.hpp"

namespace xj::detail {
namespace {

std::vector<Metric> metrics_from_json(const std::string& text) {
  auto arr = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!arr.is_array()) return {};
  // The strict wire parser, so stored metrics read back exactly as the agent sent them.
  nlohmann::json wrapper{{"check", "x"}, {"kind", ""}, {"status", "ok"}, {"ts", 1},
                         {"metrics", std::move(arr)}};
  auto r = result_from_json(wrapper);
  return r ? std::move(r).value().metrics : std::vector<Metric>{};
}

std::vector<HostRow> read_hosts(ReaderPool& pool, const std::string& id) {
  std::vector<HostRow> out;
  auto conn = pool.acquire();
  if (!conn) return out;
  Txn txn(*conn, "BEGIN");
  Query q(*conn,
          "SELECT h.id, h.hostname, h.version, h.labels, h.first_seen, h.last_contact,"
          " coalesce(c.ok, 0), coalesce(c.warning, 0), coalesce(c.critical, 0),"
          " coalesce(c.unknown, 0)"
          " FROM hosts h LEFT JOIN (SELECT hid, sum(status = 0) AS ok, sum(status = 1) AS warning,"
          "   sum(status = 2) AS critical, sum(status = 3) AS unknown FROM checks"
          "   WHERE ?1 = '' OR hid = (SELECT hid FROM hosts WHERE id = ?1) GROUP BY hid) c"
          " ON c.hid = h.hid WHERE ?1 = '' OR h.id = ?1 ORDER BY h.id");
  q.bind(id);
  while (q.row()) {
    HostRow h;
    h.agent = AgentInfo{q.text(0), q.text(1), q.text(2), labels_from_json(q.text(3))};
    h.first_seen_ms = q.i64(4);
    h.last_contact_ms = q.i64(5);
    h.checks_ok = static_cast<std::size_t>(q.i64(6));
    h.checks_warning = static_cast<std::size_t>(q.i64(7));
    h.checks_critical = static_cast<std::size_t>(q.i64(8));
    h.checks_unknown = static_cast<std::size_t>(q.i64(9));
    h.worst = h.checks_critical > 0  ? Status::kCritical
              : h.checks_unknown > 0 ? Status::kUnknown
              : h.checks_warning > 0 ? Status::kWarning
                                     : Status::kOk;
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace

std::vector<HostRow> SqliteStore::hosts() { return read_hosts(readers_, ""); }

std::optional<HostRow> SqliteStore::host(const std::string& id) {
  if (id.empty()) return std::nullopt;
  auto rows = read_hosts(readers_, id);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

std::vector<CheckRow> SqliteStore::checks(const CheckFilter& filter) {
  std::vector<CheckRow> out;
  auto conn = readers_.acquire();
  if (!conn) return out;
  Txn txn(*conn, "BEGIN");
  Query q(*conn,
          "SELECT h.id, c.check_id, c.kind, c.status, c.summary, c.since, c.last_ts, c.metrics"
          " FROM checks c JOIN hosts h ON h.hid = c.hid"
          " WHERE (?1 < 0 OR c.status = ?1) AND (?2 = '' OR h.id = ?2) AND (?3 = '' OR c.kind = ?3)"
          " ORDER BY h.id, c.check_id");
  q.bind(filter.status ? static_cast<int>(*filter.status) : -1, filter.host, filter.kind);
  while (q.row()) {
    CheckRow c;
    c.host = q.text(0);
    c.check = q.text(1);
    c.kind = q.text(2);
    c.status = status_from_code(static_cast<int>(q.i64(3)));
    c.summary = q.text(4);
    c.since_ms = q.i64(5);
    c.last_ts_ms = q.i64(6);
    c.metrics = metrics_from_json(q.text(7));
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<StatusChange> SqliteStore::status_changes(const std::string& host,
                                                      std::int64_t from_ms, std::int64_t to_ms) {
  std::vector<StatusChange> out;
  auto conn = readers_.acquire();
  if (!conn) return out;
  Txn txn(*conn, "BEGIN");
  Query q(*conn,
          "SELECT h.id, c.check_id, s.from_status, s.to_status, s.ts, s.summary"
          " FROM status_changes s JOIN checks c ON c.cid = s.cid JOIN hosts h ON h.hid = c.hid"
          " WHERE s.ts >= ?2 AND s.ts <= ?3 AND (?1 = '' OR h.id = ?1) ORDER BY s.ts, s.id");
  q.bind(host, from_ms, to_ms);
  while (q.row()) {
    StatusChange c;
    c.host = q.text(0);
    c.check = q.text(1);
    c.first = q.null(2);
    if (!c.first) c.from = status_from_code(static_cast<int>(q.i64(2)));
    c.to = status_from_code(static_cast<int>(q.i64(3)));
    c.ts_ms = q.i64(4);
    c.summary = q.text(5);
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<GapRecord> SqliteStore::gaps(const std::string& host) {
  std::vector<GapRecord> out;
  auto conn = readers_.acquire();
  if (!conn) return out;
  Txn txn(*conn, "BEGIN");
  Query q(*conn,
          "SELECT from_seq, to_seq, count, from_ts, to_ts FROM gaps"
          " WHERE hid = (SELECT hid FROM hosts WHERE id = ?) ORDER BY from_seq");
  q.bind(host);
  while (q.row()) out.push_back(GapRecord{q.i64(0), q.i64(1), q.i64(2), q.i64(3), q.i64(4)});
  return out;
}

}  // namespace xj::detail
