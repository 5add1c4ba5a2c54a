// The HTTP client against tests/fixtures/http/server.py on loopback: plain, HTTPS with
// certificates made here, IPv6, through the server's own forward proxy.
#include "xj/common/http_client.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "../fixtures/http/test_server.hpp"

using namespace xj;
using namespace std::chrono_literals;
using test::HttpTestServer;
namespace fs = std::filesystem;

namespace {

// Per test process: ctest runs each test case in its own process, possibly in parallel.
struct ScratchDir {
  fs::path path = fs::path(XJ_BINARY_DIR) / ("http_client_test." + std::to_string(::getpid()));
  ScratchDir() { fs::create_directories(path); }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

const fs::path& scratch() {
  static const ScratchDir dir;
  return dir.path;
}

HttpTestServer& plain_server() {
  static HttpTestServer server({});
  return server;
}

// Certificate for 127.0.0.1 only, valid 10 days.
fs::path ip_cert() {
  static const bool made = [] {
    test::make_self_signed(scratch() / "ip.pem", scratch() / "ip.key", "/CN=127.0.0.1",
                           "IP:127.0.0.1");
    return true;
  }();
  (void)made;
  return scratch() / "ip.pem";
}

// Certificate for the name localhost only.
fs::path localhost_cert() {
  static const bool made = [] {
    test::make_self_signed(scratch() / "lh.pem", scratch() / "lh.key", "/CN=localhost",
                           "DNS:localhost");
    return true;
  }();
  (void)made;
  return scratch() / "lh.pem";
}

HttpTestServer& tls_server() {
  static HttpTestServer server({"--tls", ip_cert().string(), (scratch() / "ip.key").string()});
  return server;
}

HttpTestServer& localhost_tls_server() {
  static HttpTestServer server(
      {"--tls", localhost_cert().string(), (scratch() / "lh.key").string()});
  return server;
}

HttpClientRequest get(const std::string& url) {
  HttpClientRequest r;
  r.url = url;
  r.timeout = 10s;
  return r;
}

nlohmann::json json_of(const HttpClientResponse& r) { return nlohmann::json::parse(r.body); }

std::int64_t now_epoch() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TEST_CASE("a plain GET returns the status, headers, body and timings", "[http_client][real]") {
  const std::string url = plain_server().url("/ok");
  auto r = http_request(get(url));
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->header("content-TYPE") == "application/json");
  CHECK(r->body == R"({"status": "UP", "db": {"ok": true}})");
  CHECK_FALSE(r->body_truncated);
  CHECK(r->final_url == url);
  CHECK(r->timings.total_ms > 0);
  CHECK(r->timings.connect_ms <= r->timings.total_ms);
  CHECK(r->timings.tls_ms == 0);
  CHECK_FALSE(r->peer_cert.has_value());
  CHECK_FALSE(r->header("X-Proxy").has_value());
}

TEST_CASE("a POST sends its method, headers and body as given", "[http_client][real]") {
  HttpClientRequest req = get(plain_server().url("/echo"));
  req.method = "POST";
  req.headers = {{"X-Token", "abc 123"}, {"Content-Type", "application/json"}};
  req.body = R"({"k":1})";
  auto r = http_request(req);
  REQUIRE(r.ok());
  const auto echo = json_of(*r);
  CHECK(echo["method"] == "POST");
  CHECK(echo["path"] == "/echo");
  CHECK(echo["body"] == R"({"k":1})");
  CHECK(echo["headers"]["X-Token"] == "abc 123");
  CHECK(echo["headers"]["Content-Length"] == "7");
  CHECK(echo["headers"]["Host"] == "127.0.0.1:" + std::to_string(plain_server().port()));
  CHECK(echo["headers"]["User-Agent"].get<std::string>().rfind("xunjian/", 0) == 0);
  // A caller's User-Agent replaces ours; a bodiless DELETE sends no Content-Length.
  HttpClientRequest del = get(plain_server().url("/echo"));
  del.method = "DELETE";
  del.headers = {{"User-Agent", "probe/1"}};
  auto d = http_request(del);
  REQUIRE(d.ok());
  CHECK(json_of(*d)["method"] == "DELETE");
  CHECK(json_of(*d)["headers"]["User-Agent"] == "probe/1");
  CHECK_FALSE(json_of(*d)["headers"].contains("Content-Length"));
}

TEST_CASE("a chunked response is read whole, and cut at max_body like any other",
          "[http_client][real]") {
  auto r = http_request(get(plain_server().url("/chunked")));
  REQUIRE(r.ok());
  CHECK(r->header("Transfer-Encoding") == "chunked");
  CHECK(r->body == "chunk one, chunk two, END");
  CHECK_FALSE(r->body_truncated);
  HttpClientRequest small = get(plain_server().url("/chunked"));
  small.max_body = 10;
  auto cut = http_request(small);
  REQUIRE(cut.ok());
  CHECK(cut->body == "chunk one,");
  CHECK(cut->body_truncated);
}

TEST_CASE("only max_body of a large body is read", "[http_client][real]") {
  HttpClientRequest req = get(plain_server().url("/big"));
  req.max_body = 64 * 1024;
  auto cut = http_request(req);
  REQUIRE(cut.ok());
  CHECK(cut->body.size() == 64 * 1024);
  CHECK(cut->body_truncated);
  req.max_body = 4 * 1024 * 1024;
  auto whole = http_request(req);
  REQUIRE(whole.ok());
  CHECK(whole->body.size() == 2 * 1024 * 1024 + 3);
  CHECK(whole->body.substr(whole->body.size() - 3) == "END");
  CHECK_FALSE(whole->body_truncated);
}

TEST_CASE("a server slower than the timeout fails within about the timeout, naming it",
          "[http_client][real]") {
  const std::string url = plain_server().url("/slow");
  HttpClientRequest req = get(url);
  req.timeout = 1s;
  const auto started = std::chrono::steady_clock::now();
  auto r = http_request(req);
  const auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(r.ok());
  INFO(r.error());
  CHECK(r.failure().kind == HttpErrorKind::kTimeout);
  CHECK(r.error() == "GET " + url + ": timed out after 1s (reading the response)");
  CHECK(took >= 900ms);
  CHECK(took < 1500ms);
  // A deadline before now + timeout ends it first; the message still names the timeout.
  req.timeout = 10s;
  req.deadline = std::chrono::steady_clock::now() + 500ms;
  const auto again = std::chrono::steady_clock::now();
  auto early = http_request(req);
  CHECK(std::chrono::steady_clock::now() - again < 1s);
  REQUIRE_FALSE(early.ok());
  CHECK(early.failure().kind == HttpErrorKind::kTimeout);
  CHECK(early.error().find("timed out after 10s") != std::string::npos);
}

TEST_CASE("a closed port fails as a connect error naming the URL and the cause",
          "[http_client][real]") {
  const std::string port = std::to_string(test::closed_port());
  const std::string url = "http://127.0.0.1:" + port + "/health";
  auto r = http_request(get(url));
  REQUIRE_FALSE(r.ok());
  CHECK(r.failure().kind == HttpErrorKind::kConnect);
  CHECK(r.error() == "GET " + url + ": connect to 127.0.0.1:" + port + ": Connection refused");
}

TEST_CASE("a cancel flag set from another thread ends the request early", "[http_client][real]") {
  std::atomic<bool> cancel{false};
  HttpClientRequest req = get(plain_server().url("/slow"));
  req.cancel = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    cancel = true;
  });
  const auto started = std::chrono::steady_clock::now();
  auto r = http_request(req);
  const auto took = std::chrono::steady_clock::now() - started;
  canceller.join();
  REQUIRE_FALSE(r.ok());
  CHECK(r.failure().kind == HttpErrorKind::kCancelled);
  CHECK(r.error().find(": cancelled") != std::string::npos);
  CHECK(took < 1s);
}

TEST_CASE("HTTPS to a self-signed certificate fails verification unless its CA is given",
          "[http_client][real][tls]") {
  const std::string url = tls_server().url("/ok", "https");
  auto r = http_request(get(url));
  REQUIRE_FALSE(r.ok());
  CHECK(r.failure().kind == HttpErrorKind::kTlsVerify);
  CHECK(r.error() ==
        "GET " + url + ": TLS handshake: certificate verify failed (self-signed certificate)");
  // Switching verification off is an explicit choice; the certificate is still reported.
  HttpClientRequest off = get(url);
  off.verify_tls = false;
  auto o = http_request(off);
  REQUIRE(o.ok());
  CHECK(o->status == 200);
  CHECK(o->peer_cert.has_value());
}

TEST_CASE("HTTPS trusted through ca_file reports the certificate's expiry, subject and issuer",
          "[http_client][real][tls]") {
  HttpClientRequest req = get(tls_server().url("/ok", "https"));
  req.ca_file = ip_cert().string();
  auto r = http_request(req);
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body.find("UP") != std::string::npos);
  CHECK(r->timings.tls_ms > 0);
  REQUIRE(r->peer_cert.has_value());
  // `openssl req -days 10` a moment ago.
  CHECK(r->peer_cert->not_after > now_epoch() + 10 * 86400 - 300);
  CHECK(r->peer_cert->not_after <= now_epoch() + 10 * 86400);
  CHECK(r->peer_cert->subject == "CN=127.0.0.1");
  CHECK(r->peer_cert->issuer == "CN=127.0.0.1");
}

TEST_CASE("a certificate for another host name fails verification even from a trusted CA",
          "[http_client][real][tls]") {
  // The certificate names localhost only; 127.0.0.1 is the same server but not that name.
  HttpClientRequest req = get(localhost_tls_server().url("/ok", "https"));
  req.ca_file = localhost_cert().string();
  auto r = http_request(req);
  REQUIRE_FALSE(r.ok());
  CHECK(r.failure().kind == HttpErrorKind::kTlsVerify);
  CHECK(r.error().find("certificate verify failed (IP address mismatch)") != std::string::npos);
  // By its name (resolved, sent as SNI, checked against the DNS entry) it verifies.
  req.url = localhost_tls_server().url("/ok", "https", "localhost");
  auto named = http_request(req);
  INFO((named.ok() ? "" : named.error()));
  REQUIRE(named.ok());
  CHECK(named->status == 200);
  CHECK(named->peer_cert->subject == "CN=localhost");
}

TEST_CASE("redirects are followed up to the limit when asked, and reported otherwise",
          "[http_client][real]") {
  auto plain = http_request(get(plain_server().url("/redirect")));
  REQUIRE(plain.ok());
  CHECK(plain->status == 302);
  CHECK(plain->header("Location") == "/ok");

  HttpClientRequest req = get(plain_server().url("/redirect"));
  req.follow_redirects = true;
  auto followed = http_request(req);
  REQUIRE(followed.ok());
  CHECK(followed->status == 200);
  CHECK(followed->body.find("UP") != std::string::npos);
  CHECK(followed->final_url == plain_server().url("/ok"));

  req.url = plain_server().url("/loop");
  auto loop = http_request(req);
  REQUIRE_FALSE(loop.ok());
  CHECK(loop.failure().kind == HttpErrorKind::kTransfer);
  CHECK(loop.error().find("more than 5 redirects") != std::string::npos);

  // 303 See Other turns a POST into a GET without its body.
  req.url = plain_server().url("/see-other");
  req.method = "POST";
  req.body = "form=1";
  auto seen = http_request(req);
  REQUIRE(seen.ok());
  CHECK(json_of(*seen)["method"] == "GET");
  CHECK(json_of(*seen)["body"] == "");
}

TEST_CASE("through a proxy, HTTP goes in absolute form and HTTPS through a CONNECT tunnel",
          "[http_client][real]") {
  // server.py is its own forward proxy: a second instance stands in for it.
  static HttpTestServer proxy({});
  const std::string proxy_url = proxy.url("");
  HttpClientRequest req = get(plain_server().url("/echo"));
  req.proxy = proxy_url;
  auto r = http_request(req);
  REQUIRE(r.ok());
  CHECK(r->header("X-Proxy") == "server.py");
  CHECK(json_of(*r)["path"] == "/echo");

  const auto connects = [&] {
    return json_of(*http_request(get(proxy.url("/stats"))))["connects"].get<int>();
  };
  const int before = connects();
  HttpClientRequest tls = get(tls_server().url("/ok", "https"));
  tls.ca_file = ip_cert().string();
  tls.proxy = proxy_url;
  auto t = http_request(tls);
  INFO((t.ok() ? "" : t.error()));
  REQUIRE(t.ok());
  CHECK(t->status == 200);
  CHECK(t->peer_cert->subject == "CN=127.0.0.1");
  CHECK(connects() == before + 1);

  const std::string dead = std::to_string(test::closed_port());
  req.proxy = "http://127.0.0.1:" + dead;
  auto refused = http_request(req);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.failure().kind == HttpErrorKind::kConnect);
  CHECK(refused.error().find("connect to proxy 127.0.0.1:" + dead + ": Connection refused") !=
        std::string::npos);
}

TEST_CASE("an IPv6 literal host in brackets is reached and named in the Host header",
          "[http_client][real]") {
  HttpTestServer v6({"--ipv6"});
  auto r = http_request(get(v6.url("/echo")));
  INFO((r.ok() ? "" : r.error()));
  REQUIRE(r.ok());
  CHECK(json_of(*r)["headers"]["Host"] == "[::1]:" + std::to_string(v6.port()));
}

TEST_CASE("requests that cannot be made as given fail before connecting, naming the cause",
          "[http_client]") {
  auto kind_and_message = [](HttpClientRequest req) {
    auto r = http_request(req);
    REQUIRE_FALSE(r.ok());
    return std::make_pair(r.failure().kind, r.error());
  };
  auto [k1, m1] = kind_and_message(get("ftp://127.0.0.1/x"));
  CHECK(k1 == HttpErrorKind::kRequest);
  CHECK(m1 == "GET ftp://127.0.0.1/x: 'ftp://127.0.0.1/x' is not an http:// or https:// URL");

  HttpClientRequest injected = get("http://127.0.0.1:1/");
  injected.headers = {{"X-A", "1\r\nX-B: 2"}};
  auto [k2, m2] = kind_and_message(injected);
  CHECK(k2 == HttpErrorKind::kRequest);
  CHECK(m2.find("header X-A: line breaks are not allowed") != std::string::npos);

  HttpClientRequest no_ca = get("https://127.0.0.1:1/");
  no_ca.ca_file = "/nonexistent/ca.pem";
  auto [k3, m3] = kind_and_message(no_ca);
  CHECK(k3 == HttpErrorKind::kRequest);
  CHECK(m3.find("cannot read '/nonexistent/ca.pem': No such file or directory") !=
        std::string::npos);

  HttpClientRequest bad_proxy = get("http://127.0.0.1:1/");
  bad_proxy.proxy = "https://proxy:3128";
  CHECK(kind_and_message(bad_proxy).first == HttpErrorKind::kRequest);

  HttpClientRequest bad_method = get("http://127.0.0.1:1/");
  bad_method.method = "GET /x";
  CHECK(kind_and_message(bad_method).first == HttpErrorKind::kRequest);
}
