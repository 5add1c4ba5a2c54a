// ConsoleAuth over a real SQLite store with an injected clock: passwords, policy, lockout per
// user and per address, session timeouts, CSRF comparison, the console: config section.
#include "xj/collector/console_auth.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "xj/collector/config.hpp"
#include "xj/collector/sqlite_store.hpp"
#include "xj/common/config_error.hpp"

using namespace xj;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kMinute = 60'000;
const std::string kPassword = "correct horse battery";

struct AuthFixture {
  fs::path dir;
  std::unique_ptr<Store> store;
  std::int64_t clock = 1'780'000'000'000;  // a fixed instant; the test moves it
  ConsoleConfig cfg;
  std::unique_ptr<ConsoleAuth> auth;

  explicit AuthFixture(const std::string& name)
      : dir(fs::path(XJ_BINARY_DIR) / "console-auth-tests" /
            (name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    store = std::move(open_sqlite_store((dir / "collector.db").string())).value();
    restart();
  }
  // A new ConsoleAuth over the same store, as after a collector restart.
  void restart() {
    auth = std::make_unique<ConsoleAuth>(*store, cfg, false, [this] { return clock; });
  }
  void add_user(const std::string& name, Role role, const std::string& password = kPassword) {
    UserRow u;
    u.name = name;
    u.role = role;
    u.password = hash_password(password);
    REQUIRE(store->create_user(u, "cli:test").ok());
  }
  HttpRequest with_cookie(const std::string& session_id, const std::string& csrf = "") const {
    HttpRequest r;
    r.method = "GET";
    r.remote = "10.0.0.7:40000";
    r.headers["cookie"] = "theme=dark; xj_session=" + session_id;
    if (!csrf.empty()) r.headers["x-csrf-token"] = csrf;
    return r;
  }
};

}  // namespace

TEST_CASE("passwords are PBKDF2-HMAC-SHA256 with 600000 iterations and a fresh 16-byte salt",
          "[console-auth]") {
  const PasswordHash a = hash_password(kPassword);
  const PasswordHash b = hash_password(kPassword);
  CHECK(a.kdf == "pbkdf2-sha256");
  CHECK(a.iterations >= 600'000);
  CHECK(a.salt.size() == 32);  // hex of 16 bytes
  CHECK(a.hash.size() == 64);
  CHECK(a.salt != b.salt);
  CHECK(a.hash != b.hash);
  CHECK(verify_password(kPassword, a));
  CHECK(verify_password(kPassword, b));
  CHECK_FALSE(verify_password("correct horse battery!", a));
  CHECK_FALSE(verify_password("", a));
  PasswordHash fewer = a;
  fewer.iterations = 1000;  // the parameters are part of what is verified
  CHECK_FALSE(verify_password(kPassword, fewer));
  PasswordHash other_kdf = a;
  other_kdf.kdf = "md5";
  CHECK_FALSE(verify_password(kPassword, other_kdf));
}

TEST_CASE("the password policy names the rule a password breaks", "[console-auth]") {
  CHECK(password_policy_error("alice", "short", 12) ==
        "the password is shorter than 12 characters");
  CHECK(password_policy_error("alicealice12", "ALICEalice12", 12) ==
        "the password is the user name");
  CHECK(password_policy_error("Alice", "my-alice-password", 12) ==
        "the password contains the user name");
  CHECK(password_policy_error("alice", "correct horse battery", 12).empty());
  // Characters, not bytes: six Chinese characters are 18 bytes but only 6 characters.
  CHECK(password_policy_error("alice", "巡检系统密码", 12) ==
        "the password is shorter than 12 characters");
  CHECK(password_policy_error("alice", "巡检系统密码巡检系统密码", 12).empty());
  CHECK(password_policy_error("alice", "correct horse", 20) ==
        "the password is shorter than 20 characters");
}

TEST_CASE("user names refuse spaces, separators and control characters", "[console-auth]") {
  CHECK(user_name_error("alice").empty());
  CHECK(user_name_error("张三").empty());
  CHECK_FALSE(user_name_error("").empty());
  CHECK_FALSE(user_name_error("a b").empty());
  CHECK_FALSE(user_name_error("a/b").empty());
  CHECK_FALSE(user_name_error("a:b").empty());
  CHECK_FALSE(user_name_error("a\nb").empty());
  CHECK_FALSE(user_name_error(std::string(65, 'a')).empty());
}

TEST_CASE("failures lock a key at max_failures within the window, and the lock runs out",
          "[console-auth]") {
  ConsoleConfig cfg;  // 5 failures within 15 minutes lock for 15 minutes
  const std::int64_t t0 = 1'000'000;
  LoginFailures f;
  for (int i = 1; i <= 4; ++i) {
    f = count_failure(f, t0 + i * kMinute, cfg);
    CHECK(f.count == i);
    CHECK_FALSE(is_locked(f, t0 + i * kMinute));
  }
  f = count_failure(f, t0 + 5 * kMinute, cfg);
  CHECK(is_locked(f, t0 + 5 * kMinute));
  CHECK(f.locked_until_ms == t0 + 20 * kMinute);
  CHECK(is_locked(f, t0 + 20 * kMinute - 1));
  CHECK_FALSE(is_locked(f, t0 + 20 * kMinute));
  // After the lock a failure starts counting afresh.
  f = count_failure(f, t0 + 21 * kMinute, cfg);
  CHECK(f.count == 1);
  CHECK_FALSE(is_locked(f, t0 + 21 * kMinute));
  // Failures spread wider than the window never lock.
  LoginFailures slow;
  for (int i = 0; i < 10; ++i) slow = count_failure(slow, t0 + i * 4 * kMinute, cfg);
  CHECK_FALSE(is_locked(slow, t0 + 36 * kMinute));
}

TEST_CASE("five wrong passwords lock the user, even for the right password, across a restart",
          "[console-auth]") {
  AuthFixture f("user-lock");
  f.add_user("alice", Role::kOperator);
  // From five addresses, so only the per-user counter can trip.
  for (int i = 0; i < 5; ++i) {
    auto r = f.auth->login("alice", "wrong password " + std::to_string(i),
                           "10.0.0." + std::to_string(i + 1));
    CHECK(r.kind == LoginResult::Kind::kWrong);
    f.clock += 1000;
  }
  f.restart();
  auto locked = f.auth->login("alice", kPassword, "10.0.1.1");
  CHECK(locked.kind == LoginResult::Kind::kUserLocked);
  CHECK(locked.locked_until_ms > f.clock);
  CHECK(locked.session_id.empty());
  f.clock = locked.locked_until_ms;
  auto after = f.auth->login("alice", kPassword, "10.0.1.1");
  CHECK(after.kind == LoginResult::Kind::kOk);
  CHECK_FALSE(after.session_id.empty());

  // The audit log names the user and the address of each attempt and the lockout.
  int failed = 0, lockouts = 0, refused = 0, logins = 0;
  for (const auto& e : f.store->audit_entries(0, 100)) {
    if (e.actor != "user:alice") continue;
    failed += e.action == "console.login_failed";
    lockouts += e.action == "console.lockout";
    refused += e.action == "console.login_refused";
    logins += e.action == "console.login";
    if (e.action == "console.login_refused") CHECK(e.detail.find("10.0.1.1") != std::string::npos);
  }
  CHECK(failed == 5);
  CHECK(lockouts == 1);
  CHECK(refused == 1);
  CHECK(logins == 1);
  CHECK(f.store->verify_audit().ok);
}

TEST_CASE("a successful login resets the user's failure count", "[console-auth]") {
  AuthFixture f("user-reset");
  f.add_user("bob", Role::kViewer);
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 4; ++i) {
      CHECK(
          f.auth->login("bob", "nope nope nope", "10.0.2." + std::to_string(round * 4 + i)).kind ==
          LoginResult::Kind::kWrong);
    }
    CHECK(f.auth->login("bob", kPassword, "10.0.3.1").kind == LoginResult::Kind::kOk);
  }
  CHECK(f.store->login_failures("user:bob").count == 0);
}

TEST_CASE("failures under many user names from one address lock that address only",
          "[console-auth]") {
  AuthFixture f("address-lock");
  f.add_user("carol", Role::kAdmin);
  for (const char* name : {"root", "admin", "carol", "test", "oracle"}) {
    CHECK(f.auth->login(name, "guess guess guess", "192.0.2.9").kind == LoginResult::Kind::kWrong);
  }
  auto refused = f.auth->login("carol", kPassword, "192.0.2.9");
  CHECK(refused.kind == LoginResult::Kind::kAddressLocked);
  CHECK(f.auth->login("carol", kPassword, "192.0.2.10").kind == LoginResult::Kind::kOk);
  bool address_lock_audited = false;
  for (const auto& e : f.store->audit_entries(0, 100)) {
    address_lock_audited |= e.action == "console.lockout" && e.object == "address:192.0.2.9";
  }
  CHECK(address_lock_audited);
}

TEST_CASE("an unknown user and a wrong password get the same answer", "[console-auth]") {
  AuthFixture f("unknown-user");
  f.add_user("dave", Role::kViewer);
  auto unknown = f.auth->login("nobody", kPassword, "10.0.4.1");
  auto wrong = f.auth->login("dave", "not the password", "10.0.4.2");
  CHECK(unknown.kind == LoginResult::Kind::kWrong);
  CHECK(wrong.kind == LoginResult::Kind::kWrong);
  CHECK(unknown.message == wrong.message);
}

TEST_CASE("a session ends after the idle timeout and after the absolute timeout",
          "[console-auth]") {
  AuthFixture f("session-expiry");
  f.add_user("erin", Role::kOperator);
  auto login = f.auth->login("erin", kPassword, "10.0.5.1");
  REQUIRE(login.kind == LoginResult::Kind::kOk);
  const std::string id = login.session_id;

  auto s = f.auth->session(f.with_cookie(id));
  REQUIRE(s);
  CHECK(s->user == "erin");
  CHECK(s->role == Role::kOperator);
  CHECK(s->csrf_token == login.session.csrf_token);
  CHECK_FALSE(f.auth->session(f.with_cookie(id + "x")));

  // Used every 29 minutes the session stays (each use refreshes the idle timer), until 12 h
  // after the login.
  const std::int64_t start = f.clock;
  int uses = 0;
  while (f.clock + 29 * kMinute - start < 12 * 60 * kMinute) {
    f.clock += 29 * kMinute;
    INFO("use " << uses);
    REQUIRE(f.auth->session(f.with_cookie(id)));
    ++uses;
  }
  CHECK(uses == 24);
  f.clock += 29 * kMinute;
  CHECK_FALSE(f.auth->session(f.with_cookie(id)));

  auto again = f.auth->login("erin", kPassword, "10.0.5.1");
  REQUIRE(again.kind == LoginResult::Kind::kOk);
  f.clock += 30 * kMinute - 1;
  f.restart();  // sessions are in the store
  CHECK(f.auth->session(f.with_cookie(again.session_id)));
  f.clock += 30 * kMinute;  // idle for 30 minutes
  CHECK_FALSE(f.auth->session(f.with_cookie(again.session_id)));
}

TEST_CASE("changing a user's password, role or state ends their sessions", "[console-auth]") {
  AuthFixture f("session-end");
  f.add_user("frank", Role::kOperator);
  auto login = [&] {
    auto r = f.auth->login("frank", kPassword, "10.0.6.1");
    REQUIRE(r.kind == LoginResult::Kind::kOk);
    REQUIRE(f.auth->session(f.with_cookie(r.session_id)));
    return r.session_id;
  };
  std::string id = login();
  REQUIRE(f.store
              ->update_user("frank", UserUpdate{Role::kViewer, std::nullopt, std::nullopt},
                            "cli:test", "user.role")
              .ok());
  CHECK_FALSE(f.auth->session(f.with_cookie(id)));
  id = login();
  REQUIRE(f.store
              ->update_user("frank",
                            UserUpdate{std::nullopt, hash_password(kPassword), std::nullopt},
                            "cli:test", "user.password")
              .ok());
  CHECK_FALSE(f.auth->session(f.with_cookie(id)));
  id = login();
  REQUIRE(f.store
              ->update_user("frank", UserUpdate{std::nullopt, std::nullopt, true}, "cli:test",
                            "user.disable")
              .ok());
  CHECK_FALSE(f.auth->session(f.with_cookie(id)));
  CHECK(f.auth->login("frank", kPassword, "10.0.6.1").kind == LoginResult::Kind::kWrong);
}

TEST_CASE("the CSRF token must be the session's own, in full", "[console-auth]") {
  ConsoleSession s{"alice", Role::kOperator, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"};
  HttpRequest r;
  CHECK_FALSE(ConsoleAuth::csrf_ok(s, r));
  r.headers["x-csrf-token"] = s.csrf_token;
  CHECK(ConsoleAuth::csrf_ok(s, r));
  r.headers["x-csrf-token"] = s.csrf_token.substr(0, 42);
  CHECK_FALSE(ConsoleAuth::csrf_ok(s, r));
  r.headers["x-csrf-token"] = s.csrf_token + "H";
  CHECK_FALSE(ConsoleAuth::csrf_ok(s, r));
  r.headers["x-csrf-token"] = "bbcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
  CHECK_FALSE(ConsoleAuth::csrf_ok(s, r));
  ConsoleSession no_token{"alice", Role::kOperator, ""};
  r.headers["x-csrf-token"] = "";
  CHECK_FALSE(ConsoleAuth::csrf_ok(no_token, r));
  CHECK(secrets_equal("same", "same"));
  CHECK_FALSE(secrets_equal("same", "Same"));
}

TEST_CASE("the session cookie is HttpOnly, SameSite=Strict, Path=/ and Secure only under TLS",
          "[console-auth]") {
  AuthFixture f("cookie");
  CHECK(f.auth->session_cookie("ID") == "xj_session=ID; HttpOnly; SameSite=Strict; Path=/");
  ConsoleAuth tls(*f.store, f.cfg, true);
  CHECK(tls.session_cookie("ID") == "xj_session=ID; HttpOnly; SameSite=Strict; Path=/; Secure");
  CHECK(tls.clearing_cookie().find("Max-Age=0") != std::string::npos);
  HttpRequest r;
  r.headers["cookie"] = "a=1; xj_session=abc; b=2";
  CHECK(ConsoleAuth::cookie_session_id(r) == "abc");
  r.headers["cookie"] = "xj_sessionx=abc";
  CHECK(ConsoleAuth::cookie_session_id(r).empty());
}

TEST_CASE("the console allow-list matches IPv4 and IPv6 sources by prefix", "[console-auth]") {
  auto r = AddressRange::parse("10.1.0.0/16");
  REQUIRE(r);
  CHECK(r->contains("10.1.200.3"));
  CHECK_FALSE(r->contains("10.2.0.1"));
  CHECK(r->contains("::ffff:10.1.0.9"));  // an IPv4 client on a dual-stack socket
  auto v6 = AddressRange::parse("2001:db8::/32");
  REQUIRE(v6);
  CHECK(v6->contains("2001:db8:1::5"));
  CHECK_FALSE(v6->contains("2001:db9::5"));
  CHECK_FALSE(v6->contains("10.1.0.1"));
  CHECK(AddressRange::parse("192.0.2.1")->contains("192.0.2.1"));
  CHECK_FALSE(AddressRange::parse("192.0.2.1")->contains("192.0.2.2"));
  CHECK_FALSE(AddressRange::parse("10.0.0.0/33"));
  CHECK_FALSE(AddressRange::parse("intranet"));

  AuthFixture f("allow");
  f.cfg.allow = {*AddressRange::parse("10.0.0.0/8"), *AddressRange::parse("::1")};
  f.restart();
  HttpRequest req;
  req.remote = "10.3.4.5:5555";
  CHECK(f.auth->allowed(req));
  req.remote = "[::1]:5555";
  CHECK(f.auth->allowed(req));
  req.remote = "192.168.1.1:5555";
  CHECK_FALSE(f.auth->allowed(req));
}

TEST_CASE("the console section is read with its defaults and its errors name file, line and key",
          "[console-auth]") {
  const fs::path dir = fs::path(XJ_BINARY_DIR) / "console-auth-tests";
  fs::create_directories(dir);
  auto load = [&](const std::string& name, const std::string& console) {
    const fs::path p = dir / name;
    std::ofstream(p)
        << "collector:\n  listen: 127.0.0.1:0\n  store: /tmp/x.db\ncontract:\n  customer: x\n"
        << console;
    return p.string();
  };
  auto defaults = load_collector_config(load("console-defaults.yaml", ""));
  CHECK(defaults.console.allow.empty());
  CHECK(defaults.console.max_failures == 5);
  CHECK(defaults.console.lock_for == std::chrono::minutes(15));
  CHECK(defaults.console.idle == std::chrono::minutes(30));
  CHECK(defaults.console.absolute == std::chrono::hours(12));
  CHECK(defaults.console.password_min_length == 12);
  auto set = load_collector_config(load(
      "console-set.yaml",
      "console:\n  allow: [10.0.0.0/8, 127.0.0.1]\n  lockout: {max_failures: 3, lock_for: 1h}\n"
      "  session: {idle: 10m, absolute: 8h}\n  password_min_length: 16\n"));
  CHECK(set.console.allow.size() == 2);
  CHECK(set.console.max_failures == 3);
  CHECK(set.console.lock_for == std::chrono::hours(1));
  CHECK(set.console.idle == std::chrono::minutes(10));
  CHECK(set.console.absolute == std::chrono::hours(8));
  CHECK(set.console.password_min_length == 16);
  auto error_of = [&](const std::string& name, const std::string& console) -> std::string {
    try {
      load_collector_config(load(name, console));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(accepted)";
  };
  const std::string bad_cidr =
      error_of("console-cidr.yaml", "console:\n  allow:\n    - 10.0.0.0/8\n    - intranet\n");
  CHECK(bad_cidr.find("console-cidr.yaml:9") != std::string::npos);
  CHECK(bad_cidr.find("console.allow[1]") != std::string::npos);
  CHECK(bad_cidr.find("'intranet'") != std::string::npos);
  const std::string unknown = error_of("console-key.yaml", "console:\n  lockout: {max_fails: 3}\n");
  CHECK(unknown.find("max_fails") != std::string::npos);
  CHECK(unknown.find("console-key.yaml:7") != std::string::npos);
  const std::string weak = error_of("console-weak.yaml", "console:\n  password_min_length: 4\n");
  CHECK(weak.find("password_min_length") != std::string::npos);
}
