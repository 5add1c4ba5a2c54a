// Console users, sessions and login-failure counters over SQLite (users.hpp). A user change
// and its audit entry are one transaction; ending a user's sessions is part of the same one.
#include <nlohmann/json.hpp>

#include "detail/sqlite_store_impl.hpp"

namespace xj::detail {
namespace {

// Statements are cached by their text's address, so every query is a literal.
#define XJ_USER_SELECT                                                                            \
  "SELECT id, name, role, kdf, iterations, salt, password_hash, created, updated, disabled FROM " \
  "users "

UserRow user_row(Query& q) {
  UserRow u;
  u.id = q.i64(0);
  u.name = q.text(1);
  u.role = parse_role(q.text(2)).value_or(Role::kViewer);
  u.password = PasswordHash{q.text(3), q.i64(4), q.text(5), q.text(6)};
  u.created_ms = q.i64(7);
  u.updated_ms = q.i64(8);
  u.disabled = q.i64(9) != 0;
  return u;
}

UserError storage(const Error& e) { return UserError{UserErrorKind::kStorage, e.message}; }

std::optional<UserRow> by_name(SqliteConn& conn, const std::string& name) {
  Query q(conn, XJ_USER_SELECT "WHERE name = ?");
  q.bind(name);
  if (!q.row()) return std::nullopt;
  return user_row(q);
}

std::optional<UserRow> by_id(SqliteConn& conn, std::int64_t id) {
  Query q(conn, XJ_USER_SELECT "WHERE id = ?");
  q.bind(id);
  if (!q.row()) return std::nullopt;
  return user_row(q);
}

}  // namespace

Expected<UserRow, UserError> SqliteStore::create_user(const UserRow& user,
                                                      const std::string& actor) {
  std::lock_guard lock(write_mu_);
  Txn txn(*writer_, "BEGIN IMMEDIATE");
  if (!txn.ok()) return storage(writer_->error("cannot begin"));
  if (by_name(*writer_, user.name)) {
    return UserError{UserErrorKind::kExists, "user '" + user.name + "' exists already"};
  }
  UserRow row = user;
  row.created_ms = row.updated_ms = now();
  {
    Query q(*writer_,
            "INSERT INTO users(name, role, kdf, iterations, salt, password_hash, created, updated, "
            "disabled)"
            " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q.bind(row.name, to_string(row.role), row.password.kdf, row.password.iterations,
           row.password.salt, row.password.hash, row.created_ms, row.updated_ms,
           row.disabled ? 1 : 0);
    if (!q.done()) return storage(writer_->error("cannot store user '" + row.name + "'"));
  }
  row.id = sqlite3_last_insert_rowid(writer_->db());
  nlohmann::json detail{{"role", std::string(to_string(row.role))}};
  if (auto a = append_audit(actor, "user.create", "user:" + row.name, detail.dump()); !a) {
    return storage(a.failure());
  }
  if (!txn.commit()) return storage(writer_->error("cannot commit user '" + row.name + "'"));
  return row;
}

Expected<UserRow, UserError> SqliteStore::update_user(const std::string& name,
                                                      const UserUpdate& update,
                                                      const std::string& actor,
                                                      const std::string& action) {
  std::lock_guard lock(write_mu_);
  Txn txn(*writer_, "BEGIN IMMEDIATE");
  if (!txn.ok()) return storage(writer_->error("cannot begin"));
  auto found = by_name(*writer_, name);
  if (!found) return UserError{UserErrorKind::kNotFound, "no user '" + name + "'"};
  UserRow row = *found;
  nlohmann::json detail = nlohmann::json::object();
  if (update.role) {
    detail["role"] = {{"from", std::string(to_string(row.role))},
                      {"to", std::string(to_string(*update.role))}};
    row.role = *update.role;
  }
  if (update.password) {
    row.password = *update.password;
    detail["password"] = "changed";  // never the hash
  }
  if (update.disabled) {
    row.disabled = *update.disabled;
    detail["disabled"] = row.disabled;
  }
  row.updated_ms = now();
  {
    Query q(*writer_,
            "UPDATE users SET role = ?, kdf = ?, iterations = ?, salt = ?, password_hash = ?, "
            "updated = ?,"
            " disabled = ? WHERE id = ?");
    q.bind(to_string(row.role), row.password.kdf, row.password.iterations, row.password.salt,
           row.password.hash, row.updated_ms, row.disabled ? 1 : 0, row.id);
    if (!q.done()) return storage(writer_->error("cannot update user '" + name + "'"));
  }
  {
    // A new password, role or a disabled account must not leave a session with the old rights.
    Query q(*writer_, "DELETE FROM console_sessions WHERE user_id = ?");
    if (!q.bind(row.id).done())
      return storage(writer_->error("cannot end the sessions of '" + name + "'"));
    detail["sessions_ended"] = sqlite3_changes(writer_->db());
  }
  if (auto a = append_audit(actor, action, "user:" + row.name, detail.dump()); !a)
    return storage(a.failure());
  if (!txn.commit())
    return storage(writer_->error("cannot commit the change of user '" + name + "'"));
  return row;
}

std::optional<UserRow> SqliteStore::user(const std::string& name) {
  auto conn = readers_.acquire();
  if (!conn) return std::nullopt;
  return by_name(*conn, name);
}

std::optional<UserRow> SqliteStore::user_by_id(std::int64_t id) {
  auto conn = readers_.acquire();
  if (!conn) return std::nullopt;
  return by_id(*conn, id);
}

std::vector<UserRow> SqliteStore::users() {
  std::vector<UserRow> out;
  auto conn = readers_.acquire();
  if (!conn) return out;
  Query q(*conn, XJ_USER_SELECT "ORDER BY name");
  while (q.row()) out.push_back(user_row(q));
  return out;
}

LoginFailures SqliteStore::login_failures(const std::string& key) {
  auto conn = readers_.acquire();
  if (!conn) return {};
  Query q(*conn, "SELECT count, window_start, locked_until FROM login_failures WHERE key = ?");
  q.bind(key);
  if (!q.row()) return {};
  return LoginFailures{q.i64(0), q.i64(1), q.i64(2)};
}

Expected<bool> SqliteStore::set_login_failures(const std::string& key, const LoginFailures& f) {
  std::lock_guard lock(write_mu_);
  if (f.count == 0 && f.locked_until_ms == 0) {
    Query q(*writer_, "DELETE FROM login_failures WHERE key = ?");
    if (!q.bind(key).done()) return writer_->error("cannot clear the login failures of " + key);
    return true;
  }
  Query q(*writer_,
          "INSERT INTO login_failures(key, count, window_start, locked_until) VALUES(?, ?, ?, ?)"
          " ON CONFLICT(key) DO UPDATE SET count = excluded.count, window_start = "
          "excluded.window_start,"
          " locked_until = excluded.locked_until");
  if (!q.bind(key, f.count, f.window_start_ms, f.locked_until_ms).done()) {
    return writer_->error("cannot record the login failures of " + key);
  }
  return true;
}

Expected<bool> SqliteStore::create_session(const SessionRow& s, std::int64_t expire_before_ms,
                                           std::int64_t idle_before_ms) {
  std::lock_guard lock(write_mu_);
  Txn txn(*writer_, "BEGIN IMMEDIATE");
  if (!txn.ok()) return writer_->error("cannot begin");
  {
    Query q(*writer_, "DELETE FROM console_sessions WHERE created < ? OR last_seen < ?");
    if (!q.bind(expire_before_ms, idle_before_ms).done())
      return writer_->error("cannot drop expired sessions");
  }
  {
    Query q(*writer_,
            "INSERT INTO console_sessions(id_hash, user_id, csrf, created, last_seen) VALUES(?, ?, "
            "?, ?, ?)");
    if (!q.bind(s.id_hash, s.user_id, s.csrf_token, s.created_ms, s.last_seen_ms).done()) {
      return writer_->error("cannot store the session");
    }
  }
  if (!txn.commit()) return writer_->error("cannot commit the session");
  return true;
}

std::optional<SessionRow> SqliteStore::session(const std::string& id_hash) {
  auto conn = readers_.acquire();
  if (!conn) return std::nullopt;
  Query q(
      *conn,
      "SELECT id_hash, user_id, csrf, created, last_seen FROM console_sessions WHERE id_hash = ?");
  q.bind(id_hash);
  if (!q.row()) return std::nullopt;
  return SessionRow{q.text(0), q.i64(1), q.text(2), q.i64(3), q.i64(4)};
}

Expected<bool> SqliteStore::touch_session(const std::string& id_hash, std::int64_t now_ms) {
  std::lock_guard lock(write_mu_);
  Query q(*writer_, "UPDATE console_sessions SET last_seen = max(last_seen, ?) WHERE id_hash = ?");
  if (!q.bind(now_ms, id_hash).done()) return writer_->error("cannot refresh the session");
  return true;
}

Expected<bool> SqliteStore::delete_session(const std::string& id_hash) {
  std::lock_guard lock(write_mu_);
  Query q(*writer_, "DELETE FROM console_sessions WHERE id_hash = ?");
  if (!q.bind(id_hash).done()) return writer_->error("cannot end the session");
  return sqlite3_changes(writer_->db()) > 0;
}

#undef XJ_USER_SELECT

}  // namespace xj::detail
