// The licence registry over SQLite: rows in `licences`, lifecycle events in `licence_events`,
// and for every event an entry of the SM3 audit chain, all in one transaction.
#include "detail/sqlite_store_impl.hpp"

namespace xj {

std::string_view to_string(LicenceState s) {
  switch (s) {
    case LicenceState::kApplied: return "applied";
    case LicenceState::kActive: return "active";
    case LicenceState::kRevoked: return "revoked";
  }
  return "active";
}

std::optional<LicenceState> parse_licence_state(std::string_view s) {
  if (s == "applied") return LicenceState::kApplied;
  if (s == "active") return LicenceState::kActive;
  if (s == "revoked") return LicenceState::kRevoked;
  return std::nullopt;
}

std::string_view to_string(LicenceEventKind e) {
  switch (e) {
    case LicenceEventKind::kApplied: return "applied";
    case LicenceEventKind::kActivated: return "activated";
    case LicenceEventKind::kRenewed: return "renewed";
    case LicenceEventKind::kRevoked: return "revoked";
    case LicenceEventKind::kSeen: return "seen";
  }
  return "seen";
}

std::string_view chinese_name(LicenceEventKind e) {
  switch (e) {
    case LicenceEventKind::kApplied: return "申请";
    case LicenceEventKind::kActivated: return "激活";
    case LicenceEventKind::kRenewed: return "续期";
    case LicenceEventKind::kRevoked: return "注销";
    case LicenceEventKind::kSeen: return "检查发现";
  }
  return "";
}

namespace {
std::optional<LicenceEventKind> parse_event(std::string_view s) {
  for (auto e : {LicenceEventKind::kApplied, LicenceEventKind::kActivated, LicenceEventKind::kRenewed,
                 LicenceEventKind::kRevoked, LicenceEventKind::kSeen}) {
    if (to_string(e) == s) return e;
  }
  return std::nullopt;
}
}  // namespace

}  // namespace xj

namespace xj::detail {
namespace {

// One column list for every read, in the order licence_row takes them (a literal, so each
// statement below is still a literal the connection caches by address).
#define XJ_SELECT_LICENCES \
  "SELECT id, product, holder, host, expiry, contract, source, check_id, state, created, updated FROM licences"

LicenceRow licence_row(Query& q) {
  LicenceRow l;
  l.id = q.i64(0);
  l.product = q.text(1);
  l.holder = q.text(2);
  l.host = q.text(3);
  l.expiry_ms = q.i64(4);
  l.contract = q.text(5);
  l.source = q.text(6);
  l.check = q.text(7);
  l.state = parse_licence_state(q.text(8)).value_or(LicenceState::kActive);
  l.created_ms = q.i64(9);
  l.updated_ms = q.i64(10);
  return l;
}

LicenceError store_error(const Error& e) { return LicenceError{LicenceError::kStore, "", e.message}; }

nlohmann::json licence_json(const LicenceRow& l) {
  return {{"product", l.product}, {"holder", l.holder}, {"host", l.host}, {"expiry", l.expiry_ms},
          {"contract", l.contract}, {"source", l.source}, {"state", std::string(to_string(l.state))}};
}

}  // namespace

Expected<LicenceEvent> SqliteStore::append_licence_event(const LicenceRow& after, LicenceEventKind event,
                                                         const std::string& actor, nlohmann::json detail) {
  detail["licence"] = after.id;
  detail["event"] = std::string(to_string(event));
  detail["event_zh"] = std::string(chinese_name(event));
  detail["product"] = after.product;
  const std::string text = detail.dump();
  auto audit = append_audit(actor, "licence." + std::string(to_string(event)), "licence:" + std::to_string(after.id),
                            text);
  if (!audit) return Error{audit.error()};
  LicenceEvent ev{0, after.id, audit->ts_ms, event, actor, text, audit->id};
  Query q(*writer_,
          "INSERT INTO licence_events(licence, ts, event, actor, detail, audit_id) VALUES(?, ?, ?, ?, ?, ?)");
  if (!q.bind(ev.licence, ev.ts_ms, std::string(to_string(event)), actor, text, ev.audit_id).done()) {
    return writer_->error("cannot record the licence event");
  }
  ev.id = sqlite3_last_insert_rowid(writer_->db());
  return ev;
}

Expected<LicenceRow, LicenceError> SqliteStore::add_licence(const LicenceRow& in, const std::string& actor) {
  std::lock_guard lock(write_mu_);
  Txn txn(*writer_, "BEGIN IMMEDIATE");
  if (!txn.ok()) return store_error(writer_->error("cannot begin"));
  LicenceRow l = in;
  l.created_ms = l.updated_ms = now();
  if (l.state == LicenceState::kRevoked) {
    return LicenceError{LicenceError::kInvalid, "state", "a new licence is applied or active, not revoked"};
  }
  Query q(*writer_,
          "INSERT INTO licences(product, holder, host, expiry, contract, source, check_id, state, created,"
          " updated) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!q.bind(l.product, l.holder, l.host, l.expiry_ms, l.contract, l.source, l.check,
              std::string(to_string(l.state)), l.created_ms, l.updated_ms)
           .done()) {
    return store_error(writer_->error("cannot store the licence of '" + l.product + "'"));
  }
  l.id = sqlite3_last_insert_rowid(writer_->db());
  auto ev = append_licence_event(
      l, l.state == LicenceState::kApplied ? LicenceEventKind::kApplied : LicenceEventKind::kActivated, actor,
      licence_json(l));
  if (!ev) return store_error(Error{ev.error()});
  if (!txn.commit()) return store_error(writer_->error("cannot commit the licence of '" + l.product + "'"));
  return l;
}

Expected<LicenceRow, LicenceError> SqliteStore::change_licence(std::int64_t id, LicenceEventKind event,
                                                               const LicenceUpdate& update,
                                                               const std::string& actor) {
  std::lock_guard lock(write_mu_);
  Txn txn(*writer_, "BEGIN IMMEDIATE");
  if (!txn.ok()) return store_error(writer_->error("cannot begin"));
  std::optional<LicenceRow> found;
  {
    Query q(*writer_, XJ_SELECT_LICENCES " WHERE id = ?");
    if (q.bind(id).row()) found = licence_row(q);
  }
  const std::string name = "licence " + std::to_string(id);
  if (!found) return LicenceError{LicenceError::kNotFound, "", "no " + name};
  LicenceRow l = *found;
  if (l.state == LicenceState::kRevoked) {
    return LicenceError{LicenceError::kConflict, "", name + " (" + l.product + ") is revoked; add a new one"};
  }
  nlohmann::json detail = nlohmann::json::object();
  switch (event) {
    case LicenceEventKind::kActivated:
      if (l.state != LicenceState::kApplied) {
        return LicenceError{LicenceError::kConflict, "", name + " is already active"};
      }
      l.state = LicenceState::kActive;
      break;
    case LicenceEventKind::kRenewed:
      if (!update.expiry_ms) return LicenceError{LicenceError::kInvalid, "expiry", "renewing needs the new expiry"};
      if (*update.expiry_ms <= l.expiry_ms) {
        return LicenceError{LicenceError::kInvalid, "expiry",
                            "the new expiry must be later than the current one (" +
                                std::to_string(l.expiry_ms) + " ms)"};
      }
      detail["from_expiry"] = l.expiry_ms;
      detail["expiry"] = *update.expiry_ms;
      l.expiry_ms = *update.expiry_ms;
      if (!update.contract.empty()) {
        detail["from_contract"] = l.contract;
        detail["contract"] = update.contract;
        l.contract = update.contract;
      }
      break;
    case LicenceEventKind::kRevoked:
      l.state = LicenceState::kRevoked;
      break;
    default:
      return LicenceError{LicenceError::kInvalid, "event",
                          "'" + std::string(to_string(event)) + "' is not an operator's change"};
  }
  if (!update.note.empty()) detail["note"] = update.note;
  detail["state"] = std::string(to_string(l.state));
  l.updated_ms = now();
  {
    Query q(*writer_, "UPDATE licences SET expiry = ?, contract = ?, state = ?, updated = ? WHERE id = ?");
    if (!q.bind(l.expiry_ms, l.contract, std::string(to_string(l.state)), l.updated_ms, l.id).done()) {
      return store_error(writer_->error("cannot update " + name));
    }
  }
  auto ev = append_licence_event(l, event, actor, std::move(detail));
  if (!ev) return store_error(Error{ev.error()});
  if (!txn.commit()) return store_error(writer_->error("cannot commit the change of " + name));
  return l;
}

Expected<std::optional<LicenceRow>> SqliteStore::note_seen_licence(const SeenLicence& seen) {
  std::lock_guard lock(write_mu_);
  Txn txn(*writer_, "BEGIN IMMEDIATE");
  if (!txn.ok()) return writer_->error("cannot begin");
  std::optional<LicenceRow> found;
  {
    Query q(*writer_, XJ_SELECT_LICENCES " WHERE source = 'check' AND host = ? AND check_id = ?");
    if (q.bind(seen.host, seen.check).row()) found = licence_row(q);
  }
  const std::string actor = "agent:" + seen.host;
  LicenceRow l;
  if (!found) {
    l.product = seen.product;
    l.host = seen.host;
    l.check = seen.check;
    l.source = "check";
    l.expiry_ms = seen.expiry_ms;
    l.state = LicenceState::kActive;
    l.created_ms = l.updated_ms = now();
    Query q(*writer_,
            "INSERT INTO licences(product, holder, host, expiry, contract, source, check_id, state, created,"
            " updated) VALUES(?, '', ?, ?, '', 'check', ?, 'active', ?, ?)");
    if (!q.bind(l.product, l.host, l.expiry_ms, l.check, l.created_ms, l.updated_ms).done()) {
      return writer_->error("cannot store the licence seen by " + seen.host + " " + seen.check);
    }
    l.id = sqlite3_last_insert_rowid(writer_->db());
    auto ev = append_licence_event(l, LicenceEventKind::kSeen, actor,
                                   {{"check", seen.check}, {"host", seen.host}, {"expiry", l.expiry_ms}});
    if (!ev) return Error{ev.error()};
  } else {
    l = *found;
    // A revoked licence stays revoked whatever a check still finds on the box.
    if (l.state == LicenceState::kRevoked ||
        (l.expiry_ms == seen.expiry_ms && (seen.product.empty() || l.product == seen.product))) {
      return std::optional<LicenceRow>{};
    }
    nlohmann::json detail = {{"check", seen.check}, {"host", seen.host}};
    LicenceEventKind event = LicenceEventKind::kSeen;
    if (l.expiry_ms != seen.expiry_ms) {
      // The file a check reads was replaced: a later date is a renewal done on the box.
      event = seen.expiry_ms > l.expiry_ms ? LicenceEventKind::kRenewed : LicenceEventKind::kSeen;
      detail["from_expiry"] = l.expiry_ms;
      detail["expiry"] = seen.expiry_ms;
    }
    if (!seen.product.empty() && seen.product != l.product) {
      detail["from_product"] = l.product;
      l.product = seen.product;
    }
    l.expiry_ms = seen.expiry_ms;
    l.updated_ms = now();
    Query q(*writer_, "UPDATE licences SET expiry = ?, product = ?, updated = ? WHERE id = ?");
    if (!q.bind(l.expiry_ms, l.product, l.updated_ms, l.id).done()) {
      return writer_->error("cannot update licence " + std::to_string(l.id));
    }
    auto ev = append_licence_event(l, event, actor, std::move(detail));
    if (!ev) return Error{ev.error()};
  }
  if (!txn.commit()) return writer_->error("cannot commit the licence seen by " + seen.host);
  return std::optional<LicenceRow>{l};
}

std::vector<LicenceRow> SqliteStore::licences() {
  std::vector<LicenceRow> out;
  auto conn = readers_.acquire();
  if (!conn) return out;
  Query q(*conn, XJ_SELECT_LICENCES " ORDER BY state = 'revoked', expiry, id");
  while (q.row()) out.push_back(licence_row(q));
  return out;
}

std::optional<LicenceRow> SqliteStore::licence(std::int64_t id) {
  auto conn = readers_.acquire();
  if (!conn) return std::nullopt;
  Query q(*conn, XJ_SELECT_LICENCES " WHERE id = ?");
  if (!q.bind(id).row()) return std::nullopt;
  return licence_row(q);
}

std::vector<LicenceEvent> SqliteStore::licence_events(std::int64_t id) {
  std::vector<LicenceEvent> out;
  auto conn = readers_.acquire();
  if (!conn) return out;
  Query q(*conn,
          "SELECT id, licence, ts, event, actor, detail, audit_id FROM licence_events WHERE licence = ?"
          " ORDER BY id");
  q.bind(id);
  while (q.row()) {
    out.push_back(LicenceEvent{q.i64(0), q.i64(1), q.i64(2),
                               parse_event(q.text(3)).value_or(LicenceEventKind::kSeen), q.text(4), q.text(5),
                               q.i64(6)});
  }
  return out;
}

}  // namespace xj::detail
