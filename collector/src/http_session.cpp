// One HTTP(S) connection of the collector's server: read a request under the limits, call the
// handler, write the answer, repeat while keep-alive. With http_server.cpp the only Beast code.
#include "detail/http_session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <type_traits>

#include "xj/collector/http_decode.hpp"

namespace xj::detail {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using TlsStream = asio::ssl::stream<tcp::socket>;

constexpr char kServerName[] = "xunjian-collector";
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// How long a closing connection may take to read what the client still sends, so that
// close() does not reset the connection before the client has read our last answer.
constexpr std::chrono::milliseconds kMaxLinger{2000};

std::string to_std(beast::string_view s) { return std::string(s.data(), s.size()); }

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string trimmed(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  return std::string(s.substr(b, s.find_last_not_of(" \t") - b + 1));
}

// Client bytes echoed in a message become printable ASCII: the message goes into JSON (which
// must be UTF-8) and into log lines.
std::string printable(std::string_view s, std::size_t max = 300) {
  std::string out;
  for (char c : s.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > max) out += "...";
  return out;
}

// Header names and values from the handler go on the wire as given; CR or LF in them would let
// a value smuggle in headers of its own.
bool header_safe(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

std::string remote_text(const tcp::socket& socket) {
  error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  const auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

bool is_http_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

// The peer went away: nobody is left to read an answer.
bool peer_gone(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated;
}

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... StreamArgs>
  explicit Session(HttpServerShared& shared, StreamArgs&&... args)
      : shared_(shared),
        stream_(std::forward<StreamArgs>(args)...),
        timer_(socket().get_executor()),
        remote_(remote_text(socket())) {
    shared_.connections.fetch_add(1);
  }
  ~Session() { shared_.connections.fetch_sub(1); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start() {
    if constexpr (kTls) {
      phase_ = Phase::kHandshake;
      arm(shared_.options.read_timeout);
      stream_.async_handshake(
          asio::ssl::stream_base::server,
          [self = this->shared_from_this()](error_code ec) { self->on_handshake(ec); });
    } else {
      read_header();
    }
  }

 private:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  enum class Phase { kHandshake, kReadHeader, kReadBody, kWrite, kLinger };

  tcp::socket& socket() { return beast::get_lowest_layer(stream_); }

  // One deadline per phase. The generation makes a timer that fired just as its operation
  // completed harmless.
  void arm(std::chrono::milliseconds d) {
    timed_out_ = false;
    timer_.expires_after(d);
    timer_.async_wait([weak = this->weak_from_this(), gen = ++timer_gen_](error_code ec) {
      auto self = weak.lock();
      if (!ec && self && self->timer_gen_ == gen) self->on_timeout();
    });
  }
  void disarm() {
    ++timer_gen_;
    timer_.cancel();
  }

  void on_timeout() {
    error_code ec;
    const bool partial =
        phase_ == Phase::kReadBody ||
        (phase_ == Phase::kReadHeader && (buffer_.size() > 0 || (parser_ && parser_->got_some())));
    if (partial) {
      // Cancel rather than close, so the read fails with operation_aborted and a 408 can go out.
      timed_out_ = true;
      socket().cancel(ec);
    } else {
      // Idle keep-alive, stalled handshake, a client that does not read: nothing to answer.
      spdlog::debug("event=http_timeout phase={} remote={}", static_cast<int>(phase_), remote_);
      socket().close(ec);
    }
  }

  void on_handshake(error_code ec) {
    disarm();
    if (ec) {
      if (!peer_gone(ec) && ec != asio::error::operation_aborted) {
        shared_.count_reject("tls_handshake");
      }
      spdlog::debug("event=tls_handshake_failed remote={} error=\"{}\"", remote_, ec.message());
      return;
    }
    read_header();
  }

  void read_header() {
    phase_ = Phase::kReadHeader;
    version_ = 11;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(kHttpHeaderLimit));
    parser_->body_limit(static_cast<std::uint64_t>(shared_.options.max_body_bytes));
    arm(shared_.options.read_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(error_code ec) {
    disarm();
    if (ec) return on_read_error(ec);
    const auto& req = parser_->get();
    version_ = req.version();
    const std::string encoding = lower(trimmed(to_std(req[http::field::content_encoding])));
    gzip_ = encoding == "gzip" || encoding == "x-gzip";
    if (!gzip_ && !encoding.empty() && encoding != "identity") {
      return reject(415, "unsupported_encoding",
                    "unsupported Content-Encoding '" + to_std(req[http::field::content_encoding]) +
                        "'; send gzip or no encoding");
    }
    if (parser_->is_done()) return handle();
    if (version_ >= 11 && lower(trimmed(to_std(req[http::field::expect]))) == "100-continue") {
      // Clients that ask wait (curl: 1 s) for this before sending the body.
      phase_ = Phase::kWrite;
      arm(shared_.options.read_timeout);
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = this->shared_from_this()](error_code e, std::size_t) {
                          self->disarm();
                          if (e) return self->on_write_error(e);
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    phase_ = Phase::kReadBody;
    arm(shared_.options.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](error_code ec, std::size_t) {
                       self->disarm();
                       if (ec) return self->on_read_error(ec);
                       self->handle();
                     });
  }

  void on_read_error(const error_code& ec) {
    if (ec == asio::error::operation_aborted && timed_out_) {
      return reject(408, "timeout",
                    std::string(phase_ == Phase::kReadBody ? "request body" : "request header") +
                        " not received within read_timeout (" +
                        std::to_string(shared_.options.read_timeout.count()) + " ms)");
    }
    if (ec == http::error::body_limit) {
      return reject(413, "body_too_large",
                    "request body exceeds the limit of " +
                        std::to_string(shared_.options.max_body_bytes) + " bytes (max_body_bytes)");
    }
    if (ec == http::error::header_limit) {
      return reject(431, "header_too_large",
                    "request header exceeds " + std::to_string(kHttpHeaderLimit) + " bytes");
    }
    if (ec == http::error::end_of_stream) return;  // keep-alive client closed between requests
    if (is_http_error(ec))
      return reject(400, "bad_request", "malformed HTTP request: " + ec.message());
    // Reset by the peer, closed by the idle timer or by stop(): nothing to answer.
    spdlog::debug("event=http_read_failed remote={} error=\"{}\"", remote_, ec.message());
  }

  void handle() {
    auto msg = parser_->release();
    HttpRequest req;
    req.method = to_std(msg.method_string());
    req.target = to_std(msg.target());
    req.remote = remote_;
    if (req.target.empty() || req.target[0] != '/') {
      return reject(400, "bad_request",
                    "request target must be a path starting with '/', got '" + req.target + "'");
    }
    const auto q = req.target.find('?');
    auto path = percent_decode(std::string_view(req.target).substr(0, q), false);
    if (!path) return reject(400, "bad_request", "request path: " + path.error());
    req.path = std::move(path).value();
    auto query = parse_query(q == std::string::npos ? std::string_view()
                                                    : std::string_view(req.target).substr(q + 1));
    if (!query) return reject(400, "bad_request", query.error());
    req.query = std::move(query).value();
    for (const auto& field : msg) {
      // Repeated headers fold into one comma-separated value (RFC 9110 5.3).
      auto [it, inserted] =
          req.headers.emplace(lower(to_std(field.name_string())), to_std(field.value()));
      if (!inserted) it->second += ", " + to_std(field.value());
    }
    req.body = std::move(msg.body());
    if (gzip_) {
      auto plain = gunzip(req.body, shared_.options.max_body_bytes);
      if (!plain) {
        const bool big = plain.failure().too_large;
        return reject(big ? 413 : 400, big ? "body_too_large" : "bad_request", plain.error());
      }
      req.body = std::move(plain).value();
    }

    HttpResponse res;
    try {
      res = shared_.handler(req);
    } catch (const std::exception& e) {
      spdlog::error("event=http_handler_failed method={} path={} remote={} error=\"{}\"",
                    req.method, printable(req.path), remote_, e.what());
      res = json_error(500, "internal error");
    } catch (...) {
      spdlog::error("event=http_handler_failed method={} path={} remote={} error=unknown",
                    req.method, printable(req.path), remote_);
      res = json_error(500, "internal error");
    }
    send(std::move(res), msg.keep_alive(), msg.method() == http::verb::head);
  }

  void reject(int status, const std::string& reason, const std::string& message) {
    const std::string text = printable(message);
    shared_.count_reject(reason);
    spdlog::warn("event=http_rejected status={} reason={} remote={} detail=\"{}\"", status, reason,
                 remote_, text);
    send(json_error(status, text), false, false);
  }

  void send(HttpResponse r, bool keep_alive, bool head) {
    if (r.status < 200 || r.status > 599) {
      spdlog::error("event=http_bad_status status={} remote={}", r.status, remote_);
      r = json_error(500, "internal error");
    }
    auto& res = response_.emplace();
    res.version(version_);
    res.result(static_cast<unsigned>(r.status));
    res.set(http::field::server, kServerName);
    if (!r.content_type.empty() && header_safe(r.content_type)) {
      res.set(http::field::content_type, r.content_type);
    }
    for (const auto& [name, value] : r.headers) {
      const std::string key = lower(name);
      if (key == "connection") {
        if (lower(trimmed(value)) == "close") keep_alive = false;
        continue;
      }
      if (key == "content-length" || key == "transfer-encoding") continue;  // ours to set
      if (name.empty() || !header_safe(name) || name.find(':') != std::string::npos ||
          !header_safe(value)) {
        spdlog::error("event=http_bad_header name=\"{}\" remote={}", printable(name), remote_);
        continue;
      }
      res.set(name, value);
    }
    if (r.status == 204 || r.status == 304) r.body.clear();  // these never carry a body
    const auto size = r.body.size();
    res.body() = std::move(r.body);
    res.keep_alive(keep_alive);
    if (head) {
      res.body().clear();
      res.content_length(size);
    } else {
      res.prepare_payload();
    }
    close_after_write_ = !keep_alive;
    phase_ = Phase::kWrite;
    arm(shared_.options.read_timeout);
    http::async_write(stream_, res, [self = this->shared_from_this()](error_code ec, std::size_t) {
      self->disarm();
      if (ec) return self->on_write_error(ec);
      self->response_.reset();
      if (self->close_after_write_) return self->linger();
      self->read_header();
    });
  }

  void on_write_error(const error_code& ec) {
    spdlog::debug("event=http_write_failed remote={} error=\"{}\"", remote_, ec.message());
  }

  // Closes politely: TLS close_notify, then FIN, then reads whatever the client still sends
  // (bounded in time). Closing with unread data would send RST, and a client that has not yet
  // read our 413 would lose it.
  void linger() {
    phase_ = Phase::kLinger;
    arm(std::min(shared_.options.read_timeout, kMaxLinger));
    if constexpr (kTls) {
      stream_.async_shutdown(
          [self = this->shared_from_this()](error_code) { self->shutdown_and_drain(); });
    } else {
      shutdown_and_drain();
    }
  }

  void shutdown_and_drain() {
    error_code ec;
    socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return disarm();  // already closed (by the linger timer)
    drain();
  }

  void drain() {
    socket().async_read_some(asio::buffer(drain_buf_),
                             [self = this->shared_from_this()](error_code ec, std::size_t) {
                               if (ec) return self->disarm();
                               self->drain();
                             });
  }

  HttpServerShared& shared_;
  Stream stream_;
  asio::steady_timer timer_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  std::array<char, 4096> drain_buf_{};
  unsigned timer_gen_ = 0;
  Phase phase_ = Phase::kReadHeader;
  unsigned version_ = 11;
  bool timed_out_ = false;
  bool gzip_ = false;
  bool close_after_write_ = false;
};

}  // namespace

void HttpServerShared::count_reject(const std::string& reason) const {
  if (!options.on_reject) return;
  try {
    options.on_reject(reason);
  } catch (const std::exception& e) {
    spdlog::warn("event=http_reject_callback_failed reason={} error=\"{}\"", reason, e.what());
  } catch (...) {
    spdlog::warn("event=http_reject_callback_failed reason={}", reason);
  }
}

void start_http_session(HttpServerShared& shared, tcp::socket socket) {
  if (shared.tls != nullptr) {
    std::make_shared<Session<TlsStream>>(shared, std::move(socket), *shared.tls)->start();
  } else {
    std::make_shared<Session<tcp::socket>>(shared, std::move(socket))->start();
  }
}

}  // namespace xj::detail
