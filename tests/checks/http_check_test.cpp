// The http check: pure helpers on fixed input, then real requests against
// tests/fixtures/http/server.py on 127.0.0.1 (plain and HTTPS with a fresh self-signed cert).
#include "xj/checks/http_check.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <regex>
#include <string>

#include "../fixtures/http/test_server.hpp"
#include "xj/checks/registry.hpp"
#include "xj/common/config_error.hpp"

using namespace xj;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using TestServer = test::HttpTestServer;
using test::closed_port;

// Per test process: ctest runs each test case in its own process, possibly in parallel.
struct ScratchDir {
  fs::path path = fs::path(XJ_BINARY_DIR) / ("http_check_test." + std::to_string(::getpid()));
  ScratchDir() { fs::create_directories(path); }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

fs::path scratch_dir() {
  static const ScratchDir dir;
  return dir.path;
}

// A self-signed certificate for 127.0.0.1, valid for 10 days.
const fs::path& tls_cert() {
  static const fs::path cert = [] {
    const fs::path c = scratch_dir() / "cert.pem";
    test::make_self_signed(c, scratch_dir() / "key.pem", "/CN=127.0.0.1", "IP:127.0.0.1");
    return c;
  }();
  return cert;
}

TestServer& plain_server() {
  static TestServer server({});
  return server;
}

TestServer& tls_server() {
  static TestServer server({"--tls", tls_cert().string(), (scratch_dir() / "key.pem").string()});
  return server;
}

Result run_yaml(const std::string& yaml, std::chrono::milliseconds timeout = 10s) {
  auto def = load_check(YAML::Load(yaml), "t.yaml", "checks[0]", CheckEnv{});
  RunContext ctx(timeout);
  return run_guarded(*def.check, ctx);
}

const Metric* metric(const Result& r, const std::string& name) {
  for (const auto& m : r.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("a 200 whose body contains the expected text is ok with status and latency",
          "[http][real]") {
  Result r = run_yaml("kind: http\nurl: " + plain_server().url("/ok") +
                      "\ncontains: '\"status\": \"UP\"'\n");
  INFO(r.summary);
  CHECK(r.status == Status::kOk);
  CHECK(r.check == "http:" + plain_server().url("/ok"));
  REQUIRE(metric(r, "status_code") != nullptr);
  CHECK(metric(r, "status_code")->value == 200);
  REQUIRE(metric(r, "latency_ms") != nullptr);
  CHECK(metric(r, "latency_ms")->value > 0);
  CHECK(metric(r, "cert_days_left") == nullptr);
  CHECK(r.summary.rfind("GET " + plain_server().url("/ok") + ": 200 in ", 0) == 0);
}

TEST_CASE("a 503 makes the check critical, naming the status and what came back", "[http][real]") {
  Result r = run_yaml("kind: http\nurl: " + plain_server().url("/fail") + "\n");
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.find(": status 503, expected 200 (") != std::string::npos);
  CHECK(r.summary.find("service unavailable") != std::string::npos);
  // ... and accepting 5xx turns the same answer into ok.
  Result ok =
      run_yaml("kind: http\nurl: " + plain_server().url("/fail") + "\nexpect_status: [200, 5xx]\n");
  CHECK(ok.status == Status::kOk);
}

TEST_CASE("a body without the expected text is critical with what was expected and what came",
          "[http][real]") {
  Result r = run_yaml("kind: http\nurl: " + plain_server().url("/down") + "\ncontains: UP\n");
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.find("body does not contain 'UP'") != std::string::npos);
  CHECK(r.summary.find("DOWN") != std::string::npos);
  Result re =
      run_yaml("kind: http\nurl: " + plain_server().url("/down") + "\nregex: '\"ok\": *true'\n");
  CHECK(re.status == Status::kCritical);
  CHECK(re.summary.find("does not match") != std::string::npos);
  Result re_ok =
      run_yaml("kind: http\nurl: " + plain_server().url("/ok") + "\nregex: '\"ok\": *true'\n");
  CHECK(re_ok.status == Status::kOk);
}

TEST_CASE("a JSON pointer in the body must hold the expected value", "[http][real]") {
  const std::string base = "kind: http\nurl: " + plain_server().url("/ok") + "\n";
  CHECK(run_yaml(base + "json_pointer: /status\njson_value: UP\n").status == Status::kOk);
  CHECK(run_yaml(base + "json_pointer: /db/ok\njson_value: 'true'\n").status == Status::kOk);
  Result bad = run_yaml("kind: http\nurl: " + plain_server().url("/down") +
                        "\njson_pointer: /db/ok\njson_value: 'true'\n");
  CHECK(bad.status == Status::kCritical);
  CHECK(bad.summary.find("/db/ok is false, expected true") != std::string::npos);
}

TEST_CASE("a response slower than latency_warn is a warning", "[http][real]") {
  Result r = run_yaml("kind: http\nurl: " + plain_server().url("/slow") +
                      "\nlatency_warn: 1s\nlatency_crit: 10s\n");
  INFO(r.summary);
  CHECK(r.status == Status::kWarning);
  REQUIRE(metric(r, "latency_ms") != nullptr);
  CHECK(metric(r, "latency_ms")->value >= 2900);
  CHECK(metric(r, "latency_ms")->warn->str() == "~:1000");
  CHECK(r.summary.find("slower than 1s") != std::string::npos);
}

TEST_CASE("a server slower than the timeout is critical within about the timeout", "[http][real]") {
  const std::string url = plain_server().url("/slow");
  const auto started = std::chrono::steady_clock::now();
  Result r = run_yaml("kind: http\nurl: " + url + "\n", 1s);
  const auto took = std::chrono::steady_clock::now() - started;
  INFO(r.summary);
  CHECK(took < 1800ms);
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.rfind("GET " + url + ": timed out after 1s", 0) == 0);
}

TEST_CASE("a closed port is critical naming the URL and the cause", "[http][real]") {
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/health";
  Result r = run_yaml("kind: http\nurl: " + url + "\n");
  INFO(r.summary);
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.rfind("GET " + url + ": ", 0) == 0);
  CHECK((r.summary.find("Couldn't connect") != std::string::npos ||
         r.summary.find("Connection refused") != std::string::npos));
}

TEST_CASE("redirects are reported unless follow_redirects is on", "[http][real]") {
  Result r = run_yaml("kind: http\nurl: " + plain_server().url("/redirect") + "\n");
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.find("status 302") != std::string::npos);
  Result f = run_yaml("kind: http\nurl: " + plain_server().url("/redirect") +
                      "\nfollow_redirects: true\ncontains: UP\n");
  INFO(f.summary);
  CHECK(f.status == Status::kOk);
  CHECK(f.details["effective_url"] == plain_server().url("/ok"));
}

TEST_CASE("method, headers and body are sent as configured", "[http][real]") {
  const std::string base = "kind: http\nurl: " + plain_server().url("/echo") +
                           "\nmethod: PUT\nheaders: {X-Token: abc 123}\nbody: '{\"k\":1}'\n";
  CHECK(run_yaml(base + "json_pointer: /method\njson_value: PUT\n").status == Status::kOk);
  CHECK(run_yaml(base + "json_pointer: /headers/X-Token\njson_value: abc 123\n").status ==
        Status::kOk);
  CHECK(run_yaml(base + "json_pointer: /body\njson_value: '{\"k\":1}'\n").status == Status::kOk);
  Result head = run_yaml("kind: http\nurl: " + plain_server().url("/ok") + "\nmethod: HEAD\n");
  CHECK(head.status == Status::kOk);
  CHECK(head.details["body_bytes"] == 0);
}

TEST_CASE("only max_body of a large body is read", "[http][real]") {
  Result r = run_yaml("kind: http\nurl: " + plain_server().url("/big") +
                      "\nmax_body: 64KB\ncontains: END\n");
  INFO(r.summary);
  CHECK(r.details["body_truncated"] == true);
  CHECK(r.details["body_bytes"] == 64 * 1024);
  CHECK(r.status == Status::kCritical);  // "END" lies beyond what was read
  CHECK(r.summary.find("cut at max_body") != std::string::npos);
  Result whole = run_yaml("kind: http\nurl: " + plain_server().url("/big") +
                          "\nmax_body: 4MB\ncontains: END\n");
  CHECK(whole.status == Status::kOk);
}

TEST_CASE("the agent's http_proxy is ignored and only a configured proxy is used", "[http][real]") {
  const std::string dead_proxy = "http://127.0.0.1:" + std::to_string(closed_port());
  ::setenv("http_proxy", dead_proxy.c_str(), 1);
  Result direct = run_yaml("kind: http\nurl: " + plain_server().url("/ok") + "\n");
  Result proxied =
      run_yaml("kind: http\nurl: " + plain_server().url("/ok") + "\nproxy: " + dead_proxy + "\n");
  ::unsetenv("http_proxy");
  INFO(direct.summary);
  CHECK(direct.status == Status::kOk);
  INFO(proxied.summary);
  CHECK(proxied.status == Status::kCritical);
  CHECK(proxied.details["error"].get<std::string>().find("proxy " + dead_proxy.substr(7)) !=
        std::string::npos);
}

TEST_CASE("HTTPS with a self-signed certificate fails verification when no CA is given",
          "[http][real][tls]") {
  Result r = run_yaml("kind: http\nurl: " + tls_server().url("/ok", "https") + "\n");
  INFO(r.summary);
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.find("certificate verify failed") != std::string::npos);
  CHECK(r.summary.find("certificate") != std::string::npos);
  // Switching verification off is an explicit choice that makes it pass.
  Result off = run_yaml("kind: http\nurl: " + tls_server().url("/ok", "https") +
                        "\nverify_tls: false\ncert_warn: 0s\ncert_crit: 0s\n");
  CHECK(off.status == Status::kOk);
}

TEST_CASE("HTTPS trusted through ca_file reports the certificate's days left",
          "[http][real][tls]") {
  const std::string base = "kind: http\nurl: " + tls_server().url("/ok", "https") +
                           "\nca_file: " + tls_cert().string() + "\n";
  Result r = run_yaml(base + "cert_warn: 5d\ncert_crit: 1d\ncontains: UP\n");
  INFO(r.summary);
  CHECK(r.status == Status::kOk);
  const Metric* days = metric(r, "cert_days_left");
  REQUIRE(days != nullptr);
  CHECK(days->value > 9.0);
  CHECK(days->value <= 10.0);
  // 10 while the certificate is less than a second old, 9 after.
  CHECK((r.summary.find("certificate expires in 9 days") != std::string::npos ||
         r.summary.find("certificate expires in 10 days") != std::string::npos));
  CHECK(r.details["cert_subject"] == "CN=127.0.0.1");
  CHECK(r.details["cert_issuer"] == "CN=127.0.0.1");
  const std::string expires = r.details["cert_expires"];
  INFO(expires);
  CHECK(std::regex_match(expires, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));

  Result warn = run_yaml(base + "cert_warn: 30d\n");  // the default
  CHECK(warn.status == Status::kWarning);
  CHECK(warn.summary.find("warning below 30 days") != std::string::npos);
  Result crit = run_yaml(base + "cert_crit: 15d\n");
  CHECK(crit.status == Status::kCritical);
}

TEST_CASE("a ca_file that cannot be read makes the check unknown, not critical",
          "[http][real][tls]") {
  Result r = run_yaml("kind: http\nurl: " + tls_server().url("/ok", "https") +
                      "\nca_file: /nonexistent/ca.pem\n");
  INFO(r.summary);
  CHECK(r.status == Status::kUnknown);
  CHECK(r.summary.find("cannot read '/nonexistent/ca.pem'") != std::string::npos);
}

TEST_CASE("http configs with bad values are rejected at load naming the key", "[http]") {
  struct Bad {
    std::string yaml, key;
  };
  const std::vector<Bad> cases = {
      {"url: 'not a url'", "key 'url'"},
      {"url: ftp://127.0.0.1/x", "key 'url'"},
      {"url: http://x/\nexpect_status: [2x0]", "key 'expect_status'"},
      {"url: http://x/\njson_value: UP", "key 'json_value'"},
      {"url: http://x/\njson_pointer: status\njson_value: UP", "key 'json_pointer'"},
      {"url: http://x/\njson_pointer: /status", "key 'json_pointer'"},
      {"url: http://x/\nmethod: HEAD\ncontains: UP", "key 'method'"},
      {"url: http://x/\nmethod: get", "key 'method'"},
      {"url: http://x/\nregex: '(['", "key 'regex'"},
      {"url: http://x/\nkey_file: /k.pem", "key 'key_file'"},
      {"url: http://x/\nlatency_warn: fast", "key 'latency_warn'"},
      {"url: http://x/\nproxy: https://proxy:3128", "key 'proxy'"},
      {"url: 'http://[::1/'", "key 'url'"},
      {"method: GET", "missing required key 'url'"},
  };
  for (const auto& c : cases) {
    INFO(c.yaml);
    try {
      (void)load_check(YAML::Load("kind: http\n" + c.yaml), "t.yaml", "checks[0]", CheckEnv{});
      FAIL("accepted");
    } catch (const ConfigError& e) {
      CHECK(std::string(e.what()).find(c.key) != std::string::npos);
      CHECK(std::string(e.what()).rfind("t.yaml:", 0) == 0);
    }
  }
}
