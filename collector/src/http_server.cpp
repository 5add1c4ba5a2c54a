// The collector's HTTP(S) server: listen address, TLS context, acceptor and I/O threads. The
// per-connection protocol lives in http_session.cpp; these two are the only Asio/Beast units.
#include "xj/collector/http_server.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "detail/http_session.hpp"

namespace xj {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// TLS 1.2 suites: forward secrecy and AEAD only (Mozilla "intermediate"). TLS 1.3 keeps
// OpenSSL's defaults, which are all strong.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

struct ListenAddress {
  tcp::endpoint endpoint;
  bool loopback = false;
};

// "127.0.0.1:8443", "[::1]:0", "localhost:8443", "0.0.0.0:8443", "[::]:8443".
Expected<ListenAddress> parse_listen(const std::string& listen) {
  const std::string where = "listen " + listen + ": ";
  std::string host, port;
  if (!listen.empty() && listen[0] == '[') {
    const auto close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return make_error(where + "expected [ipv6-address]:port");
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) return make_error(where + "expected host:port");
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      return make_error(where + "an IPv6 address needs brackets, e.g. [::1]:8443");
    }
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
    return make_error(where + "bad port '" + port + "' (0-65535; 0 picks a free port)");
  }
  ListenAddress out;
  asio::ip::address address;
  if (host == "localhost") {
    address = asio::ip::address_v4::loopback();
  } else {
    error_code ec;
    address = asio::ip::make_address(host, ec);
    if (ec) {
      return make_error(where + "'" + host +
                        "' is not an IP address (use an address, localhost, 0.0.0.0 or [::])");
    }
  }
  out.endpoint = tcp::endpoint(address, static_cast<std::uint16_t>(std::stoul(port)));
  out.loopback = address.is_loopback() ||
                 (address.is_v6() && address.to_v6().is_v4_mapped() &&
                  asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).is_loopback());
  return out;
}

Expected<std::unique_ptr<asio::ssl::context>> make_tls_context(const HttpServerOptions& o) {
  if (o.tls_cert_file.empty() || o.tls_key_file.empty()) {
    return make_error("tls needs both cert_file and key_file");
  }
  for (const auto* f : {&o.tls_cert_file, &o.tls_key_file}) {
    if (::access(f->c_str(), R_OK) != 0) {
      return make_error(std::string("tls ") + (f == &o.tls_cert_file ? "cert_file " : "key_file ") +
                        *f + ": " + std::strerror(errno));
    }
  }
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  // The floor is set here, not left to the system's OpenSSL configuration, which may allow
  // TLS 1.0/1.1 (SECLEVEL=0 or MinProtocol in openssl.cnf).
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return make_error("tls: cannot set TLS 1.2 minimum and cipher list");
  }
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_compression |
                   asio::ssl::context::single_dh_use);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);  // client renegotiation costs CPU
  error_code ec;
  ctx->use_certificate_chain_file(o.tls_cert_file, ec);
  if (ec) {
    return make_error("tls cert_file " + o.tls_cert_file + ": not a usable PEM certificate (" +
                      ec.message() + ")");
  }
  ctx->use_private_key_file(o.tls_key_file, asio::ssl::context::pem, ec);
  if (ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    return make_error("tls key_file " + o.tls_key_file + " does not match the certificate in " +
                      o.tls_cert_file);
  }
  if (ec) {
    return make_error("tls key_file " + o.tls_key_file + ": not a usable PEM private key (" +
                      ec.message() + ")");
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return make_error("tls key_file " + o.tls_key_file + " does not match the certificate in " +
                      o.tls_cert_file);
  }
  return ctx;
}

}  // namespace

struct HttpServer::Impl {
  detail::HttpServerShared shared;
  std::mutex mu;  // start() and stop()
  std::unique_ptr<asio::ssl::context> tls;
  std::unique_ptr<asio::io_context> ioc;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::steady_timer> retry;
  // Keeps run() going even if a bug lost the pending accept.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::atomic<std::uint16_t> port{0};
  bool limit_warned = false;  // acceptor strand only

  void accept() {
    acceptor->async_accept(asio::make_strand(*ioc), [this](error_code ec, tcp::socket socket) {
      on_accept(ec, std::move(socket));
    });
  }

  void on_accept(error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      // Usually out of file descriptors: pause instead of spinning on the error.
      spdlog::warn("event=http_accept_failed listen={} error=\"{}\"", shared.options.listen,
                   ec.message());
      retry->expires_after(std::chrono::milliseconds(100));
      retry->async_wait([this](error_code e) {
        if (!e) accept();
      });
      return;
    }
    if (shared.connections.load() >= shared.options.max_connections) {
      refuse(std::move(socket));
    } else {
      limit_warned = false;
      socket.set_option(tcp::no_delay(true), ec);
      try {
        detail::start_http_session(shared, std::move(socket));
      } catch (const std::exception& e) {
        spdlog::error("event=http_session_failed error=\"{}\"", e.what());
      }
    }
    accept();
  }

  // Over max_connections. Plain HTTP: drop what the client already sent (so close() sends
  // FIN, not RST, over our answer), answer 503 without blocking, close. TLS: just close.
  void refuse(tcp::socket socket) {
    shared.count_reject("too_many_connections");
    if (!limit_warned) {
      spdlog::warn("event=http_connection_limit max_connections={} listen={}",
                   shared.options.max_connections, shared.options.listen);
      limit_warned = true;
    }
    if (shared.tls == nullptr) {
      const std::string body = "{\"error\":\"too many connections (max_connections " +
                               std::to_string(shared.options.max_connections) + ")\"}";
      const std::string answer =
          "HTTP/1.1 503 Service Unavailable\r\nServer: xunjian-collector\r\n"
          "Content-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n"
          "Content-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body;
      const int fd = socket.native_handle();
      char sink[4096];
      for (int i = 0; i < 16 && ::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
      }
      [[maybe_unused]] auto n =
          ::send(fd, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      ::shutdown(fd, SHUT_WR);
    }
    error_code ignored;
    socket.close(ignored);
  }

  void run_io() {
    // A handler exception is a bug, but must not take the server down with it.
    for (;;) {
      try {
        ioc->run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("event=http_io_exception error=\"{}\"", e.what());
      }
    }
  }
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->shared.options = std::move(options);
  impl_->shared.handler = std::move(handler);
}

HttpServer::~HttpServer() { stop(); }

Expected<std::uint16_t> HttpServer::start() {
  std::lock_guard lock(impl_->mu);
  auto& o = impl_->shared.options;
  if (impl_->ioc) return make_error("listen " + o.listen + ": the server is already started");
  auto address = parse_listen(o.listen);
  if (!address) return address.failure();
  const bool tls = !o.tls_cert_file.empty() || !o.tls_key_file.empty();
  if (!tls && !address->loopback && !o.insecure_http) {
    return make_error("listen " + o.listen +
                      ": plain HTTP on a non-loopback address would send agent tokens in clear "
                      "text; configure tls (cert_file and key_file) or set insecure_http: true "
                      "explicitly");
  }
  if (tls) {
    auto ctx = make_tls_context(o);
    if (!ctx) return ctx.failure();
    impl_->tls = std::move(ctx).value();
    impl_->shared.tls = impl_->tls.get();
  }

  auto ioc =
      std::make_unique<asio::io_context>(static_cast<int>(std::max<std::size_t>(1, o.threads)));
  auto acceptor = std::make_unique<tcp::acceptor>(asio::make_strand(*ioc));
  error_code ec;
  const auto& ep = address->endpoint;
  acceptor->open(ep.protocol(), ec);
  // Lets a restarted collector bind while old connections sit in TIME_WAIT; a live listener
  // on the port still makes bind fail.
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    impl_->shared.tls = nullptr;
    impl_->tls.reset();
    return make_error("listen " + o.listen + ": " + ec.message());
  }
  impl_->port = acceptor->local_endpoint().port();
  impl_->retry = std::make_unique<asio::steady_timer>(acceptor->get_executor());
  impl_->acceptor = std::move(acceptor);
  impl_->ioc = std::move(ioc);
  impl_->work.emplace(impl_->ioc->get_executor());
  impl_->accept();
  for (std::size_t i = 0; i < std::max<std::size_t>(1, o.threads); ++i) {
    impl_->threads.emplace_back([impl = impl_.get()] { impl->run_io(); });
  }
  spdlog::debug("event=http_listening listen={} port={} tls={} threads={}", o.listen,
                impl_->port.load(), tls ? "on" : "off", impl_->threads.size());
  return impl_->port.load();
}

void HttpServer::stop() {
  std::lock_guard lock(impl_->mu);
  if (!impl_->ioc) return;
  // run() returns once the handler in progress on each thread is done.
  impl_->ioc->stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  // No thread runs the io_context now. Destroying it destroys the pending operations and with
  // them the sessions (and their sockets); the TLS context and `shared` outlive them.
  impl_->work.reset();
  impl_->retry.reset();
  impl_->acceptor.reset();
  impl_->ioc.reset();
  impl_->shared.tls = nullptr;
  impl_->tls.reset();
}

std::uint16_t HttpServer::port() const { return impl_->port.load(); }

}  // namespace xj
