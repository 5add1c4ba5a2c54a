// The collector's HTTP server over plain HTTP on 127.0.0.1, driven with raw sockets: request
// fields, keep-alive, what the handler answers, IPv6 and stop().
#include <thread>

#include "http_test_client.hpp"

using namespace xj;
using namespace xj::test;

TEST_CASE("a GET reaches the handler with method, path, query, headers and remote filled in",
          "[http_server]") {
  TestServer s;
  Conn c(s.port());
  REQUIRE(
      c.send("GET /api/v1/a%20b/%E4%B8%AD?host=web-01&q=a+b%2Bc&flag&x=1&x=2 HTTP/1.1\r\n"
             "Host: test\r\nX-Custom-Header: Value\r\nAccept: a\r\nACCEPT: b\r\n\r\n"));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->headers["server"] == "xunjian-collector");
  CHECK(r->headers["content-type"] == "application/json");
  CHECK(std::stoul(r->headers["content-length"]) == r->body.size());
  const auto j = r->json();
  CHECK(j["method"] == "GET");
  CHECK(j["target"] == "/api/v1/a%20b/%E4%B8%AD?host=web-01&q=a+b%2Bc&flag&x=1&x=2");
  CHECK(j["path"] == "/api/v1/a b/中");
  CHECK(j["query"] == nlohmann::json{{"host", "web-01"}, {"q", "a b+c"}, {"flag", ""}, {"x", "1"}});
  CHECK(j["headers"]["x-custom-header"] == "Value");
  CHECK(j["headers"]["accept"] == "a, b");
  CHECK(j["remote"].get<std::string>().rfind("127.0.0.1:", 0) == 0);
  CHECK(j["body"] == "");
}

TEST_CASE("a POST body reaches the handler unchanged, with Content-Length or chunked",
          "[http_server]") {
  TestServer s;
  Conn c(s.port());
  const std::string body = R"({"results":[1,2,3]})";
  REQUIRE(c.send(post("/api/v1/results", body)));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->json()["method"] == "POST");
  CHECK(r->json()["body"] == body);

  REQUIRE(
      c.send("POST /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  r = c.read_reply();
  REQUIRE(r);
  CHECK(r->json()["body"] == "hello world");
}

TEST_CASE("requests on one keep-alive connection are all answered, pipelined ones in order",
          "[http_server]") {
  TestServer s;
  Conn c(s.port());
  REQUIRE(c.send(get_request("/one")));
  auto first = c.read_reply();
  REQUIRE(first);
  CHECK(first->json()["path"] == "/one");
  CHECK(first->headers.count("connection") == 0);  // HTTP/1.1 default: keep-alive
  REQUIRE(c.send(get_request("/two")));
  auto second = c.read_reply();
  REQUIRE(second);
  CHECK(second->json()["path"] == "/two");
  REQUIRE(c.send(get_request("/three") + get_request("/four")));
  auto third = c.read_reply();
  auto fourth = c.read_reply();
  REQUIRE(third);
  REQUIRE(fourth);
  CHECK(third->json()["path"] == "/three");
  CHECK(fourth->json()["path"] == "/four");
  // Both came over the first connection: the remote port never changed.
  CHECK(fourth->json()["remote"] == first->json()["remote"]);
}

TEST_CASE("Connection: close is honoured: the answer says so and the server closes",
          "[http_server]") {
  TestServer s;
  Conn c(s.port());
  REQUIRE(c.send("GET /bye HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->headers["connection"] == "close");
  CHECK(c.closed_within(2s));
}

TEST_CASE("a handler that throws yields 500 and the server keeps serving", "[http_server]") {
  TestServer s;
  Conn c(s.port());
  REQUIRE(c.send(get_request("/throw")));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 500);
  CHECK(r->json()["error"] == "internal error");
  REQUIRE(c.send(get_request("/after")));  // even on the same connection
  r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE("the handler's status, content type and headers reach the client, minus CR/LF tricks",
          "[http_server]") {
  TestServer s;
  Conn c(s.port());
  REQUIRE(c.send(get_request("/teapot")));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 418);
  CHECK(r->headers["content-type"] == "text/plain");
  CHECK(r->headers["x-teapot"] == "yes");
  CHECK(r->headers.count("x-evil") == 0);
  CHECK(r->headers.count("set-cookie") == 0);
  CHECK(r->body == "short and stout");
  REQUIRE(c.send("HEAD /teapot HTTP/1.1\r\nHost: t\r\n\r\n" + get_request("/after-head")));
  auto head = c.read_reply(5s, true);  // Content-Length of the GET answer, but no body follows
  REQUIRE(head);
  CHECK(head->headers["content-length"] == "15");
  auto next = c.read_reply();
  REQUIRE(next);
  CHECK(next->json()["path"] == "/after-head");
}

TEST_CASE("Expect: 100-continue gets the interim answer before the body is sent", "[http_server]") {
  TestServer s;
  Conn c(s.port());
  REQUIRE(
      c.send("POST /x HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  auto interim = c.read_reply(2s);
  REQUIRE(interim);
  CHECK(interim->status == 100);
  REQUIRE(c.send("hello"));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->json()["body"] == "hello");
}

TEST_CASE("a server on [::1]:0 answers over IPv6", "[http_server]") {
  HttpServerOptions o;
  o.listen = "[::1]:0";
  TestServer s(o);
  Conn c(s.port(), "::1");
  REQUIRE(c.send(get_request("/v6")));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->json()["remote"].get<std::string>().rfind("[::1]:", 0) == 0);
}

TEST_CASE("stop() drops open connections, returns promptly and is idempotent", "[http_server]") {
  TestServer s;
  Conn idle(s.port());
  REQUIRE(idle.send(get_request("/x")));
  REQUIRE(idle.read_reply());
  Conn partial(s.port());
  REQUIRE(partial.send("GET /half"));
  const auto t0 = Clock::now();
  s.server().stop();
  CHECK(Clock::now() - t0 < 1s);
  CHECK(idle.closed_within(1s));
  CHECK(partial.closed_within(1s));
  s.server().stop();
  CHECK(s.server().port() == s.port());
}
