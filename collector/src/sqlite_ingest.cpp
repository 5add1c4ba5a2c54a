// Ingest: group commit of concurrent batches, and what one batch writes.
//
// Ordering: within a batch, results are applied in ts order (stable). A check's current state
// only moves forward: a result older than the check's newest applied result (a backfill that
// arrives after newer results) is kept as raw history — body, samples, rollups — but does not
// change the current state, make a status change or count time in a status. Status changes
// are therefore appended in ts order per check and never inserted into the past.
#include <algorithm>
#include <cmath>

#include "detail/sqlite_store_impl.hpp"

namespace xj::detail {
namespace {

// Bounds one transaction: enough batches to amortise an fsync, few enough results that the
// commit stays short and one bad batch's rollback is cheap.
constexpr std::size_t kMaxGroupBatches = 256;
constexpr std::size_t kMaxGroupResults = 20'000;

template <typename Map>
auto find3(const typename Map::key_type& key, const Map& a, const Map& b, const Map& c)
    -> const typename Map::mapped_type* {
  for (const Map* m : {&a, &b, &c}) {
    if (auto it = m->find(key); it != m->end()) return &it->second;
  }
  return nullptr;
}

std::string metrics_json(const std::vector<Metric>& metrics) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& m : metrics) arr.push_back(to_json(m));
  return arr.dump();
}

}  // namespace

Expected<IngestOutcome> SqliteStore::ingest(const IngestBatch& batch) {
  Request req{&batch, std::nullopt};
  {
    std::lock_guard q(queue_mu_);
    queue_.push_back(&req);
  }
  // Whoever holds the writer runs everything queued so far; a thread that gets the lock
  // after its batch was committed by another just returns the outcome.
  std::lock_guard w(write_mu_);
  while (!req.outcome) {
    std::vector<Request*> group;
    {
      std::lock_guard q(queue_mu_);
      std::size_t results = 0;
      while (!queue_.empty() && group.size() < kMaxGroupBatches &&
             (group.empty() || results + queue_.front()->batch->results.size() <= kMaxGroupResults)) {
        results += queue_.front()->batch->results.size();
        group.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    run_group(group);
  }
  return std::move(*req.outcome);
}

void SqliteStore::run_group(const std::vector<Request*>& group) {
  std::vector<std::optional<IngestOutcome>> done(group.size());
  auto fail_pending = [&](const Error& e) {
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (!group[i]->outcome) group[i]->outcome = e;
    }
  };
  auto uses = take_token_uses();
  Txn txn(*writer_, "BEGIN IMMEDIATE");
  if (!txn.ok()) {
    restore_token_uses(uses);
    return fail_pending(writer_->error("cannot begin a transaction"));
  }
  if (auto r = write_token_uses(uses); !r) {
    restore_token_uses(uses);
    return fail_pending(Error{r.error()});
  }
  IngestCache group_delta;
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (!writer_->exec("SAVEPOINT batch")) {
      restore_token_uses(uses);
      return fail_pending(writer_->error("cannot start a savepoint"));
    }
    IngestCache batch_delta;
    BatchWork work{batch_delta, group_delta, 0, {}, {}, {}};
    auto out = run_batch(*group[i]->batch, work);
    if (out) {
      writer_->exec("RELEASE batch");
      group_delta.merge_from(std::move(batch_delta));
      done[i] = *out;
      continue;
    }
    group[i]->outcome = Error{out.error()};
    if (sqlite3_get_autocommit(writer_->db()) != 0) {
      // SQLite rolled the whole transaction back (I/O error, disk full): nothing of this
      // group is stored; the agents will send again.
      restore_token_uses(uses);
      return fail_pending(make_error("not stored: the transaction was rolled back after " +
                                     out.error()));
    }
    writer_->exec("ROLLBACK TO batch");
    writer_->exec("RELEASE batch");
  }
  if (!txn.commit()) {
    restore_token_uses(uses);
    return fail_pending(writer_->error("cannot commit the batch"));
  }
  cache_.merge_from(std::move(group_delta));
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (done[i]) group[i]->outcome = *done[i];
  }
}

Expected<std::int64_t> SqliteStore::upsert_host(const IngestBatch& b, std::int64_t received) {
  const std::string labels = labels_json(b.agent.labels);
  // Collector-made batches (contact == false) neither count as contact nor overwrite what
  // the agent said about itself.
  Query q(*writer_,
          b.contact ? "INSERT INTO hosts(id, hostname, version, labels, first_seen, last_contact)"
                      " VALUES(?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT(id) DO UPDATE SET"
                      " hostname=excluded.hostname, version=excluded.version,"
                      " labels=excluded.labels, last_contact=max(last_contact, excluded.last_contact)"
                      " RETURNING hid"
                    : "INSERT INTO hosts(id, hostname, version, labels, first_seen, last_contact)"
                      " VALUES(?1, ?2, ?3, ?4, ?5, 0) ON CONFLICT(id) DO UPDATE SET id=id"
                      " RETURNING hid");
  q.bind(b.agent.id, b.agent.hostname, b.agent.version, labels, received);
  if (!q.row()) return writer_->error("cannot record host '" + b.agent.id + "'");
  std::int64_t hid = q.i64(0);
  if (q.step() != SQLITE_DONE) return writer_->error("cannot record host '" + b.agent.id + "'");
  return hid;
}

Expected<IngestOutcome> SqliteStore::run_batch(const IngestBatch& b, BatchWork& w) {
  if (b.agent.id.empty()) return make_error("field 'agent.id' is empty");
  const std::int64_t received = b.received_ms != 0 ? b.received_ms : now();
  auto hid = upsert_host(b, received);
  if (!hid) return Error{hid.error()};
  w.hid = *hid;

  IngestOutcome out;
  static const SeqRanges kNone;
  const SeqRanges* before = find3(w.hid, w.batch.seqs, w.group.seqs, cache_.seqs);
  SeqRanges* after = nullptr;  // this batch's copy, made on the first new seq
  std::int64_t max_seq = 0;
  std::vector<std::size_t> fresh;
  for (std::size_t i = 0; i < b.results.size(); ++i) {
    const std::int64_t seq = b.results[i].seq;
    if (seq < 0) {
      return make_error("results[" + std::to_string(i) + "]: field 'seq' is negative (" +
                        std::to_string(seq) + ")");
    }
    if (seq > 0) {  // seq 0: collector-made, never a duplicate
      max_seq = std::max(max_seq, seq);
      if ((after != nullptr ? *after : before != nullptr ? *before : kNone).contains(seq)) {
        ++out.duplicates;
        continue;
      }
      if (after == nullptr) {
        after = &w.batch.seqs[w.hid];
        if (before != nullptr) *after = *before;
      }
      after->insert(seq);
    }
    fresh.push_back(i);
  }
  std::stable_sort(fresh.begin(), fresh.end(), [&](std::size_t x, std::size_t y) {
    return b.results[x].result.ts_ms < b.results[y].result.ts_ms;
  });
  for (std::size_t i : fresh) {
    if (auto r = store_result(w, i, b.results[i], received); !r) return Error{r.error()};
  }
  if (auto r = flush_batch(w); !r) return Error{r.error()};

  for (std::size_t i = 0; i < b.gaps.size(); ++i) {
    const GapRecord& g = b.gaps[i];
    if (g.from_seq < 1 || g.to_seq < g.from_seq || g.count < 0) {
      return make_error("gaps[" + std::to_string(i) + "]: seq range " +
                        std::to_string(g.from_seq) + ".." + std::to_string(g.to_seq) +
                        " with count " + std::to_string(g.count) + " is not a valid gap");
    }
    Query q(*writer_,
            "INSERT INTO gaps(hid, from_seq, to_seq, count, from_ts, to_ts, received)"
            " VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(hid, from_seq) DO NOTHING");
    if (!q.bind(w.hid, g.from_seq, g.to_seq, g.count, g.from_ts, g.to_ts, received).done()) {
      return writer_->error("cannot store gaps[" + std::to_string(i) + "]");
    }
  }
  if (after != nullptr) {
    if (auto r = persist_seqs(w.hid, before, *after); !r) return Error{r.error()};
  }
  out.accepted = fresh.size();
  // A heartbeat (or only collector-made results) acknowledges what is stored already.
  out.ack_seq = max_seq > 0 ? max_seq
                            : (after != nullptr ? after->max() : before ? before->max() : 0);
  return out;
}

Expected<bool> SqliteStore::store_result(BatchWork& w, std::size_t index, const SpooledResult& sr,
                                         std::int64_t received) {
  const Result& r = sr.result;
  auto where = [&] {
    return "results[" + std::to_string(index) + "] (seq " + std::to_string(sr.seq) + ")";
  };
  if (r.check.empty()) return make_error(where() + ": field 'check' is empty");
  const int code = static_cast<int>(r.status);
  if (code < 0 || code > 3) return make_error(where() + ": field 'status' is not a status");
  if (r.ts_ms <= 0) {
    return make_error(where() + ": field 'ts' must be a positive epoch ms, got " +
                      std::to_string(r.ts_ms));
  }
  const std::string key = check_key(w.hid, r.check);
  CheckState* st = nullptr;
  bool first = false;
  if (auto it = w.batch.checks.find(key); it != w.batch.checks.end()) {
    st = &it->second;
  } else if (const CheckState* known = find3(key, w.batch.checks, w.group.checks, cache_.checks)) {
    st = &(w.batch.checks[key] = *known);
  } else {
    Query ins(*writer_,
              "INSERT INTO checks(hid, check_id, kind, status, summary, since, last_ts, metrics)"
              " VALUES(?, ?, ?, ?, ?, ?, ?, ?) RETURNING cid");
    ins.bind(w.hid, r.check, r.kind, code, r.summary, r.ts_ms, r.ts_ms, metrics_json(r.metrics));
    if (!ins.row()) return writer_->error(where() + ": cannot record check '" + r.check + "'");
    st = &(w.batch.checks[key] = CheckState{ins.i64(0), r.status, r.ts_ms, r.ts_ms});
    if (ins.step() != SQLITE_DONE) return writer_->error(where() + ": cannot record the check");
    first = true;
  }

  const std::string body = to_json(r).dump();
  {
    Query ins(*writer_,
              "INSERT INTO results(hid, cid, seq, ts, received, status, body)"
              " VALUES(?, ?, ?, ?, ?, ?, ?)");
    ins.bind(w.hid, st->cid, sr.seq, r.ts_ms, received, code).bind_static(7, body);
    if (!ins.done()) return writer_->error(where() + ": cannot store the result");
  }
  const std::int64_t rid = sqlite3_last_insert_rowid(writer_->db());

  for (const Metric& m : r.metrics) {
    if (!std::isfinite(m.value)) continue;  // "could not measure": no point to plot
    auto sid = series_id(w, st->cid, m);
    if (!sid) return Error{sid.error()};
    Query ins(*writer_,
              "INSERT INTO samples(slot, sid, ts, rid, value) VALUES(?, ?, ?, ?, ?)"
              " ON CONFLICT DO NOTHING");
    if (!ins.bind(r.ts_ms / kSlotMs, *sid, r.ts_ms, rid, m.value).done()) {
      return writer_->error(where() + ": cannot store metric '" + m.name + "'");
    }
    // A metric listed twice in one result keeps its first value; only a new sample counts.
    if (sqlite3_changes(writer_->db()) == 0) continue;
    // A sample for a bucket that maintain() already rolled up goes into the rollup now.
    Agg one;
    one.add(m.value, r.ts_ms);
    const std::int64_t hour = floor_to(r.ts_ms, kHourMs);
    if (hour_.rolled(hour, *sid)) {
      if (auto u = merge_rollup(false, hour, *sid, one); !u) return u;
    }
    if (r.ts_ms < day_.rolled_to + 2 * kDayMs) {
      const std::int64_t day = tz_.day_start(r.ts_ms);
      if (day_.rolled(day, *sid)) {
        if (auto u = merge_rollup(true, day, *sid, one); !u) return u;
      }
    }
  }

  if (first) {
    Query ins(*writer_,
              "INSERT INTO status_changes(cid, ts, from_status, to_status, summary)"
              " VALUES(?, ?, NULL, ?, ?)");
    if (!ins.bind(st->cid, r.ts_ms, code, r.summary).done()) {
      return writer_->error(where() + ": cannot record the status change");
    }
    return true;
  }
  if (r.ts_ms < st->last_ts) return true;  // late: history only
  add_status_time(w, st->cid, st->status, st->last_ts,
                  std::min(r.ts_ms, st->last_ts + opt_.status_span_cap_ms));
  if (r.status != st->status) {
    Query ins(*writer_,
              "INSERT INTO status_changes(cid, ts, from_status, to_status, summary)"
              " VALUES(?, ?, ?, ?, ?)");
    if (!ins.bind(st->cid, r.ts_ms, static_cast<int>(st->status), code, r.summary).done()) {
      return writer_->error(where() + ": cannot record the status change");
    }
    st->status = r.status;
    st->since = r.ts_ms;
  }
  st->last_ts = r.ts_ms;
  w.dirty[st->cid] = &r;
  w.dirty_state[st->cid] = st;
  return true;
}

Expected<std::int64_t> SqliteStore::series_id(BatchWork& w, std::int64_t cid, const Metric& m) {
  const std::string labels = labels_json(m.labels);
  const std::string key = series_key(cid, m.name, labels);
  if (const SeriesRef* ref = find3(key, w.batch.series, w.group.series, cache_.series)) {
    if (ref->unit == m.unit) return ref->sid;
    const std::int64_t sid = ref->sid;
    Query up(*writer_, "UPDATE series SET unit=? WHERE sid=?");
    if (!up.bind(m.unit, sid).done()) return writer_->error("cannot update a series' unit");
    w.batch.series[key] = SeriesRef{sid, m.unit};
    return sid;
  }
  Query ins(*writer_, "INSERT INTO series(cid, metric, labels, unit) VALUES(?, ?, ?, ?) RETURNING sid");
  ins.bind(cid, m.name, labels, m.unit);
  if (!ins.row()) return writer_->error("cannot record series '" + m.name + "'");
  const std::int64_t sid = ins.i64(0);
  if (ins.step() != SQLITE_DONE) return writer_->error("cannot record series '" + m.name + "'");
  w.batch.series[key] = SeriesRef{sid, m.unit};
  return sid;
}

void SqliteStore::add_status_time(BatchWork& w, std::int64_t cid, Status s, std::int64_t from,
                                  std::int64_t to) {
  const auto col = static_cast<std::size_t>(s);
  for (std::int64_t h = floor_to(from, kHourMs); h < to; h += kHourMs) {
    w.status_ms[{0, h, cid}][col] += std::min(to, h + kHourMs) - std::max(from, h);
  }
  for (std::int64_t d = tz_.day_start(from); d < to;) {
    const std::int64_t next = tz_.next_day_start(d);
    w.status_ms[{1, d, cid}][col] += std::min(to, next) - std::max(from, d);
    d = next;
  }
}

Expected<bool> SqliteStore::flush_batch(BatchWork& w) {
  for (const auto& [cid, r] : w.dirty) {
    const CheckState& st = *w.dirty_state.at(cid);
    Query up(*writer_,
             "UPDATE checks SET kind=?, status=?, summary=?, since=?, last_ts=?, metrics=?"
             " WHERE cid=?");
    up.bind(r->kind, static_cast<int>(st.status), r->summary, st.since, st.last_ts,
            metrics_json(r->metrics), cid);
    if (!up.done()) return writer_->error("cannot update the state of check '" + r->check + "'");
  }
  for (const auto& [key, ms] : w.status_ms) {
    const auto& [daily, bucket, cid] = key;
    Query up(*writer_,
             daily != 0
                 ? "INSERT INTO status_daily(bucket, cid, ok_ms, warning_ms, critical_ms, unknown_ms)"
                   " VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(bucket, cid) DO UPDATE SET"
                   " ok_ms=ok_ms+excluded.ok_ms, warning_ms=warning_ms+excluded.warning_ms,"
                   " critical_ms=critical_ms+excluded.critical_ms,"
                   " unknown_ms=unknown_ms+excluded.unknown_ms"
                 : "INSERT INTO status_hourly(bucket, cid, ok_ms, warning_ms, critical_ms, unknown_ms)"
                   " VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(bucket, cid) DO UPDATE SET"
                   " ok_ms=ok_ms+excluded.ok_ms, warning_ms=warning_ms+excluded.warning_ms,"
                   " critical_ms=critical_ms+excluded.critical_ms,"
                   " unknown_ms=unknown_ms+excluded.unknown_ms");
    if (!up.bind(bucket, cid, ms[0], ms[1], ms[2], ms[3]).done()) {
      return writer_->error("cannot add time in status");
    }
  }
  return true;
}

Expected<bool> SqliteStore::persist_seqs(std::int64_t hid, const SeqRanges* before,
                                         const SeqRanges& after) {
  static const SeqRanges kNone;
  const auto& old_ranges = (before != nullptr ? *before : kNone).ranges();
  for (const auto& [lo, hi] : old_ranges) {
    auto it = after.ranges().find(lo);
    if (it != after.ranges().end() && it->second == hi) continue;
    Query del(*writer_, "DELETE FROM agent_seqs WHERE hid=? AND lo=?");
    if (!del.bind(hid, lo).done()) return writer_->error("cannot update the stored seqs");
  }
  for (const auto& [lo, hi] : after.ranges()) {
    auto it = old_ranges.find(lo);
    if (it != old_ranges.end() && it->second == hi) continue;
    Query ins(*writer_, "INSERT OR REPLACE INTO agent_seqs(hid, lo, hi) VALUES(?, ?, ?)");
    if (!ins.bind(hid, lo, hi).done()) return writer_->error("cannot update the stored seqs");
  }
  return true;
}

}  // namespace xj::detail
