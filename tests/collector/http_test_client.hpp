// Test side of the HTTP server tests: raw POSIX sockets (and OpenSSL for TLS) so the tests
// control every byte and every pause, an echo handler, and a server fixture that records the
// reasons the server gave for refusing requests.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "xj/collector/http_server.hpp"

namespace xj::test {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

// One client connection. Every read waits at most `timeout`, so no test can hang.
class Conn {
 public:
  // source: the local IPv4 address to connect from ("127.0.0.2": another loopback address,
  // so the server sees a second client host); "" lets the kernel choose.
  explicit Conn(std::uint16_t port, const std::string& host = "127.0.0.1", const std::string& source = "") {
    const bool v6 = host.find(':') != std::string::npos;
    fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    if (!source.empty()) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      REQUIRE(::inet_pton(AF_INET, source.c_str(), &local.sin_addr) == 1);
      REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
    }
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (v6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(port);
      REQUIRE(::inet_pton(AF_INET6, host.c_str(), &a->sin6_addr) == 1);
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_port = htons(port);
      REQUIRE(::inet_pton(AF_INET, host.c_str(), &a->sin_addr) == 1);
      len = sizeof *a;
    }
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) == 0);
    timeval tv{5, 0};  // blocking calls (TLS) are bounded as well
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  virtual ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool send(const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      const auto n = write_some(data.data() + off, data.size() - off);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }

  // The next response (header + Content-Length body), or nullopt if the connection ended or
  // nothing complete arrived within the timeout. The answer to HEAD has no body.
  std::optional<Reply> read_reply(std::chrono::milliseconds timeout = 5s, bool head_only = false) {
    const auto until = Clock::now() + timeout;
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(until)) return std::nullopt;
    }
    Reply r;
    const std::string head = buf_.substr(0, end);
    std::size_t pos = head.find("\r\n");
    const std::string status_line = head.substr(0, pos);
    if (status_line.size() < 12 || status_line.rfind("HTTP/1.", 0) != 0) return std::nullopt;
    r.status = std::stoi(status_line.substr(9, 3));
    while (pos != std::string::npos && pos < head.size()) {
      const std::size_t next = head.find("\r\n", pos + 2);
      const std::string line =
          head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      }
      pos = next;
    }
    buf_.erase(0, end + 4);
    if (r.status == 100 || head_only) return r;  // no body
    const std::size_t length =
        r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    while (buf_.size() < length) {
      if (!fill(until)) return std::nullopt;
    }
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }

  // True when the server ends the connection (EOF or reset) within `timeout`; any bytes that
  // arrive first are kept for read_reply().
  bool closed_within(std::chrono::milliseconds timeout) {
    const auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      if (!fill(until)) return eof_;
    }
    return false;
  }

  int fd() const { return fd_; }

 protected:
  virtual long read_some(char* p, std::size_t n) { return ::recv(fd_, p, n, 0); }
  virtual long write_some(const char* p, std::size_t n) { return ::send(fd_, p, n, MSG_NOSIGNAL); }
  virtual bool has_buffered() { return false; }

  static constexpr long kRetry = -2;  // read_some: only TLS records without data arrived
  int fd_ = -1;

 private:
  // Reads what is there before `until`. False on EOF, error or timeout (eof_ tells which).
  bool fill(Clock::time_point until) {
    if (!has_buffered()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    }
    char chunk[16384];
    const long n = read_some(chunk, sizeof chunk);
    if (n == kRetry) return true;
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buf_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  std::string buf_;
  bool eof_ = false;
};

// A TLS client connection. The handshake result is kept so tests can assert on refusals.
class TlsConn : public Conn {
 public:
  struct Options {
    int min_version = TLS1_2_VERSION;
    int max_version = 0;        // 0: the newest
    std::string ca_file;        // verify the server against this
    bool allow_legacy = false;  // security level 0, so the client can really offer TLS 1.1
  };

  TlsConn(std::uint16_t port, const Options& o) : Conn(port) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    REQUIRE(ctx_ != nullptr);
    if (o.allow_legacy) {
      SSL_CTX_set_security_level(ctx_, 0);
      SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
    }
    SSL_CTX_set_min_proto_version(ctx_, o.min_version);
    SSL_CTX_set_max_proto_version(ctx_, o.max_version);
    if (!o.ca_file.empty()) {
      REQUIRE(SSL_CTX_load_verify_locations(ctx_, o.ca_file.c_str(), nullptr) == 1);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
    ERR_clear_error();
    if (SSL_connect(ssl_) == 1) {
      handshake_ok_ = true;
      version_ = SSL_get_version(ssl_);
      // Non-blocking from here, so a TLS 1.3 session ticket does not look like data to poll().
      ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    } else {
      char text[256] = "handshake failed (no OpenSSL error queued)";
      if (auto e = ERR_get_error(); e != 0) ERR_error_string_n(e, text, sizeof text);
      error_ = text;
    }
  }
  ~TlsConn() override {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  }

  bool handshake_ok() const { return handshake_ok_; }
  const std::string& version() const { return version_; }  // "TLSv1.3"
  const std::string& error() const { return error_; }

 protected:
  long read_some(char* p, std::size_t n) override {
    const int got = SSL_read(ssl_, p, static_cast<int>(n));
    if (got <= 0 && SSL_get_error(ssl_, got) == SSL_ERROR_WANT_READ) return kRetry;
    return got;
  }
  long write_some(const char* p, std::size_t n) override {
    for (int i = 0; i < 500; ++i) {  // at most ~5 s
      const int put = SSL_write(ssl_, p, static_cast<int>(n));
      if (put > 0) return put;
      const int e = SSL_get_error(ssl_, put);
      if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) return -1;
      pollfd pfd{fd_, static_cast<short>(e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN), 0};
      ::poll(&pfd, 1, 10);
    }
    return -1;
  }
  bool has_buffered() override { return SSL_pending(ssl_) > 0; }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool handshake_ok_ = false;
  std::string version_;
  std::string error_;
};

// Answers with the request as JSON. /throw throws; /teapot answers 418 with a header.
inline HttpResponse echo_handler(const HttpRequest& r) {
  if (r.path == "/throw") throw std::runtime_error("handler bug");
  HttpResponse res;
  if (r.path == "/teapot") {
    res.status = 418;
    res.content_type = "text/plain";
    res.body = "short and stout";
    res.headers["X-Teapot"] = "yes";
    res.headers["X-Evil"] = "a\r\nSet-Cookie: x=1";
    return res;
  }
  res.body = nlohmann::json{{"method", r.method}, {"target", r.target},   {"path", r.path},
                            {"query", r.query},   {"headers", r.headers}, {"body", r.body},
                            {"remote", r.remote}}
                 .dump();
  return res;
}

// A started server on 127.0.0.1 (unless told otherwise) that records reject reasons.
class TestServer {
 public:
  explicit TestServer(HttpServerOptions o = {}) {
    if (o.listen == HttpServerOptions{}.listen) o.listen = "127.0.0.1:0";
    o.on_reject = [this](const std::string& reason) {
      std::lock_guard lock(mu_);
      rejects_.push_back(reason);
    };
    server_ = std::make_unique<HttpServer>(o, echo_handler);
    auto port = server_->start();
    INFO((port.ok() ? std::string() : port.error()));
    REQUIRE(port.ok());
    port_ = *port;
  }
  std::uint16_t port() const { return port_; }
  HttpServer& server() { return *server_; }
  std::vector<std::string> rejects() const {
    std::lock_guard lock(mu_);
    return rejects_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> rejects_;
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
};

inline std::string get_request(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n";
}

inline std::string post(const std::string& target, const std::string& body,
                        const std::string& extra_headers = "") {
  return "POST " + target + " HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// A fresh connection gets a 200 for a plain GET: the server is still serving.
inline void expect_still_serving(std::uint16_t port, const std::string& host = "127.0.0.1") {
  Conn c(port, host);
  REQUIRE(c.send(get_request("/still-serving")));
  auto r = c.read_reply();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->json()["path"] == "/still-serving");
}

// The gzip encoding of `in`, made with zlib as an agent would.
inline std::string gzip_bytes(const std::string& in) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&zs, in.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// A scratch dir for one test, unique per process so parallel ctest runs do not collide.
inline std::filesystem::path scratch_dir(const std::string& name) {
  auto dir = std::filesystem::path(XJ_BINARY_DIR) / "collector_tests" /
             (name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace xj::test
