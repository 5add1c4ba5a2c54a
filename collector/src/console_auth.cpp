#include "xj/collector/console_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "xj/collector/tokens.hpp"

namespace xj {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
// A session's last_seen is written at most this often (its idle timer's resolution).
constexpr std::int64_t kTouchResolutionMs = 15'000;

std::vector<unsigned char> from_hex(const std::string& hex) {
  std::vector<unsigned char> out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return {};
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return {};
    out.push_back(static_cast<unsigned char>(hi * 16 + lo));
  }
  return out;
}

std::vector<unsigned char> pbkdf2(std::string_view password, const std::vector<unsigned char>& salt,
                                  std::int64_t iterations, std::size_t bytes) {
  std::vector<unsigned char> out(bytes);
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                        static_cast<int>(out.size()), out.data()) != 1) {
    throw std::runtime_error("PBKDF2-HMAC-SHA256 failed in OpenSSL");
  }
  return out;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Characters, not bytes: a password of Chinese characters counts each as one.
std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string user_key(const std::string& user) { return "user:" + user; }
std::string address_key(const std::string& address) { return "address:" + address; }

}  // namespace

PasswordHash hash_password(std::string_view password, std::int64_t iterations) {
  std::vector<unsigned char> salt(kSaltBytes);
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    throw std::runtime_error("cannot make a salt: the OpenSSL random generator failed");
  }
  auto hash = pbkdf2(password, salt, iterations, kHashBytes);
  return PasswordHash{"pbkdf2-sha256", iterations, to_hex(salt.data(), salt.size()),
                      to_hex(hash.data(), hash.size())};
}

bool verify_password(std::string_view password, const PasswordHash& stored) {
  const auto salt = from_hex(stored.salt);
  const auto expected = from_hex(stored.hash);
  if (stored.kdf != "pbkdf2-sha256" || stored.iterations < 1 || stored.iterations > INT32_MAX ||
      salt.empty() || expected.empty()) {
    return false;
  }
  const auto got = pbkdf2(password, salt, stored.iterations, expected.size());
  return CRYPTO_memcmp(got.data(), expected.data(), got.size()) == 0;
}

std::string password_policy_error(std::string_view user, std::string_view password,
                                  std::size_t min_length) {
  if (utf8_length(password) < min_length) {
    return "the password is shorter than " + std::to_string(min_length) + " characters";
  }
  const std::string p = lower_ascii(password), u = lower_ascii(user);
  if (p == u) return "the password is the user name";
  if (!u.empty() && p.find(u) != std::string::npos) return "the password contains the user name";
  return "";
}

std::string user_name_error(std::string_view name) {
  if (name.empty()) return "the user name is empty";
  if (name.size() > 64) return "the user name is longer than 64 bytes";
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7F || c == ' ' || c == '/' || c == ':' || c == '\\' || c == '"') {
      return "the user name may not contain spaces, control characters or / : \\ \"";
    }
  }
  return "";
}

bool secrets_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

LoginFailures count_failure(LoginFailures f, std::int64_t now_ms, const ConsoleConfig& cfg) {
  const bool window_over = now_ms - f.window_start_ms >= cfg.failure_window.count();
  const bool lock_over = f.locked_until_ms != 0 && f.locked_until_ms <= now_ms;
  if (f.count == 0 || window_over || lock_over) f = LoginFailures{0, now_ms, 0};
  ++f.count;
  if (f.count >= cfg.max_failures && f.locked_until_ms == 0)
    f.locked_until_ms = now_ms + cfg.lock_for.count();
  return f;
}

bool session_live(const SessionRow& s, std::int64_t now_ms, const ConsoleConfig& cfg) {
  return now_ms - s.created_ms < cfg.absolute.count() && now_ms - s.last_seen_ms < cfg.idle.count();
}

void add_security_headers(HttpResponse& response) {
  response.headers["Content-Security-Policy"] =
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      "frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
  response.headers["X-Frame-Options"] = "DENY";
  response.headers["X-Content-Type-Options"] = "nosniff";
  response.headers["Referrer-Policy"] = "same-origin";
  response.headers["Cache-Control"] = "no-store";
}

ConsoleAuth::ConsoleAuth(Store& store, ConsoleConfig config, bool tls,
                         std::function<std::int64_t()> now)
    : store_(store),
      config_(std::move(config)),
      tls_(tls),
      now_(now ? std::move(now) : [] { return now_epoch_ms(); }),
      dummy_(hash_password(random_urlsafe(16))) {}

std::string ConsoleAuth::cookie_session_id(const HttpRequest& request) {
  const std::string cookies = request.header("cookie");
  const std::string name = std::string(kSessionCookie) + "=";
  std::size_t pos = 0;
  while (pos < cookies.size()) {
    while (pos < cookies.size() && (cookies[pos] == ' ' || cookies[pos] == ';')) ++pos;
    const std::size_t end = std::min(cookies.find(';', pos), cookies.size());
    if (cookies.compare(pos, name.size(), name) == 0) {
      std::string value = cookies.substr(pos + name.size(), end - pos - name.size());
      while (!value.empty() && value.back() == ' ') value.pop_back();
      return value.size() <= 128 ? value : "";
    }
    pos = end;
  }
  return "";
}

std::string ConsoleAuth::address_of(const HttpRequest& request) {
  const std::string& r = request.remote;
  if (!r.empty() && r.front() == '[') return r.substr(1, r.find(']') - 1);
  const auto colon = r.rfind(':');
  return colon == std::string::npos ? r : r.substr(0, colon);
}

bool ConsoleAuth::allowed(const HttpRequest& request) const {
  if (config_.allow.empty()) return true;
  const std::string address = address_of(request);
  for (const auto& range : config_.allow) {
    if (range.contains(address)) return true;
  }
  return false;
}

std::optional<ConsoleSession> ConsoleAuth::session(const HttpRequest& request) {
  const std::string id = cookie_session_id(request);
  if (id.empty()) return std::nullopt;
  const std::string id_hash = token_hash(id);
  auto s = store_.session(id_hash);
  if (!s) return std::nullopt;
  const std::int64_t now = now_();
  if (!session_live(*s, now, config_)) {
    store_.delete_session(id_hash);
    return std::nullopt;
  }
  auto user = store_.user_by_id(s->user_id);
  if (!user || user->disabled || is_locked(store_.login_failures(user_key(user->name)), now)) {
    return std::nullopt;
  }
  if (now - s->last_seen_ms >= kTouchResolutionMs) {
    if (auto t = store_.touch_session(id_hash, now); !t) {
      spdlog::warn("event=session_touch_failed user={} error=\"{}\"", user->name, t.error());
    }
  }
  return ConsoleSession{user->name, user->role, s->csrf_token};
}

void ConsoleAuth::fail(const std::string& key, const std::string& actor,
                       const std::string& address) {
  const std::int64_t now = now_();
  LoginFailures f = count_failure(store_.login_failures(key), now, config_);
  if (auto r = store_.set_login_failures(key, f); !r) {
    spdlog::error("event=login_failure_not_recorded key={} error=\"{}\"", key, r.error());
  }
  if (f.count == config_.max_failures && f.locked_until_ms > now) {
    spdlog::warn("event=console_lockout key={} until={}", key, f.locked_until_ms);
    store_.audit(
        actor, "console.lockout", key,
        nlohmann::json{
            {"address", address}, {"failures", f.count}, {"locked_until", f.locked_until_ms}}
            .dump());
  }
}

LoginResult ConsoleAuth::login(const std::string& user, const std::string& password,
                               const std::string& address) {
  std::lock_guard lock(failures_mu_);
  const std::int64_t now = now_();
  const std::string actor = "user:" + user;
  const LoginFailures by_user = store_.login_failures(user_key(user));
  const LoginFailures by_address = store_.login_failures(address_key(address));
  if (is_locked(by_user, now) || is_locked(by_address, now)) {
    // The password is not even checked: a locked account answers the same whether it was right.
    LoginResult r;
    r.kind = is_locked(by_user, now) ? LoginResult::Kind::kUserLocked
                                     : LoginResult::Kind::kAddressLocked;
    r.locked_until_ms = std::max(is_locked(by_user, now) ? by_user.locked_until_ms : 0,
                                 is_locked(by_address, now) ? by_address.locked_until_ms : 0);
    store_.audit(
        actor, "console.login_refused", user_key(user),
        nlohmann::json{
            {"address", address},
            {"reason", r.kind == LoginResult::Kind::kUserLocked ? "user locked" : "address locked"},
            {"locked_until", r.locked_until_ms}}
            .dump());
    return r;
  }
  auto row = user_name_error(user).empty() ? store_.user(user) : std::nullopt;
  // Unknown users cost one KDF run too, so the time taken does not tell which names exist.
  const bool right =
      verify_password(password, row ? row->password : dummy_) && row && !row->disabled;
  if (!right) {
    store_.audit(actor, "console.login_failed", user_key(user),
                 nlohmann::json{{"address", address},
                                {"reason", !row            ? "unknown user"
                                           : row->disabled ? "user disabled"
                                                           : "wrong password"}}
                     .dump());
    fail(user_key(user), actor, address);
    fail(address_key(address), actor, address);
    return LoginResult{};
  }
  LoginResult r;
  r.kind = LoginResult::Kind::kOk;
  r.session_id = random_urlsafe(32);
  r.session = ConsoleSession{row->name, row->role, random_urlsafe(32)};
  SessionRow s{token_hash(r.session_id), row->id, r.session.csrf_token, now, now};
  if (auto stored =
          store_.create_session(s, now - config_.absolute.count(), now - config_.idle.count());
      !stored) {
    return LoginResult{LoginResult::Kind::kError, {}, "", 0, stored.error()};
  }
  if (by_user.count > 0) store_.set_login_failures(user_key(user), LoginFailures{});
  store_.audit(
      actor, "console.login", user_key(user),
      nlohmann::json{{"address", address}, {"role", std::string(to_string(row->role))}}.dump());
  return r;
}

bool ConsoleAuth::logout(const HttpRequest& request) {
  const std::string id = cookie_session_id(request);
  if (id.empty()) return false;
  auto ended = store_.delete_session(token_hash(id));
  return ended && *ended;
}

Expected<bool> ConsoleAuth::unlock(const std::string& user) {
  std::lock_guard lock(failures_mu_);
  return store_.set_login_failures(user_key(user), LoginFailures{});
}

bool ConsoleAuth::csrf_ok(const ConsoleSession& session, const HttpRequest& request) {
  const std::string sent = request.header("x-csrf-token");
  return !sent.empty() && !session.csrf_token.empty() && secrets_equal(sent, session.csrf_token);
}

std::string ConsoleAuth::session_cookie(const std::string& session_id) const {
  return std::string(kSessionCookie) + "=" + session_id + "; HttpOnly; SameSite=Strict; Path=/" +
         (tls_ ? "; Secure" : "");
}

std::string ConsoleAuth::clearing_cookie() const {
  return std::string(kSessionCookie) + "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0" +
         (tls_ ? "; Secure" : "");
}

Expected<PasswordHash> ConsoleAuth::new_password(const std::string& user,
                                                 const std::string& password) const {
  if (auto e = password_policy_error(user, password, config_.password_min_length); !e.empty()) {
    return make_error(e);
  }
  return hash_password(password);
}

}  // namespace xj
