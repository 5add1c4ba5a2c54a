// series(): raw points, or hourly / daily buckets. Buckets that maintain() has rolled up come
// from the rollup tables; the rest (the current hour or day, or anything maintain has not
// reached yet) is computed from samples in the same read transaction, so a range that ends
// now includes the unfinished bucket, and no bucket is counted twice.
#include <algorithm>
#include <functional>
#include <map>

#include "detail/sqlite_store_impl.hpp"

namespace xj::detail {
namespace {

// What one series() call reads from: a read connection inside a read transaction.
struct Source {
  SqliteConn& conn;
  const TimeZone& tz;
  LevelState hour, day;
  std::int64_t min_slot = 0, max_slot = -1;  // samples present (none: max < min)

  std::int64_t data_end() const { return (max_slot + 1) * kSlotMs; }

  // Calls `each(ts, value)` for the samples of `sid` with from <= ts <= to, in ts order.
  void raw(std::int64_t sid, std::int64_t from, std::int64_t to,
           const std::function<void(std::int64_t, double)>& each) {
    const std::int64_t last = std::min(to / kSlotMs, max_slot);
    for (std::int64_t slot = std::max(from / kSlotMs, min_slot); slot <= last; ++slot) {
      Query q(conn,
              "SELECT ts, value FROM samples WHERE slot = ? AND sid = ? AND ts >= ? AND ts <= ?"
              " ORDER BY ts, rid");
      q.bind(slot, sid, from, to);
      while (q.row()) each(q.i64(0), q.f64(1));
    }
  }
  Agg raw_agg(std::int64_t sid, std::int64_t start, std::int64_t end) {
    Agg a;
    raw(sid, start, end - 1, [&](std::int64_t ts, double v) { a.add(v, ts); });
    return a;
  }
  // Stored rollup rows of `sid` with bucket in [first, last] that the level has rolled.
  void rolled(bool daily, std::int64_t sid, std::int64_t first, std::int64_t last,
              std::map<std::int64_t, Agg>& out) {
    Query q(conn, daily ? "SELECT bucket, min, max, sum, count, last, last_ts FROM rollup_daily"
                          " WHERE sid = ? AND bucket >= ? AND bucket <= ?"
                        : "SELECT bucket, min, max, sum, count, last, last_ts FROM rollup_hourly"
                          " WHERE sid = ? AND bucket >= ? AND bucket <= ?");
    q.bind(sid, first, last);
    const LevelState& st = daily ? day : hour;
    while (q.row()) {
      if (!st.rolled(q.i64(0), sid)) continue;
      out[q.i64(0)] = Agg{q.f64(1), q.f64(2), q.f64(3), q.f64(5), q.i64(4), q.i64(6)};
    }
  }
  // Hourly buckets overlapping [from, to].
  std::map<std::int64_t, Agg> hourly(std::int64_t sid, std::int64_t from, std::int64_t to) {
    std::map<std::int64_t, Agg> out;
    const std::int64_t first = floor_to(from, kHourMs), last = floor_to(to, kHourMs);
    rolled(false, sid, first, last, out);
    for (std::int64_t h = std::max(first, hour.rolled_to); h <= last && h < data_end();
         h += kHourMs) {
      if (hour.rolled(h, sid)) continue;
      Agg a = raw_agg(sid, h, h + kHourMs);
      if (a.count > 0) out[h] = a;
    }
    return out;
  }
  // Local-day buckets overlapping [from, to].
  std::map<std::int64_t, Agg> daily(std::int64_t sid, std::int64_t from, std::int64_t to) {
    std::map<std::int64_t, Agg> out;
    const std::int64_t first = tz.day_start(from), last = tz.day_start(to);
    rolled(true, sid, first, last, out);
    for (std::int64_t d = std::max(first, day.rolled_to); d <= last && d < data_end();) {
      const std::int64_t next = tz.next_day_start(d);
      if (!day.rolled(d, sid)) {
        Agg a;
        if (d % kHourMs == 0 && next % kHourMs == 0) {
          for (const auto& [h, ha] : hourly(sid, d, next - 1)) a.merge(ha);
        } else {
          a = raw_agg(sid, d, next);
        }
        if (a.count > 0) out[d] = a;
      }
      d = next;
    }
    return out;
  }
};

std::int64_t local_day_number(const TimeZone& tz, std::int64_t utc_ms) {
  return floor_to(utc_ms + tz.offset_ms(utc_ms), kDayMs) / kDayMs;
}

std::int64_t start_of_local_day(const TimeZone& tz, std::int64_t day_number) {
  const std::int64_t local_noon = day_number * kDayMs + 12 * kHourMs;
  return tz.day_start(local_noon - tz.offset_ms(local_noon));
}

std::vector<SeriesPoint> to_points(const std::map<std::int64_t, Agg>& buckets) {
  std::vector<SeriesPoint> out;
  out.reserve(buckets.size());
  for (const auto& [ts, a] : buckets) out.push_back(a.point(ts));
  return out;
}

}  // namespace

std::vector<Series> SqliteStore::series(const SeriesQuery& query) {
  std::vector<Series> out;
  auto conn = readers_.acquire();
  if (!conn) return out;
  Txn txn(*conn, "BEGIN");
  Source src{*conn, tz_, {}, {}};
  {
    Query q(*conn, "SELECT level, rolled_to, partial_sid FROM rollup_state");
    while (q.row()) (q.text(0) == "hour" ? src.hour : src.day) = LevelState{q.i64(1), q.i64(2)};
  }
  {
    Query lo(*conn, "SELECT min(slot) FROM samples");
    Query hi(*conn, "SELECT max(slot) FROM samples");
    if (lo.row() && hi.row() && !lo.null(0)) {
      src.min_slot = lo.i64(0);
      src.max_slot = hi.i64(0);
    }
  }
  const std::string want_labels = labels_json(query.labels);
  Query q(*conn,
          "SELECT s.sid, s.labels, s.unit FROM series s JOIN checks c ON c.cid = s.cid"
          " JOIN hosts h ON h.hid = c.hid"
          " WHERE h.id = ? AND c.check_id = ? AND s.metric = ? ORDER BY s.labels");
  q.bind(query.host, query.check, query.metric);
  const std::int64_t from = std::max<std::int64_t>(query.from_ms, 0), to = query.to_ms;
  const std::int64_t step = std::max<std::int64_t>(query.step_ms, 0);
  while (q.row()) {
    const std::string labels = q.text(1);
    if (!query.labels.empty() && labels != want_labels) continue;
    const std::int64_t sid = q.i64(0);
    Series s{query.host, query.check, query.metric, q.text(2), labels_from_json(labels), "raw", {}};
    if (from <= to && step == 0) {
      src.raw(sid, from, to, [&](std::int64_t ts, double v) {
        s.points.push_back(SeriesPoint{ts, v, v, v, v, 1});
      });
    } else if (from <= to && step < kHourMs) {
      std::map<std::int64_t, Agg> groups;
      src.raw(sid, from, to, [&](std::int64_t ts, double v) {
        groups[from + (ts - from) / step * step].add(v, ts);
      });
      s.points = to_points(groups);
    } else if (from <= to && step < kDayMs) {
      s.source = "hourly";
      const std::int64_t first = floor_to(from, kHourMs), width = step / kHourMs * kHourMs;
      std::map<std::int64_t, Agg> groups;
      for (const auto& [h, a] : src.hourly(sid, from, to)) {
        groups[first + (h - first) / width * width].merge(a);
      }
      s.points = to_points(groups);
    } else if (from <= to) {
      s.source = "daily";
      const std::int64_t days = step / kDayMs;
      const std::int64_t first = local_day_number(tz_, tz_.day_start(from));
      std::map<std::int64_t, Agg> groups;  // by group number
      for (const auto& [d, a] : src.daily(sid, from, to)) {
        groups[(local_day_number(tz_, d) - first) / days].merge(a);
      }
      for (const auto& [g, a] : groups) {
        s.points.push_back(a.point(start_of_local_day(tz_, first + g * days)));
      }
    } else {
      s.source = step == 0 || step < kHourMs ? "raw" : step < kDayMs ? "hourly" : "daily";
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace xj::detail
