// Console security: passwords (PBKDF2-HMAC-SHA256), login with lockout per user and per
// source address, sessions (cookie + CSRF token) and the security headers. The console pages
// ask ConsoleAuth for the request's session; the JSON API (api.cpp) accepts a session cookie
// where it accepts a bearer token, with the CSRF token on every state-changing request.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "xj/collector/console_config.hpp"
#include "xj/collector/http_types.hpp"
#include "xj/collector/store.hpp"

namespace xj {

inline constexpr std::int64_t kPasswordIterations = 600'000;
inline constexpr const char* kSessionCookie = "xj_session";

// A new random 16-byte salt and the PBKDF2-HMAC-SHA256 of the password (32 bytes).
PasswordHash hash_password(std::string_view password,
                           std::int64_t iterations = kPasswordIterations);
// Recomputes with the stored parameters; compares in constant time.
bool verify_password(std::string_view password, const PasswordHash& stored);
// "" when the password may be used, else the rule it breaks ("the password is shorter than
// 12 characters", "the password contains the user name").
std::string password_policy_error(std::string_view user, std::string_view password,
                                  std::size_t min_length);
// "" when `name` may name a user, else why not.
std::string user_name_error(std::string_view name);
// Constant-time equality of two secrets (lengths are not secret).
bool secrets_equal(std::string_view a, std::string_view b);

// Counting failed logins under one key: a failure at `now` starts a new window when the last
// one is over (or a lock has run out); the max_failures-th within the window locks the key.
LoginFailures count_failure(LoginFailures f, std::int64_t now_ms, const ConsoleConfig& cfg);
inline bool is_locked(const LoginFailures& f, std::int64_t now_ms) {
  return f.locked_until_ms > now_ms;
}
// Whether a session is still live at `now` under the idle and absolute timeouts.
bool session_live(const SessionRow& s, std::int64_t now_ms, const ConsoleConfig& cfg);

struct ConsoleSession {
  std::string user;  // user name, e.g. "alice"
  Role role = Role::kViewer;
  std::string csrf_token;  // pages put it in <meta name="csrf-token">, JS sends X-CSRF-Token
};

// Content-Security-Policy (no inline scripts or styles), X-Frame-Options: DENY,
// X-Content-Type-Options: nosniff, Referrer-Policy: same-origin, Cache-Control: no-store.
void add_security_headers(HttpResponse& response);

// The outcome of one login attempt.
struct LoginResult {
  enum class Kind { kOk, kWrong, kUserLocked, kAddressLocked, kError } kind = Kind::kWrong;
  ConsoleSession session;            // kOk
  std::string session_id;            // kOk: goes into the cookie, never stored
  std::int64_t locked_until_ms = 0;  // k*Locked
  std::string message;               // kError
};

class ConsoleAuth {
 public:
  // tls: the collector serves HTTPS (the cookie gets Secure). now: epoch ms (tests inject).
  ConsoleAuth(Store& store, ConsoleConfig config, bool tls,
              std::function<std::int64_t()> now = nullptr);

  // The live session named by the request's cookie (refreshing its idle timer), or nullopt
  // when there is none, it expired, or the user is disabled or locked.
  std::optional<ConsoleSession> session(const HttpRequest& request);
  // Whether the request's source address may use the console at all (console.allow).
  bool allowed(const HttpRequest& request) const;

  // Checks the password (or a dummy hash for unknown users, so both take as long), counts
  // failures per user and per address, writes every attempt to the audit log.
  LoginResult login(const std::string& user, const std::string& password,
                    const std::string& address);
  // Ends the request's session; true when there was one.
  bool logout(const HttpRequest& request);
  // Clears the login-failure lock of a user (audited by the caller).
  Expected<bool> unlock(const std::string& user);
  // Whether the request's X-CSRF-Token is this session's.
  static bool csrf_ok(const ConsoleSession& session, const HttpRequest& request);

  // Set-Cookie values: the session's cookie, and one that removes it.
  std::string session_cookie(const std::string& session_id) const;
  std::string clearing_cookie() const;
  // The policy check then a fresh hash; the error names the rule.
  Expected<PasswordHash> new_password(const std::string& user, const std::string& password) const;

  const ConsoleConfig& config() const { return config_; }
  std::int64_t now() const { return now_(); }
  // The request's session id from its Cookie header, or "".
  static std::string cookie_session_id(const HttpRequest& request);
  // "10.0.0.7" from "10.0.0.7:53412", "::1" from "[::1]:53412".
  static std::string address_of(const HttpRequest& request);

 private:
  // One more failure under `key`; audits a lock when it trips.
  void fail(const std::string& key, const std::string& actor, const std::string& address);

  Store& store_;
  ConsoleConfig config_;
  bool tls_;
  std::function<std::int64_t()> now_;
  PasswordHash dummy_;      // verified against for unknown user names
  std::mutex failures_mu_;  // read-count-write of the failure counters
};

}  // namespace xj
