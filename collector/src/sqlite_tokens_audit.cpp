// Tokens (hashes only) and the SM3 hash-chained audit log.
//
// The bytes hashed for an audit entry — every integer big-endian, every text preceded by its
// length, so no two different entries serialise alike:
//   "xj-audit-v1"                          11 bytes, a domain tag
//   id                                      8 bytes, two's complement
//   ts_ms                                   8 bytes, two's complement
//   actor, action, object, detail, prev_hash, each as
//     length in bytes                       8 bytes, unsigned
//     the bytes                             (prev_hash: 64 hex characters, "" for entry 1)
// hash = lower-case hex SM3 of those bytes; the next entry's prev_hash is this hash.
#include <algorithm>

#include "detail/sqlite_store_impl.hpp"
#include "xj/collector/sm3.hpp"

namespace xj::detail {
namespace {

constexpr std::int64_t kTokenUseResolutionMs = 60'000;

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xFF);
}

std::string audit_bytes(const AuditEntry& e) {
  std::string out = "xj-audit-v1";
  put_u64(out, static_cast<std::uint64_t>(e.id));
  put_u64(out, static_cast<std::uint64_t>(e.ts_ms));
  for (const std::string* s : {&e.actor, &e.action, &e.object, &e.detail, &e.prev_hash}) {
    put_u64(out, s->size());
    out += *s;
  }
  return out;
}

bool is_sha256_hex(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

TokenRow token_row(Query& q) {  // id, name, role, created, last_used, revoked
  TokenRow t;
  t.id = q.i64(0);
  t.name = q.text(1);
  if (!q.null(2)) t.role = parse_role(q.text(2));
  t.created_ms = q.i64(3);
  t.last_used_ms = q.i64(4);
  t.revoked = q.i64(5) != 0;
  return t;
}

AuditEntry audit_row(Query& q) {
  return AuditEntry{q.i64(0), q.i64(1), q.text(2), q.text(3),
                    q.text(4), q.text(5), q.text(6), q.text(7)};
}

}  // namespace

Expected<std::int64_t> SqliteStore::create_token(const std::string& name, std::optional<Role> role,
                                                 const std::string& token_hash) {
  if (name.empty()) return make_error("token: the name is empty");
  // The store must never hold a usable token: refuse anything that is not a SHA-256 digest.
  if (!is_sha256_hex(token_hash)) {
    return make_error("token for '" + name +
                      "': expected the 64 lower-case hex digits of its SHA-256, not the token");
  }
  std::lock_guard lock(write_mu_);
  Txn txn(*writer_, "BEGIN IMMEDIATE");
  if (!txn.ok()) return writer_->error("cannot begin");
  Query q(*writer_, "INSERT INTO tokens(name, role, hash, created) VALUES(?, ?, ?, ?)");
  if (role) {
    q.bind(name, to_string(*role), token_hash, now());
  } else {
    q.bind(name, nullptr, token_hash, now());  // NULL role: an agent token
  }
  if (!q.done()) return writer_->error("cannot store the token for '" + name + "'");
  const std::int64_t id = sqlite3_last_insert_rowid(writer_->db());
  if (!txn.commit()) return writer_->error("cannot commit the token for '" + name + "'");
  return id;
}

std::optional<TokenRow> SqliteStore::find_token(const std::string& token_hash) {
  auto conn = readers_.acquire();
  if (!conn) return std::nullopt;
  std::optional<TokenRow> row;
  {
    Query q(*conn,
            "SELECT id, name, role, created, last_used, revoked FROM tokens"
            " WHERE hash = ? AND revoked = 0");
    q.bind(token_hash);
    if (q.row()) row = token_row(q);
  }
  if (!row) return row;
  // Not a write per request: a use is queued when the recorded one is a minute old, and
  // written with the next ingest commit or maintain().
  const std::int64_t t = now();
  std::lock_guard lock(token_mu_);
  auto [it, fresh] = token_seen_.try_emplace(row->id, row->last_used_ms);
  if (t - it->second >= kTokenUseResolutionMs) {
    it->second = t;
    token_pending_[row->id] = t;
  }
  row->last_used_ms = std::max(row->last_used_ms, it->second);
  return row;
}

std::vector<TokenRow> SqliteStore::tokens() {
  std::vector<TokenRow> out;
  auto conn = readers_.acquire();
  if (!conn) return out;
  {
    Query q(*conn, "SELECT id, name, role, created, last_used, revoked FROM tokens ORDER BY id");
    while (q.row()) out.push_back(token_row(q));
  }
  std::lock_guard lock(token_mu_);
  for (auto& t : out) {
    if (auto it = token_seen_.find(t.id); it != token_seen_.end()) {
      t.last_used_ms = std::max(t.last_used_ms, it->second);
    }
  }
  return out;
}

Expected<bool> SqliteStore::revoke_token(std::int64_t id) {
  std::lock_guard lock(write_mu_);
  Txn txn(*writer_, "BEGIN IMMEDIATE");
  if (!txn.ok()) return writer_->error("cannot begin");
  {
    Query q(*writer_, "UPDATE tokens SET revoked = 1, revoked_at = ? WHERE id = ? AND revoked = 0");
    if (!q.bind(now(), id).done()) return writer_->error("cannot revoke token " + std::to_string(id));
  }
  if (sqlite3_changes(writer_->db()) == 0) {
    Query exists(*writer_, "SELECT 1 FROM tokens WHERE id = ?");
    if (!exists.bind(id).row()) return make_error("no token with id " + std::to_string(id));
    return false;  // revoked before
  }
  if (!txn.commit()) return writer_->error("cannot commit revoking token " + std::to_string(id));
  return true;
}

std::unordered_map<std::int64_t, std::int64_t> SqliteStore::take_token_uses() {
  std::lock_guard lock(token_mu_);
  return std::exchange(token_pending_, {});
}

void SqliteStore::restore_token_uses(const std::unordered_map<std::int64_t, std::int64_t>& uses) {
  std::lock_guard lock(token_mu_);
  for (const auto& [id, t] : uses) token_pending_[id] = std::max(token_pending_[id], t);
}

Expected<bool> SqliteStore::write_token_uses(std::unordered_map<std::int64_t, std::int64_t>& uses) {
  for (const auto& [id, t] : uses) {
    Query q(*writer_, "UPDATE tokens SET last_used = max(last_used, ?) WHERE id = ?");
    if (!q.bind(t, id).done()) return writer_->error("cannot record when a token was used");
  }
  return true;
}

Expected<AuditEntry> SqliteStore::audit(const std::string& actor, const std::string& action,
                                        const std::string& object, const std::string& detail) {
  std::lock_guard lock(write_mu_);
  Txn txn(*writer_, "BEGIN IMMEDIATE");
  if (!txn.ok()) return writer_->error("cannot begin an audit entry");
  auto e = append_audit(actor, action, object, detail);
  if (!e) return e;
  if (!txn.commit()) return writer_->error("cannot commit the audit entry for " + action);
  return e;
}

Expected<AuditEntry> SqliteStore::append_audit(const std::string& actor, const std::string& action,
                                               const std::string& object, const std::string& detail) {
  AuditEntry e{0, now(), actor, action, object, detail, "", ""};
  {
    Query last(*writer_, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1");
    const int rc = last.step();
    if (rc == SQLITE_ROW) {
      e.id = last.i64(0);
      e.prev_hash = last.text(1);
    } else if (rc != SQLITE_DONE) {
      return writer_->error("cannot read the last audit entry");
    }
  }
  ++e.id;
  e.hash = sm3_hex(audit_bytes(e));
  if (e.hash.empty()) return make_error("audit: OpenSSL offers no SM3 (default provider missing?)");
  Query ins(*writer_,
            "INSERT INTO audit(id, ts, actor, action, object, detail, prev_hash, hash)"
            " VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
  if (!ins.bind(e.id, e.ts_ms, e.actor, e.action, e.object, e.detail, e.prev_hash, e.hash).done()) {
    return writer_->error("cannot append the audit entry for " + action);
  }
  return e;
}

std::vector<AuditEntry> SqliteStore::audit_entries(std::int64_t after_id, std::size_t limit) {
  std::vector<AuditEntry> out;
  auto conn = readers_.acquire();
  if (!conn) return out;
  Query q(*conn,
          "SELECT id, ts, actor, action, object, detail, prev_hash, hash FROM audit"
          " WHERE id > ? ORDER BY id LIMIT ?");
  q.bind(after_id, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  while (q.row()) out.push_back(audit_row(q));
  return out;
}

AuditVerdict SqliteStore::verify_audit() {
  AuditVerdict v;
  auto conn = readers_.acquire();
  if (!conn) return AuditVerdict{false, 0, 0, "cannot open a read connection to " + path_};
  Txn txn(*conn, "BEGIN");
  Query q(*conn,
          "SELECT id, ts, actor, action, object, detail, prev_hash, hash FROM audit ORDER BY id");
  std::int64_t expected = 1;
  std::string prev_hash;
  auto bad = [&](std::int64_t id, std::string reason) {
    v.ok = false;
    v.first_bad_id = id;
    v.reason = std::move(reason);
    return v;
  };
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    AuditEntry e = audit_row(q);
    ++v.entries;
    if (e.id != expected) {
      return bad(expected, "gap: entr" + std::string(e.id - expected > 1 ? "ies " : "y ") +
                               std::to_string(expected) +
                               (e.id - expected > 1 ? ".." + std::to_string(e.id - 1) : "") +
                               " missing (ids jump from " + std::to_string(expected - 1) +
                               " to " + std::to_string(e.id) + ")");
    }
    const std::string computed = sm3_hex(audit_bytes(e));
    if (computed != e.hash) {
      return bad(e.id, "hash mismatch: entry " + std::to_string(e.id) +
                           " was changed after it was written (stored " + e.hash.substr(0, 16) +
                           "..., contents hash to " + computed.substr(0, 16) + "...)");
    }
    if (e.prev_hash != prev_hash) {
      return bad(e.id, "broken link: entry " + std::to_string(e.id) + " does not follow entry " +
                           std::to_string(e.id - 1) + " (its prev_hash is not that entry's hash)");
    }
    prev_hash = e.hash;
    expected = e.id + 1;
  }
  if (rc != SQLITE_DONE) return bad(expected, conn->error("cannot read the audit log").message);
  return v;
}

}  // namespace xj::detail
