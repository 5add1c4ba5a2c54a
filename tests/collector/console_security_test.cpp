// The console's security over plain HTTP(S) requests against the real `xunjian-collector
// serve`, with the first admin made by the real `xunjian-collector user create`. Requests go
// out on raw sockets so every header is visible, and from other loopback addresses
// (127.0.0.2, ...) where a test needs a second client host.
#include <catch2/catch.hpp>
#include <memory>
#include <nlohmann/json.hpp>

#include "collector_process.hpp"
#include "http_test_client.hpp"

using namespace xj::test;
using json = nlohmann::json;

namespace {

const std::string kAdminPassword = "巡检-admin-password-1";
const std::string kPassword = "a long enough password";

struct Call {
  Call(std::string m, std::string t, std::string b = "", std::string from = "127.0.0.1")
      : method(std::move(m)), target(std::move(t)), body(std::move(b)), source(std::move(from)) {}
  std::string method, target, body, source;
  std::map<std::string, std::string> headers;
};

Reply send(std::uint16_t port, const Call& c, const TlsConn::Options* tls = nullptr) {
  std::unique_ptr<Conn> conn = tls != nullptr ? std::make_unique<TlsConn>(port, *tls)
                                              : std::make_unique<Conn>(port, "127.0.0.1", c.source);
  std::string req =
      c.method + " " + c.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : c.headers) req += k + ": " + v + "\r\n";
  if (!c.body.empty() || c.method == "POST") {
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(c.body.size()) +
           "\r\n";
  }
  req += "\r\n" + c.body;
  REQUIRE(conn->send(req));
  auto r = conn->read_reply(30s);  // a login runs a 600000-iteration KDF under the sanitizers
  REQUIRE(r);
  return *r;
}

// The cookie pair ("xj_session=...") of a Set-Cookie value.
std::string cookie_of(const Reply& r) {
  auto it = r.headers.find("set-cookie");
  REQUIRE(it != r.headers.end());
  return it->second.substr(0, it->second.find(';'));
}

struct Session {
  std::string cookie, csrf;
};

Reply login(std::uint16_t port, const std::string& user, const std::string& password,
            const std::string& source = "127.0.0.1") {
  return send(port, Call{"POST", "/api/v1/session",
                         json{{"user", user}, {"password", password}}.dump(), source});
}

Session logged_in(std::uint16_t port, const std::string& user, const std::string& password,
                  const std::string& source = "127.0.0.1") {
  Reply r = login(port, user, password, source);
  INFO(r.body);
  REQUIRE(r.status == 200);
  return Session{cookie_of(r), r.json()["csrf_token"].get<std::string>()};
}

// A request with the session's cookie, and its CSRF token when `csrf` is given.
Reply with_session(std::uint16_t port, const Session& s, const std::string& method,
                   const std::string& target, const std::string& body = "",
                   const std::string& csrf = "", const std::string& source = "127.0.0.1") {
  Call c{method, target, body, source};
  c.headers["Cookie"] = s.cookie;
  if (!csrf.empty()) c.headers["X-CSRF-Token"] = csrf;
  return send(port, c);
}

void check_security_headers(const Reply& r) {
  INFO("status " << r.status << " " << r.body);
  CHECK(r.headers.count("content-security-policy") == 1);
  if (r.headers.count("content-security-policy")) {
    const std::string& csp = r.headers.at("content-security-policy");
    CHECK(csp.find("default-src 'self'") != std::string::npos);
    CHECK(csp.find("script-src 'self'") != std::string::npos);
    CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
    CHECK(csp.find("unsafe-inline") == std::string::npos);
  }
  CHECK(r.headers.count("x-frame-options") == 1);
  if (r.headers.count("x-frame-options")) CHECK(r.headers.at("x-frame-options") == "DENY");
  if (r.headers.count("x-content-type-options"))
    CHECK(r.headers.at("x-content-type-options") == "nosniff");
  CHECK(r.headers.count("x-content-type-options") == 1);
  CHECK(r.headers.count("referrer-policy") == 1);
  CHECK(r.headers.count("cache-control") == 1);
}

// `xunjian-collector user create --admin NAME --password-file F`, as the operator does it.
void create_admin(const RunningCollector& c, const fs::path& dir, const std::string& name) {
  write_text(dir / "admin.pass", kAdminPassword + "\n");
  Run r =
      c.cli({"user", "create", "--admin", name, "--password-file", (dir / "admin.pass").string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("'" + name + "' created (role admin)") != std::string::npos);
}

void create_user(std::uint16_t port, const Session& admin, const std::string& name,
                 const std::string& role) {
  Reply r = with_session(port, admin, "POST", "/api/v1/users",
                         json{{"name", name}, {"role", role}, {"password", kPassword}}.dump(),
                         admin.csrf);
  INFO(r.body);
  REQUIRE(r.status == 201);
}

const std::string kAlerting = "alerts:\n  incidents: {open_levels: [P1]}\n";

}  // namespace

TEST_CASE(
    "console login over plain HTTP sets an HttpOnly SameSite=Strict cookie without Secure, and "
    "logout ends it",
    "[console-security]") {
  TempDir dir;
  RunningCollector c(dir.path());
  // No default account: before the first admin exists, nobody logs in.
  Reply none = login(c.port(), "admin", "admin");
  CHECK(none.status == 401);
  create_admin(c, dir.path(), "zhang");

  Reply ok = login(c.port(), "zhang", kAdminPassword);
  REQUIRE(ok.status == 200);
  CHECK(ok.json()["user"] == "zhang");
  CHECK(ok.json()["role"] == "admin");
  CHECK(ok.json()["csrf_token"].get<std::string>().size() >= 43);
  const std::string set_cookie = ok.headers.at("set-cookie");
  CHECK(set_cookie.rfind("xj_session=", 0) == 0);
  CHECK(set_cookie.find("; HttpOnly") != std::string::npos);
  CHECK(set_cookie.find("; SameSite=Strict") != std::string::npos);
  CHECK(set_cookie.find("; Path=/") != std::string::npos);
  CHECK(set_cookie.find("Secure") == std::string::npos);
  CHECK(cookie_of(ok).size() >= std::string("xj_session=").size() + 43);  // 256 random bits
  check_security_headers(ok);

  const Session s{cookie_of(ok), ok.json()["csrf_token"].get<std::string>()};
  Reply me = with_session(c.port(), s, "GET", "/api/v1/session");
  CHECK(me.status == 200);
  CHECK(me.json()["csrf_token"] == s.csrf);
  check_security_headers(me);
  Reply anonymous = send(c.port(), Call{"GET", "/api/v1/session"});
  CHECK(anonymous.status == 401);
  check_security_headers(anonymous);

  // A form from another site cannot post JSON: a login without Content-Type: application/json is
  // refused.
  std::string raw =
      "POST /api/v1/session HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: "
      "application/x-www-form-urlencoded\r\nContent-Length: 5\r\n\r\nuser=";
  Conn formconn(c.port());
  REQUIRE(formconn.send(raw));
  auto form_reply = formconn.read_reply(30s);
  REQUIRE(form_reply);
  CHECK(form_reply->status == 415);

  Reply users = with_session(c.port(), s, "GET", "/api/v1/users");
  CHECK(users.status == 200);
  CHECK(users.json()["users"][0]["name"] == "zhang");
  CHECK(users.body.find("hash") == std::string::npos);
  CHECK(users.body.find("salt") == std::string::npos);
  check_security_headers(users);

  // Logging out is state-changing: it needs the CSRF token, then the session is gone.
  CHECK(with_session(c.port(), s, "DELETE", "/api/v1/session").status == 403);
  Reply out = with_session(c.port(), s, "DELETE", "/api/v1/session", "", s.csrf);
  CHECK(out.status == 200);
  CHECK(out.headers.at("set-cookie").find("Max-Age=0") != std::string::npos);
  check_security_headers(out);
  CHECK(with_session(c.port(), s, "GET", "/api/v1/session").status == 401);
  CHECK(with_session(c.port(), s, "GET", "/api/v1/hosts").status == 401);
}

TEST_CASE(
    "a state-changing request with a session cookie needs that session's own CSRF token, and roles "
    "hold",
    "[console-security]") {
  TempDir dir;
  RunningCollector c(dir.path(), nullptr, kAlerting);
  create_admin(c, dir.path(), "zhang");
  const Session admin = logged_in(c.port(), "zhang", kAdminPassword);
  create_user(c.port(), admin, "li", "operator");
  create_user(c.port(), admin, "wang", "viewer");
  const Session op = logged_in(c.port(), "li", kPassword);
  const Session viewer = logged_in(c.port(), "wang", kPassword);
  const std::string silence = R"({"matchers":["host=db-01"],"duration":"2h","comment":"升级"})";

  Reply no_token = with_session(c.port(), op, "POST", "/api/v1/silences", silence);
  CHECK(no_token.status == 403);
  CHECK(no_token.body.find("missing or wrong CSRF token") != std::string::npos);
  Reply other_token = with_session(c.port(), op, "POST", "/api/v1/silences", silence, admin.csrf);
  CHECK(other_token.status == 403);
  CHECK(other_token.body.find("missing or wrong CSRF token") != std::string::npos);
  Reply own = with_session(c.port(), op, "POST", "/api/v1/silences", silence, op.csrf);
  INFO(own.body);
  REQUIRE(own.status == 200);
  CHECK(own.json()["silence"]["author"] == "user:li");

  // Licence registry: the operator acts, named in the audit log; the viewer is refused.
  const std::string licence =
      R"({"product":"区块链平台授权","holder":"某市市场监督管理局","expiry":"2027-01-31"})";
  Reply lic = with_session(c.port(), op, "POST", "/api/v1/licences", licence, op.csrf);
  INFO(lic.body);
  CHECK(lic.status < 300);
  CHECK(with_session(c.port(), viewer, "POST", "/api/v1/licences", licence, viewer.csrf).status ==
        403);

  // A viewer reads, but may not act — the server refuses, whatever the page shows.
  CHECK(with_session(c.port(), viewer, "GET", "/api/v1/silences").status == 200);
  CHECK(with_session(c.port(), viewer, "GET", "/api/v1/hosts").status == 200);
  CHECK(with_session(c.port(), viewer, "POST", "/api/v1/silences", silence, viewer.csrf).status ==
        403);
  CHECK(with_session(c.port(), viewer, "POST", "/api/v1/incidents", R"({"title":"x","level":"P2"})",
                     viewer.csrf)
            .status == 403);
  // Only an admin manages users.
  Reply op_users = with_session(c.port(), op, "GET", "/api/v1/users");
  CHECK(op_users.status == 403);
  check_security_headers(op_users);
  // A bearer token carries no cookie, so it needs no CSRF token (and the token path is unchanged).
  Call bearer{"GET", "/api/v1/silences"};
  bearer.headers["Authorization"] = "Bearer " + c.viewer_token();
  CHECK(send(c.port(), bearer).status == 200);

  // The users API names the field and the rule.
  Reply weak = with_session(c.port(), admin, "POST", "/api/v1/users",
                            R"({"name":"zhao","role":"viewer","password":"short"})", admin.csrf);
  CHECK(weak.status == 400);
  CHECK(weak.body.find("field 'password': the password is shorter than 12 characters") !=
        std::string::npos);
  Reply same = with_session(c.port(), admin, "POST", "/api/v1/users",
                            R"({"name":"zhaozhaozhao","role":"viewer","password":"ZHAOZHAOZHAO"})",
                            admin.csrf);
  CHECK(same.status == 400);
  CHECK(same.body.find("the password is the user name") != std::string::npos);
  Reply bad_role = with_session(
      c.port(), admin, "POST", "/api/v1/users",
      R"({"name":"zhao","role":"root","password":"long enough passphrase"})", admin.csrf);
  CHECK(bad_role.status == 400);
  CHECK(bad_role.body.find("field 'role'") != std::string::npos);
  CHECK(with_session(c.port(), admin, "POST", "/api/v1/users/nobody/disable", "{}", admin.csrf)
            .status == 404);
  CHECK(with_session(c.port(), admin, "POST", "/api/v1/users",
                     R"({"name":"li","role":"viewer","password":"long enough passphrase"})",
                     admin.csrf)
            .status == 409);

  // Demoting the operator ends the session at once; so does a password reset.
  Reply demote = with_session(c.port(), admin, "POST", "/api/v1/users/li/role",
                              R"({"role":"viewer"})", admin.csrf);
  CHECK(demote.status == 200);
  CHECK(with_session(c.port(), op, "GET", "/api/v1/session").status == 401);
  Reply reset = with_session(c.port(), admin, "POST", "/api/v1/users/wang/password",
                             R"({"password":"a brand new passphrase"})", admin.csrf);
  CHECK(reset.status == 200);
  CHECK(with_session(c.port(), viewer, "GET", "/api/v1/session").status == 401);
  CHECK(login(c.port(), "wang", kPassword).status == 401);
  CHECK(login(c.port(), "wang", "a brand new passphrase").status == 200);

  // Every console action is in the audit log under the user's name.
  Run audit = c.cli({"audit", "list", "--limit", "1000"});
  REQUIRE(audit.code == 0);
  CHECK(audit.out.find("user:zhang  user.create  user:li") != std::string::npos);
  CHECK(audit.out.find("user:li  silence.add") != std::string::npos);
  CHECK(audit.out.find("user:li  licence.") != std::string::npos);
  CHECK(audit.out.find("user:zhang  user.role  user:li") != std::string::npos);
  CHECK(audit.out.find("user:zhang  user.password  user:wang") != std::string::npos);
  CHECK(c.cli({"audit", "verify"}).code == 0);
}

TEST_CASE(
    "five wrong passwords lock the account, many names from one address lock it, and a restart "
    "keeps locks and sessions",
    "[console-security]") {
  TempDir dir;
  auto c = std::make_unique<RunningCollector>(dir.path());
  create_admin(*c, dir.path(), "zhang");
  const Session admin = logged_in(c->port(), "zhang", kAdminPassword);
  create_user(c->port(), admin, "li", "operator");

  for (int i = 0; i < 5; ++i) {
    Reply wrong = login(c->port(), "zhang", "wrong password " + std::to_string(i));
    CHECK(wrong.status == 401);
    CHECK(wrong.json()["error"] == "user name or password is wrong");
  }
  Reply locked = login(c->port(), "zhang", kAdminPassword);
  CHECK(locked.status == 429);
  CHECK(locked.body.find("this account is temporarily locked") != std::string::npos);
  CHECK(locked.json()["locked_until"].get<std::int64_t>() > 0);
  CHECK(locked.headers.count("retry-after") == 1);
  CHECK(locked.headers.count("set-cookie") == 0);
  // An unknown user gets the same words as a wrong password.
  CHECK(login(c->port(), "nobody-here", "whatever", "127.0.0.5").json()["error"] ==
        "user name or password is wrong");

  // Another user from another address still logs in.
  const Session li = logged_in(c->port(), "li", kPassword, "127.0.0.2");

  // Many user names from one address lock that address, even for a right password.
  for (const char* name : {"root", "admin", "test", "oracle", "guest"}) {
    CHECK(login(c->port(), name, "guess guess guess", "127.0.0.3").status == 401);
  }
  Reply address_locked = login(c->port(), "li", kPassword, "127.0.0.3");
  CHECK(address_locked.status == 429);
  CHECK(address_locked.body.find("logins from this address are temporarily locked") !=
        std::string::npos);

  // A restart keeps the lock and the session.
  c.reset();
  c = std::make_unique<RunningCollector>(dir.path());
  CHECK(login(c->port(), "zhang", kAdminPassword, "127.0.0.4").status == 429);
  CHECK(login(c->port(), "li", kPassword, "127.0.0.3").status == 429);
  CHECK(with_session(c->port(), li, "GET", "/api/v1/session", "", "", "127.0.0.2").status == 200);

  // The administrator on the host lifts the lock.
  Run unlock = c->cli({"user", "unlock", "zhang"});
  INFO(unlock.err);
  CHECK(unlock.code == 0);
  CHECK(login(c->port(), "zhang", kAdminPassword, "127.0.0.4").status == 200);

  Run audit = c->cli({"audit", "list", "--limit", "1000"});
  REQUIRE(audit.code == 0);
  CHECK(audit.out.find("  user.create  user:zhang") != std::string::npos);
  CHECK(audit.out.find("user:zhang  console.login  user:zhang") != std::string::npos);
  CHECK(
      audit.out.find("user:zhang  console.login_failed  user:zhang  {\"address\":\"127.0.0.1\"") !=
      std::string::npos);
  CHECK(audit.out.find("user:zhang  console.lockout  user:zhang") != std::string::npos);
  CHECK(audit.out.find("user:zhang  console.login_refused  user:zhang") != std::string::npos);
  CHECK(audit.out.find("console.lockout  address:127.0.0.3") != std::string::npos);
  CHECK(audit.out.find("  user.unlock  user:zhang") != std::string::npos);
  Run verify = c->cli({"audit", "verify"});
  CHECK(verify.code == 0);
  CHECK(verify.out.find("SM3 chain verified") != std::string::npos);
}

TEST_CASE("under TLS the session cookie is also Secure", "[console-security]") {
  TempDir dir;
  const TestCert cert = make_test_cert(dir.path());
  RunningCollector c(dir.path(), &cert);
  create_admin(c, dir.path(), "zhang");
  TlsConn::Options tls;
  tls.ca_file = cert.cert;
  Reply ok = send(
      c.port(),
      Call{"POST", "/api/v1/session", json{{"user", "zhang"}, {"password", kAdminPassword}}.dump()},
      &tls);
  REQUIRE(ok.status == 200);
  const std::string set_cookie = ok.headers.at("set-cookie");
  CHECK(set_cookie.find("; HttpOnly") != std::string::npos);
  CHECK(set_cookie.find("; SameSite=Strict") != std::string::npos);
  CHECK(set_cookie.find("; Secure") != std::string::npos);
  check_security_headers(ok);
}

TEST_CASE("console.allow refuses logins and session requests from other addresses with 403",
          "[console-security]") {
  TempDir dir;
  RunningCollector c(dir.path(), nullptr, "console:\n  allow: [127.0.0.2/32]\n");
  create_admin(c, dir.path(), "zhang");
  Reply refused = login(c.port(), "zhang", kAdminPassword, "127.0.0.1");
  CHECK(refused.status == 403);
  CHECK(refused.body.find("console.allow") != std::string::npos);
  check_security_headers(refused);
  const Session s = logged_in(c.port(), "zhang", kAdminPassword, "127.0.0.2");
  CHECK(with_session(c.port(), s, "GET", "/api/v1/hosts", "", "", "127.0.0.2").status == 200);
  // The cookie alone does not open the API from an address outside the list.
  CHECK(with_session(c.port(), s, "GET", "/api/v1/hosts", "", "", "127.0.0.1").status == 403);
}
