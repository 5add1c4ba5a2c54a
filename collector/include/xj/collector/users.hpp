// Console users, their sessions and login-failure counters, as the store keeps them. The
// rules (password policy, lockout, session timeouts) live in console_auth.hpp; the store only
// keeps rows, and writes every user change together with its audit entry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "xj/common/expected.hpp"

namespace xj {

enum class Role { kViewer, kOperator, kAdmin };

// A password as the store keeps it: the KDF and its parameters beside the hash, so the
// iteration count can be raised later without invalidating stored passwords.
struct PasswordHash {
  std::string kdf = "pbkdf2-sha256";
  std::int64_t iterations = 0;
  std::string salt;  // lower-case hex
  std::string hash;  // lower-case hex
};

struct UserRow {
  std::int64_t id = 0;
  std::string name;
  Role role = Role::kViewer;
  PasswordHash password;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  bool disabled = false;
};

// What may change about a user; every set field is written (and audited) together.
struct UserUpdate {
  std::optional<Role> role;
  std::optional<PasswordHash> password;
  std::optional<bool> disabled;
};

enum class UserErrorKind { kNotFound, kExists, kStorage };

struct UserError {
  UserErrorKind kind = UserErrorKind::kStorage;
  std::string message;
};

// Failed logins counted under one key ("user:alice", "address:10.0.0.7") in a window.
struct LoginFailures {
  std::int64_t count = 0;
  std::int64_t window_start_ms = 0;
  std::int64_t locked_until_ms = 0;  // 0: not locked
};

// A console session. The id itself is never stored, only its SHA-256.
struct SessionRow {
  std::string id_hash;
  std::int64_t user_id = 0;
  std::string csrf_token;
  std::int64_t created_ms = 0;
  std::int64_t last_seen_ms = 0;
};

class UserStore {
 public:
  virtual ~UserStore() = default;

  // A user change and its audit entry (action, object "user:<name>", detail) are one
  // transaction. Changing password, role or disabled ends the user's sessions.
  virtual Expected<UserRow, UserError> create_user(const UserRow& user,
                                                   const std::string& actor) = 0;
  virtual Expected<UserRow, UserError> update_user(const std::string& name,
                                                   const UserUpdate& update,
                                                   const std::string& actor,
                                                   const std::string& action) = 0;
  virtual std::optional<UserRow> user(const std::string& name) = 0;
  virtual std::optional<UserRow> user_by_id(std::int64_t id) = 0;
  virtual std::vector<UserRow> users() = 0;

  // Login failures: the stored counter (all zero when none), and its replacement (a zero
  // count with no lock deletes it).
  virtual LoginFailures login_failures(const std::string& key) = 0;
  virtual Expected<bool> set_login_failures(const std::string& key, const LoginFailures& f) = 0;

  // Stores a new session and drops every session created before `expire_before_ms` or last
  // seen before `idle_before_ms` (expired anyway).
  virtual Expected<bool> create_session(const SessionRow& session, std::int64_t expire_before_ms,
                                        std::int64_t idle_before_ms) = 0;
  virtual std::optional<SessionRow> session(const std::string& id_hash) = 0;
  virtual Expected<bool> touch_session(const std::string& id_hash, std::int64_t now_ms) = 0;
  virtual Expected<bool> delete_session(const std::string& id_hash) = 0;
};

}  // namespace xj
