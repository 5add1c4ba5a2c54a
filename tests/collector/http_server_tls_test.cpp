// The collector's HTTP server: TLS (with a certificate made by the openssl CLI per test), the
// rule that plain HTTP needs loopback or insecure_http, and the start() errors an operator sees.
#include <cstdlib>
#include <fstream>
#include <thread>

#include "http_test_client.hpp"

using namespace xj;
using namespace xj::test;
namespace fs = std::filesystem;

namespace {

struct CertFiles {
  std::string cert;
  std::string key;
};

// A self-signed certificate for 127.0.0.1 and localhost, made the way an operator would.
CertFiles make_cert(const fs::path& dir, const std::string& name = "server") {
  CertFiles f{(dir / (name + ".crt")).string(), (dir / (name + ".key")).string()};
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout '" +
      f.key + "' -out '" + f.cert + "' 2>'" + (dir / "openssl.log").string() + "'";
  INFO(cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);
  return f;
}

HttpServerOptions tls_options(const CertFiles& f) {
  HttpServerOptions o;
  o.listen = "127.0.0.1:0";
  o.tls_cert_file = f.cert;
  o.tls_key_file = f.key;
  return o;
}

TlsConn::Options verified(const CertFiles& f, int version = 0) {
  TlsConn::Options o;
  o.ca_file = f.cert;
  if (version != 0) o.min_version = o.max_version = version;
  return o;
}

void expect_tls_serving(std::uint16_t port, const CertFiles& f) {
  TlsConn c(port, verified(f));
  INFO(c.error());
  REQUIRE(c.handshake_ok());
  REQUIRE(c.send(get_request("/still-serving")));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 200);
}

std::string start_error(HttpServerOptions o) {
  HttpServer s(std::move(o), echo_handler);
  auto port = s.start();
  return port ? std::string() : port.error();
}

}  // namespace

TEST_CASE("TLS 1.2 and TLS 1.3 clients verify the certificate and get answers", "[http_tls]") {
  const auto f = make_cert(scratch_dir("tls_versions"));
  TestServer s(tls_options(f));
  for (const auto& [version, name] :
       {std::pair{TLS1_2_VERSION, "TLSv1.2"}, {TLS1_3_VERSION, "TLSv1.3"}}) {
    TlsConn c(s.port(), verified(f, version));
    INFO(name << ": " << c.error());
    REQUIRE(c.handshake_ok());
    CHECK(c.version() == name);
    REQUIRE(c.send(get_request("/over-tls?v=1")));
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->json()["query"]["v"] == "1");
    REQUIRE(c.send(get_request("/again")));  // keep-alive over TLS
    r = c.read_reply();
    REQUIRE(r);
    CHECK(r->json()["path"] == "/again");
  }
}

TEST_CASE("a TLS 1.1 client is refused even where the system OpenSSL config allows TLS 1.0",
          "[http_tls]") {
  const auto dir = scratch_dir("tls_old");
  // A permissive system config, as some sites have, so that it is the server's own floor that
  // refuses TLS 1.1 (Debian's default security level would refuse it anyway). OpenSSL reads
  // OPENSSL_CONF once, at its first use in the process: ctest runs this test alone.
  const auto conf = (dir / "permissive.cnf").string();
  std::ofstream(conf) << "openssl_conf = c\n[c]\nssl_conf = s\n[s]\nsystem_default = d\n"
                         "[d]\nMinProtocol = TLSv1\nCipherString = DEFAULT:@SECLEVEL=0\n";
  ::setenv("OPENSSL_CONF", conf.c_str(), 1);
  const auto f = make_cert(dir);
  TestServer s(tls_options(f));
  TlsConn::Options old;
  old.min_version = old.max_version = TLS1_1_VERSION;
  old.allow_legacy = true;  // so the client really offers TLS 1.1 and the server must say no
  TlsConn c(s.port(), old);
  CHECK_FALSE(c.handshake_ok());
  INFO(c.error());
  CHECK(c.error().find("protocol version") != std::string::npos);  // the server's alert
  expect_tls_serving(s.port(), f);
}

TEST_CASE("a TLS client stalling mid-body gets 408 after read_timeout", "[http_tls]") {
  const auto f = make_cert(scratch_dir("tls_slow"));
  auto o = tls_options(f);
  o.read_timeout = 500ms;
  TestServer s(o);
  TlsConn slow(s.port(), verified(f));
  REQUIRE(slow.handshake_ok());
  const auto t0 = Clock::now();
  REQUIRE(slow.send("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123"));
  expect_tls_serving(s.port(), f);  // meanwhile
  auto r = slow.read_reply(3s);
  REQUIRE(r);
  CHECK(r->status == 408);
  CHECK(Clock::now() - t0 < 1500ms);
  CHECK(slow.closed_within(3s));
  CHECK(s.rejects() == std::vector<std::string>{"timeout"});
}

TEST_CASE("a client that never completes the TLS handshake is closed after read_timeout",
          "[http_tls]") {
  const auto f = make_cert(scratch_dir("tls_stall"));
  auto o = tls_options(f);
  o.read_timeout = 500ms;
  TestServer s(o);
  Conn silent(s.port());
  const auto t0 = Clock::now();
  CHECK(silent.closed_within(3s));
  CHECK(Clock::now() - t0 >= 450ms);
  CHECK(Clock::now() - t0 < 1500ms);
  Conn plain(s.port());  // plain HTTP to the TLS port: no answer, closed
  plain.send(get_request("/plain"));
  CHECK_FALSE(plain.read_reply(1s));
  CHECK(plain.closed_within(2s));
  CHECK(s.rejects() == std::vector<std::string>{"tls_handshake"});
  expect_tls_serving(s.port(), f);
}

TEST_CASE("plain HTTP on a non-loopback address needs insecure_http", "[http_tls]") {
  HttpServerOptions o;
  for (const std::string listen : {"0.0.0.0:0", "[::]:0"}) {
    o.listen = listen;
    o.insecure_http = false;
    const auto error = start_error(o);
    INFO(error);
    CHECK(error.rfind("listen " + listen + ": plain HTTP on a non-loopback address", 0) == 0);
    CHECK(error.find("configure tls (cert_file and key_file)") != std::string::npos);
    CHECK(error.find("set insecure_http: true") != std::string::npos);
  }
  o.listen = "0.0.0.0:0";
  o.insecure_http = true;
  TestServer s(o);
  expect_still_serving(s.port());  // 0.0.0.0 includes 127.0.0.1
}

TEST_CASE("loopback addresses serve plain HTTP without insecure_http", "[http_tls]") {
  for (const std::string listen : {"localhost:0", "127.0.0.2:0", "[::1]:0"}) {
    HttpServerOptions o;
    o.listen = listen;
    TestServer s(o);
    const std::string host = listen[0] == '['   ? "::1"
                             : listen[0] == 'l' ? "127.0.0.1"
                                                : "127.0.0.2";
    expect_still_serving(s.port(), host);
  }
}

TEST_CASE("listening on a port in use fails naming the address and the cause", "[http_tls]") {
  TestServer first;
  HttpServerOptions o;
  o.listen = "127.0.0.1:" + std::to_string(first.port());
  CHECK(start_error(o) == "listen " + o.listen + ": Address already in use");
  expect_still_serving(first.port());
}

TEST_CASE("a bad listen address fails naming it and what is wrong", "[http_tls]") {
  HttpServerOptions o;
  auto error_for = [&](const std::string& listen) {
    o.listen = listen;
    return start_error(o);
  };
  CHECK(error_for("nohost:80") ==
        "listen nohost:80: 'nohost' is not an IP address (use an address, localhost, 0.0.0.0 or "
        "[::])");
  CHECK(error_for("::1:80") == "listen ::1:80: an IPv6 address needs brackets, e.g. [::1]:8443");
  CHECK(error_for("127.0.0.1:99999") ==
        "listen 127.0.0.1:99999: bad port '99999' (0-65535; 0 picks a free port)");
  CHECK(error_for("127.0.0.1") == "listen 127.0.0.1: expected host:port");
  CHECK(error_for("[::1:80") == "listen [::1:80: expected [ipv6-address]:port");
}

TEST_CASE("a bad certificate or key file fails start naming the file", "[http_tls]") {
  const auto dir = scratch_dir("tls_bad");
  const auto good = make_cert(dir);
  const auto other = make_cert(dir, "other");
  const std::string garbage = (dir / "garbage.crt").string();
  std::ofstream(garbage) << "-----BEGIN CERTIFICATE-----\nnot base64 at all\n";
  const std::string missing = (dir / "missing.crt").string();

  auto o = tls_options(good);
  o.tls_cert_file = missing;
  CHECK(start_error(o) == "tls cert_file " + missing + ": No such file or directory");

  o = tls_options(good);
  o.tls_cert_file = garbage;
  auto error = start_error(o);
  INFO(error);
  CHECK(error.rfind("tls cert_file " + garbage + ": not a usable PEM certificate (", 0) == 0);

  o = tls_options(good);
  o.tls_key_file = garbage;
  error = start_error(o);
  CHECK(error.rfind("tls key_file " + garbage + ": not a usable PEM private key (", 0) == 0);

  o = tls_options(good);
  o.tls_key_file = other.key;
  CHECK(start_error(o) ==
        "tls key_file " + other.key + " does not match the certificate in " + good.cert);

  o = tls_options(good);
  o.tls_key_file.clear();
  CHECK(start_error(o) == "tls needs both cert_file and key_file");

  TestServer s(tls_options(good));  // and the good pair works
  expect_tls_serving(s.port(), good);
}
