// The collector's HTTP server against bad clients, over plain HTTP on 127.0.0.1 with raw
// sockets: gzip, every limit (413, 400, 415, 431, 408, max_connections) and that the server
// keeps serving after each.
#include <thread>

#include "http_test_client.hpp"

using namespace xj;
using namespace xj::test;

namespace {

// Sends `request`, expects `status` with a JSON error mentioning `words`, then the close.
void expect_refused(std::uint16_t port, const std::string& request, int status,
                    const std::string& words) {
  Conn c(port);
  c.send(request);  // may fail part-way when the server answers early
  auto r = c.read_reply();
  INFO("request: " << request.substr(0, 200));
  REQUIRE(r);
  CHECK(r->status == status);
  CHECK(r->headers["content-type"] == "application/json");
  CHECK(r->json()["error"].get<std::string>().find(words) != std::string::npos);
  CHECK(c.closed_within(3s));
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

TEST_CASE("a gzip request body reaches the handler decompressed", "[http_server]") {
  TestServer s;
  Conn c(s.port());
  std::string body = R"({"results":[)";
  for (int i = 0; i < 1000; ++i) body += R"({"seq":)" + std::to_string(i) + "},";
  body += "{}]}";
  REQUIRE(c.send(post("/api/v1/results", gzip_bytes(body), "Content-Encoding: gzip\r\n")));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->json()["body"] == body);
}

TEST_CASE("a gzip bomb is refused with 413 naming the limit", "[http_server]") {
  HttpServerOptions o;
  o.max_body_bytes = 1 << 20;
  TestServer s(o);
  const std::string bomb = gzip_bytes(std::string(16u << 20, '\0'));  // 16 MiB of zeros
  REQUIRE(bomb.size() < o.max_body_bytes);                            // small on the wire
  expect_refused(s.port(), post("/api/v1/results", bomb, "Content-Encoding: gzip\r\n"), 413,
                 "limit of 1048576 bytes");
  CHECK(contains(s.rejects(), "body_too_large"));
  expect_still_serving(s.port());
}

TEST_CASE("a body over max_body_bytes gets 413 and the connection is closed", "[http_server]") {
  HttpServerOptions o;
  o.max_body_bytes = 1000;
  TestServer s(o);
  const std::vector<std::string> too_large = {"body_too_large"};
  SECTION("declared by Content-Length") {
    expect_refused(s.port(), post("/x", std::string(1001, 'a')), 413, "limit of 1000 bytes");
    CHECK(s.rejects() == too_large);
  }
  SECTION("declared larger than sent, refused before the body is read") {
    expect_refused(s.port(), "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\nab",
                   413, "max_body_bytes");
    CHECK(s.rejects() == too_large);
  }
  SECTION("chunked, found out while reading") {
    const std::string chunk = "200\r\n" + std::string(0x200, 'a') + "\r\n";
    expect_refused(s.port(),
                   "POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk +
                       chunk + chunk + "0\r\n\r\n",
                   413, "limit of 1000 bytes");
    CHECK(s.rejects() == too_large);
  }
  SECTION("exactly the limit is fine") {
    Conn c(s.port());
    REQUIRE(c.send(post("/x", std::string(1000, 'a'))));
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(s.rejects().empty());
  }
  expect_still_serving(s.port());
}

TEST_CASE("a body that is not valid gzip gets 400 naming the problem", "[http_server]") {
  TestServer s;
  expect_refused(s.port(), post("/x", "this is not gzip", "Content-Encoding: gzip\r\n"), 400,
                 "bad gzip body");
  const std::string good = gzip_bytes("hello hello hello hello");
  expect_refused(s.port(),
                 post("/x", good.substr(0, good.size() - 6), "Content-Encoding: gzip\r\n"), 400,
                 "truncated");
  CHECK(s.rejects() == std::vector<std::string>{"bad_request", "bad_request"});
  expect_still_serving(s.port());
}

TEST_CASE("a Content-Encoding other than gzip gets 415", "[http_server]") {
  TestServer s;
  expect_refused(s.port(), post("/x", "abc", "Content-Encoding: br\r\n"), 415,
                 "unsupported Content-Encoding 'br'");
  CHECK(s.rejects() == std::vector<std::string>{"unsupported_encoding"});
  Conn c(s.port());  // identity is no encoding at all
  REQUIRE(c.send(post("/x", "abc", "Content-Encoding: identity\r\n")));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->json()["body"] == "abc");
}

TEST_CASE("malformed requests get 400 and the server keeps serving", "[http_server]") {
  TestServer s;
  expect_refused(s.port(), "GARBAGE\r\n\r\n", 400, "malformed HTTP request");
  expect_refused(s.port(), "GET /x HTTP/9.9\r\nHost: t\r\n\r\n", 400, "malformed HTTP request");
  expect_refused(s.port(), "GET /x HTTP/1.1\r\nBad Header\r\n\r\n", 400, "malformed");
  expect_refused(s.port(), "POST /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, "malformed");
  expect_refused(s.port(), get_request("/a%zzb"), 400, "bad percent-escape '%zz'");
  expect_refused(s.port(), get_request("/x?name=%FF"), 400, "does not decode to UTF-8");
  expect_refused(s.port(), get_request("*"), 400, "must be a path");
  CHECK(s.rejects() == std::vector<std::string>(7, "bad_request"));
  expect_refused(s.port(), "GET / HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", 431,
                 "exceeds 16384 bytes");
  expect_still_serving(s.port());
}

TEST_CASE("a client stalling mid-header gets 408 after read_timeout while others are served",
          "[http_server]") {
  HttpServerOptions o;
  o.read_timeout = 500ms;
  o.threads = 1;  // the stalled client must not hold the only I/O thread
  TestServer s(o);
  Conn slow(s.port());
  const auto t0 = Clock::now();
  REQUIRE(slow.send("POST /x HTTP/1.1\r\nHost: t\r\nContent-"));
  std::this_thread::sleep_for(100ms);
  expect_still_serving(s.port());  // meanwhile
  CHECK(Clock::now() - t0 < 400ms);
  auto r = slow.read_reply(3s);
  const auto waited = Clock::now() - t0;
  REQUIRE(r);
  CHECK(r->status == 408);
  CHECK(r->json()["error"].get<std::string>().find("read_timeout (500 ms)") != std::string::npos);
  CHECK(waited >= 450ms);
  CHECK(waited < 1500ms);
  CHECK(slow.closed_within(3s));
  CHECK(s.rejects() == std::vector<std::string>{"timeout"});
}

TEST_CASE("a client stalling mid-body gets 408 after read_timeout", "[http_server]") {
  HttpServerOptions o;
  o.read_timeout = 500ms;
  TestServer s(o);
  Conn slow(s.port());
  const auto t0 = Clock::now();
  REQUIRE(slow.send("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789"));
  std::this_thread::sleep_for(300ms);
  REQUIRE(slow.send("0123456789"));  // progress does not extend the deadline
  auto r = slow.read_reply(3s);
  REQUIRE(r);
  CHECK(r->status == 408);
  CHECK(r->json()["error"].get<std::string>().find("request body") != std::string::npos);
  CHECK(Clock::now() - t0 < 1500ms);
  CHECK(slow.closed_within(3s));
  expect_still_serving(s.port());
}

TEST_CASE("an idle keep-alive connection is closed after read_timeout without an answer",
          "[http_server]") {
  HttpServerOptions o;
  o.read_timeout = 500ms;
  TestServer s(o);
  Conn c(s.port());
  REQUIRE(c.send(get_request("/first")));
  REQUIRE(c.read_reply());
  const auto t0 = Clock::now();
  CHECK(c.closed_within(3s));
  CHECK(Clock::now() - t0 >= 450ms);
  CHECK_FALSE(c.read_reply(100ms));  // closed without a 408
  CHECK(s.rejects().empty());
}

TEST_CASE("connections over max_connections are refused and served again once one closes",
          "[http_server]") {
  HttpServerOptions o;
  o.max_connections = 2;
  TestServer s(o);
  auto a = std::make_unique<Conn>(s.port());
  Conn b(s.port());
  for (Conn* c : {a.get(), &b}) {  // both are being served, so both count
    REQUIRE(c->send(get_request("/held")));
    REQUIRE(c->read_reply());
  }
  Conn third(s.port());
  third.send(get_request("/third"));
  // Refused at once: a best-effort 503, then the close.
  if (auto r = third.read_reply(2s)) {
    CHECK(r->status == 503);
    CHECK(r->json()["error"] == "too many connections (max_connections 2)");
  }
  CHECK(third.closed_within(2s));
  CHECK(contains(s.rejects(), "too_many_connections"));
  a.reset();
  // The server notices the close asynchronously; a new connection is served within a second.
  bool served = false;
  for (int i = 0; i < 20 && !served; ++i) {
    Conn c(s.port());
    c.send(get_request("/again"));
    auto r = c.read_reply(1s);
    served = r && r->status == 200;
    if (!served) std::this_thread::sleep_for(50ms);
  }
  CHECK(served);
}

TEST_CASE("the server keeps serving after every kind of bad request in a row", "[http_server]") {
  HttpServerOptions o;
  o.max_body_bytes = 4096;
  o.read_timeout = 500ms;
  TestServer s(o);
  const std::vector<std::string> bad = {
      "\r\n\r\n\r\n",
      "GET\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      post("/x", std::string(5000, 'x')),
      post("/x", gzip_bytes(std::string(1 << 20, 'x')), "Content-Encoding: gzip\r\n"),
      post("/x", "\x1f\x8b garbage", "Content-Encoding: gzip\r\n"),
      post("/x", "x", "Content-Encoding: compress\r\n"),
      get_request("/%"),
      std::string("GET / HTTP/1.1\r\nHost: t\r\n\0\r\n\r\n", 30),
  };
  for (const auto& request : bad) {
    Conn c(s.port());
    c.send(request);
    auto r = c.read_reply(3s);
    INFO(request.substr(0, 60));
    REQUIRE(r);
    CHECK(r->status >= 400);
    CHECK(r->status < 500);
    CHECK(c.closed_within(3s));
  }
  {
    Conn stalled(s.port());  // the slowloris, last
    stalled.send("GET / HTTP/1.1\r\n");
    auto r = stalled.read_reply(3s);
    REQUIRE(r);
    CHECK(r->status == 408);
  }
  CHECK(s.rejects().size() == bad.size() + 1);
  expect_still_serving(s.port());
}
