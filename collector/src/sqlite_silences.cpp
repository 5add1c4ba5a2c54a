#include "detail/sqlite_silences.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace xj::detail {

using alerts::Silence;
using json = nlohmann::json;

namespace {

std::string recurrence_json(const Silence& s) {
  if (!s.recurrence) return "";
  const auto& r = *s.recurrence;
  const char* h = r.holidays == alerts::HolidayRule::kSkip ? "skip" : r.holidays == alerts::HolidayRule::kOnly ? "only" : "any";
  return json{{"days", alerts::days_text(r.days)}, {"time", alerts::time_range_text(r.from_min, r.to_min)}, {"holidays", h}}
      .dump();
}

// Rows are written only by insert_silence, so what they hold parses; a row that does not
// (edited by hand) is skipped with an error in the log rather than silencing at random.
std::optional<alerts::Recurrence> recurrence_from(const std::string& text, std::int64_t id) {
  if (text.empty()) return std::nullopt;
  json j = json::parse(text, nullptr, false);
  alerts::Recurrence r;
  auto days = alerts::parse_days(j.value("days", ""));
  auto range = alerts::parse_time_range(j.value("time", ""));
  if (!days || !range) {
    spdlog::error("event=silence_unreadable id={} recurrence=\"{}\"", id, text);
    return std::nullopt;
  }
  r.days = *days;
  r.from_min = range->first;
  r.to_min = range->second;
  const std::string h = j.value("holidays", "any");
  r.holidays = h == "skip" ? alerts::HolidayRule::kSkip : h == "only" ? alerts::HolidayRule::kOnly : alerts::HolidayRule::kAny;
  return r;
}

}  // namespace

Expected<std::int64_t> insert_silence(SqliteConn& conn, const Silence& s) {
  json matchers = json::array();
  for (const auto& m : s.matchers) matchers.push_back(m.str());
  Query q(conn,
          "INSERT INTO silences(maintenance, matchers, starts, ends, recurrence, author, comment, created, ended)"
          " VALUES(?,?,?,?,?,?,?,?,0)");
  q.bind(s.maintenance ? 1 : 0, matchers.dump(), s.starts_ms, s.ends_ms, recurrence_json(s), s.author, s.comment,
         s.created_ms);
  if (!q.done()) return conn.error("cannot store a silence");
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(conn.db()));
}

Expected<bool> mark_silence_ended(SqliteConn& conn, std::int64_t id, std::int64_t at_ms) {
  Query q(conn, "UPDATE silences SET ended = ? WHERE id = ?");
  q.bind(at_ms, id);
  if (!q.done()) return conn.error("cannot end silence " + std::to_string(id));
  return true;
}

std::vector<Silence> read_silences(SqliteConn& conn) {
  Query q(conn,
          "SELECT id, maintenance, matchers, starts, ends, recurrence, author, comment, created, ended"
          " FROM silences ORDER BY id DESC");
  std::vector<Silence> out;
  while (q.row()) {
    Silence s;
    s.id = q.i64(0);
    s.maintenance = q.i64(1) != 0;
    bool readable = true;
    json ms = json::parse(q.text(2), nullptr, false);
    for (const auto& m : ms.is_array() ? ms : json::array()) {
      auto parsed = alerts::parse_matcher(m.is_string() ? m.get<std::string>() : "");
      if (!parsed) {
        readable = false;
        break;
      }
      s.matchers.push_back(std::move(parsed).value());
    }
    s.starts_ms = q.i64(3);
    s.ends_ms = q.i64(4);
    s.recurrence = recurrence_from(q.text(5), s.id);
    if (!q.text(5).empty() && !s.recurrence) readable = false;
    s.author = q.text(6);
    s.comment = q.text(7);
    s.created_ms = q.i64(8);
    s.ended_ms = q.i64(9);
    if (!readable || s.matchers.empty()) {
      spdlog::error("event=silence_unreadable id={}", s.id);
      continue;
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::pair<std::string, std::int64_t>> read_suppressed_firing(SqliteConn& conn) {
  // The key is "<fingerprint>/<since>/firing/<channel>/<recipient>#<part>".
  Query q(conn, "SELECT DISTINCT fingerprint, idem_key FROM outbox WHERE status = 3 AND transition = 'firing'");
  std::vector<std::pair<std::string, std::int64_t>> out;
  while (q.row()) {
    const std::string fp = q.text(0), key = q.text(1);
    if (key.size() <= fp.size() + 1) continue;
    const std::string rest = key.substr(fp.size() + 1);
    try {
      out.emplace_back(fp, std::stoll(rest.substr(0, rest.find('/'))));
    } catch (const std::exception&) {
      continue;  // not an alert's key
    }
  }
  return out;
}

Expected<bool> release_suppressed(SqliteConn& conn, const std::string& fingerprint, std::int64_t since_ms,
                                  std::int64_t now_ms) {
  // Exact prefix, not LIKE: a fingerprint is hex but nothing here should depend on that.
  const std::string prefix = fingerprint + "/" + std::to_string(since_ms) + "/firing/";
  Query q(conn,
          "UPDATE outbox SET status = 0, next_attempt = ?, last_error = '' WHERE status = 3"
          " AND fingerprint = ? AND substr(idem_key, 1, ?) = ?");
  q.bind(now_ms, fingerprint, static_cast<std::int64_t>(prefix.size()), prefix);
  if (!q.done()) return conn.error("cannot release the messages of alert " + fingerprint);
  return true;
}

}  // namespace xj::detail
