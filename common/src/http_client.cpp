// http_request() over Boost.Beast and Asio's OpenSSL streams. The only file that includes
// them: the rest of the build neither pays their compile time nor sees their types.
#include "xj/common/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

#include "http_client_detail.hpp"
#include "xj/common/duration.hpp"
#include "xj/common/openssl_loader.hpp"

namespace xj {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
template <typename T>
using Outcome = Expected<T, HttpClientError>;
// Inside a Session, an error's message is the step and the cause; http_request() puts
// "METHOD url: " in front.
using Failure = std::optional<HttpClientError>;

constexpr auto kCancelPoll = std::chrono::milliseconds(50);
constexpr std::uint32_t kHeaderLimit = 64 * 1024;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 &&
        std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool has_header(const HttpHeaders& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (iequals(h.first, name)) return true;
  }
  return false;
}

Failure invalid_request(const HttpClientRequest& r) {
  auto bad = [](std::string m) { return HttpClientError{HttpErrorKind::kRequest, std::move(m)}; };
  if (!is_token(r.method)) return bad("'" + r.method + "' is not an HTTP method");
  for (const auto& [name, value] : r.headers) {
    if (!is_token(name)) return bad("'" + name + "' is not a header name");
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      return bad("header " + name + ": line breaks are not allowed in a value");
    if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding"))
      return bad("header " + name + " is set from the body, not by hand");
  }
  return std::nullopt;
}

// One request's connections, sharing its io_context, deadline and TLS context.
class Session {
 public:
  Session(const HttpClientRequest& req, Clock::time_point deadline, std::optional<Url> proxy)
      : req_(req), deadline_(deadline), proxy_(std::move(proxy)) {}

  // One request and its response on a new connection to `url` (or to the proxy).
  Outcome<HttpClientResponse> exchange(const Url& url, const std::string& method,
                                       const HttpHeaders& headers, const std::string& body);

  HttpClientError timed_out(const std::string& step) const {
    return {HttpErrorKind::kTimeout,
            "timed out after " + format_duration(req_.timeout) + " (" + step + ")"};
  }

 private:
  Outcome<std::vector<tcp::endpoint>> resolve(const Url& where);
  Failure open_tunnel(beast::tcp_stream& tcp, const Url& url);
  Failure make_tls_context();
  template <typename Stream>
  Outcome<HttpClientResponse> talk(Stream& stream, http::request<http::string_body>& request,
                                   bool head, HttpClientResponse out);

  // Starts an operation with start(handler) and runs the io_context until it completes:
  // the stream's expiry ends it at the deadline, a set cancel flag cancels it.
  template <typename Start>
  beast::error_code wait(beast::tcp_stream& lowest, Start&& start) {
    beast::error_code result = asio::error::operation_aborted;  // until the handler says
    bool done = false;
    lowest.expires_at(deadline_);
    start([&result, &done](beast::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    ioc_.restart();
    while (!done && !ioc_.stopped()) {  // stopped: out of work, which the handler ends
      if (req_.cancel == nullptr) {
        ioc_.run();
        continue;
      }
      ioc_.run_for(kCancelPoll);
      if (!done && req_.cancel->load()) {
        cancelled_ = true;
        lowest.cancel();
      }
    }
    return result;
  }

  HttpClientError failed(const std::string& step, beast::error_code ec, HttpErrorKind kind) {
    if (cancelled_) return {HttpErrorKind::kCancelled, "cancelled"};
    if (ec == beast::error::timeout || Clock::now() >= deadline_) return timed_out(step);
    return {kind, step + ": " + ec.message()};
  }

  const HttpClientRequest& req_;
  Clock::time_point deadline_;
  std::optional<Url> proxy_;
  asio::io_context ioc_{1};
  std::optional<ssl::context> tls_;  // built once, reused by redirects
  bool cancelled_ = false;
};

Outcome<std::vector<tcp::endpoint>> Session::resolve(const Url& where) {
  beast::error_code ec;
  const auto address = asio::ip::make_address(where.host, ec);
  if (!ec) return std::vector<tcp::endpoint>{tcp::endpoint(address, where.port)};
  using State = detail::HostAddresses::State;
  auto found = detail::lookup_host(where.host, where.port, deadline_, req_.cancel);
  switch (found.state) {
    case State::kCancelled:
      return HttpClientError{HttpErrorKind::kCancelled, "cancelled"};
    case State::kTimedOut:
      return timed_out("resolving " + where.host);
    case State::kFailed:
      return HttpClientError{HttpErrorKind::kResolve, "resolve " + where.host + ": " + found.error};
    case State::kResolved:
      break;
  }
  std::vector<tcp::endpoint> endpoints;
  for (const auto& s : found.addresses) {
    tcp::endpoint e;
    const std::size_t len = s.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    std::memcpy(e.data(), &s, len);
    e.resize(len);
    endpoints.push_back(e);
  }
  return endpoints;
}

Failure Session::open_tunnel(beast::tcp_stream& tcp, const Url& url) {
  const std::string step = "proxy CONNECT to " + url.host_port();
  http::request<http::empty_body> connect{http::verb::connect, url.host_port(), 11};
  connect.set(http::field::host, url.host_port());
  auto ec = wait(tcp, [&](auto&& h) { http::async_write(tcp, connect, std::move(h)); });
  if (ec) return failed(step, ec, HttpErrorKind::kConnect);
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // a 2xx to CONNECT has no body: the tunnel starts right after
  ec = wait(tcp, [&](auto&& h) { http::async_read(tcp, buffer, parser, std::move(h)); });
  if (ec) return failed(step, ec, HttpErrorKind::kConnect);
  const auto& res = parser.get();
  if (res.result_int() / 100 != 2) {
    return HttpClientError{HttpErrorKind::kConnect, step + ": the proxy answered " +
                                                        std::to_string(res.result_int()) + " " +
                                                        std::string(res.reason())};
  }
  return std::nullopt;
}

Failure Session::make_tls_context() {
  if (tls_) return std::nullopt;
  // OpenSSL's own errors for a missing file ("system lib") do not say which file or why.
  for (const std::string* file : {&req_.ca_file, &req_.cert_file, &req_.key_file}) {
    if (!file->empty() && !std::ifstream(*file)) {
      return HttpClientError{HttpErrorKind::kRequest,
                             "cannot read '" + *file + "': " + std::strerror(errno)};
    }
  }
  // The agent opens OpenSSL only now (openssl_loader.hpp); without it the context would throw
  // with an empty error queue.
  if (const std::string& why = openssl_load_error(); !why.empty()) {
    return HttpClientError{HttpErrorKind::kRequest, why};
  }
  tls_.emplace(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(tls_->native_handle(), TLS1_2_VERSION);
  beast::error_code ec;
  auto bad = [&](const std::string& what) {
    return HttpClientError{HttpErrorKind::kRequest, what + ": " + ec.message()};
  };
  if (req_.verify_tls) {
    tls_->set_verify_mode(ssl::verify_peer);
    if (!req_.ca_file.empty()) {
      if (tls_->load_verify_file(req_.ca_file, ec); ec) return bad("ca_file " + req_.ca_file);
    } else if (tls_->set_default_verify_paths(ec); ec) {
      return bad("system CA store");
    }
  } else {
    tls_->set_verify_mode(ssl::verify_none);
  }
  if (!req_.cert_file.empty()) {
    const std::string& key = req_.key_file.empty() ? req_.cert_file : req_.key_file;
    if (tls_->use_certificate_chain_file(req_.cert_file, ec); ec)
      return bad("cert_file " + req_.cert_file);
    if (tls_->use_private_key_file(key, ssl::context::pem, ec); ec) return bad("key_file " + key);
  }
  return std::nullopt;
}

Outcome<HttpClientResponse> Session::exchange(const Url& url, const std::string& method,
                                              const HttpHeaders& headers, const std::string& body) {
  // Before connecting: an unreadable ca_file is the config's fault, whatever the server does.
  if (url.https()) {
    if (auto f = make_tls_context()) return *f;
  }
  const Url& hop = proxy_ ? *proxy_ : url;
  auto endpoints = resolve(hop);
  if (!endpoints) return endpoints.failure();
  beast::tcp_stream tcp(ioc_);
  HttpClientResponse out;
  const auto connect_start = Clock::now();
  auto ec = wait(tcp, [&](auto&& h) { tcp.async_connect(*endpoints, std::move(h)); });
  if (ec) {
    return failed("connect to " + std::string(proxy_ ? "proxy " : "") + hop.host_port(), ec,
                  HttpErrorKind::kConnect);
  }
  out.timings.connect_ms = ms_between(connect_start, Clock::now());

  http::request<http::string_body> request;
  const auto verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    request.method_string(method);
  } else {
    request.method(verb);
  }
  // A proxy gets plain HTTP requests in absolute form; HTTPS goes through a tunnel.
  request.target(proxy_ && !url.https() ? url.str() : url.target);
  if (!has_header(headers, "Host")) request.set(http::field::host, url.authority());
  for (const auto& [name, value] : headers) request.insert(name, value);
  if (!has_header(headers, "User-Agent"))
    request.set(http::field::user_agent, "xunjian/" XJ_VERSION);
  if (!has_header(headers, "Connection")) request.set(http::field::connection, "close");
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    request.body() = body;
    request.content_length(body.size());
  }
  const bool head = method == "HEAD";
  if (!url.https()) return talk(tcp, request, head, std::move(out));

  if (proxy_) {
    if (auto f = open_tunnel(tcp, url)) return *f;
  }
  beast::ssl_stream<beast::tcp_stream> tls(std::move(tcp), *tls_);
  SSL* ssl = tls.native_handle();
  asio::ip::make_address(url.host, ec);
  const bool ip_literal = !ec;
  // SNI carries names only (RFC 6066); the name or address is checked against the
  // certificate's subjectAltName by OpenSSL during the handshake.
  bool set_up = ip_literal || SSL_set_tlsext_host_name(ssl, url.host.c_str()) == 1;
  if (req_.verify_tls) {
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    set_up =
        set_up && (ip_literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str())
                              : SSL_set1_host(ssl, url.host.c_str())) == 1;
  }
  if (!set_up) {
    return HttpClientError{HttpErrorKind::kRequest, "cannot use '" + url.host + "' for TLS"};
  }
  const auto tls_start = Clock::now();
  ec = wait(beast::get_lowest_layer(tls),
            [&](auto&& h) { tls.async_handshake(ssl::stream_base::client, std::move(h)); });
  if (ec) {
    const long verify = SSL_get_verify_result(ssl);
    if (req_.verify_tls && verify != X509_V_OK && !cancelled_ && ec != beast::error::timeout) {
      return HttpClientError{HttpErrorKind::kTlsVerify,
                             std::string("TLS handshake: certificate verify failed (") +
                                 X509_verify_cert_error_string(verify) + ")"};
    }
    return failed("TLS handshake", ec, HttpErrorKind::kTlsHandshake);
  }
  out.timings.tls_ms = ms_between(tls_start, Clock::now());
  out.peer_cert = detail::peer_certificate(ssl);
  return talk(tls, request, head, std::move(out));
}

template <typename Stream>
Outcome<HttpClientResponse> Session::talk(Stream& stream, http::request<http::string_body>& request,
                                          bool head, HttpClientResponse out) {
  beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
  auto ec = wait(lowest, [&](auto&& h) { http::async_write(stream, request, std::move(h)); });
  if (ec) return failed("sending the request", ec, HttpErrorKind::kTransfer);
  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::buffer_body>> parser;
  do {  // interim 1xx answers come before the real one
    parser.emplace();
    parser->header_limit(kHeaderLimit);
    // Not boost::none: 1.74 compares a Content-Length against it as "greater than none".
    parser->body_limit(std::numeric_limits<std::uint64_t>::max());  // max_body: see below
    parser->skip(head);
    ec = wait(lowest,
              [&](auto&& h) { http::async_read_header(stream, buffer, *parser, std::move(h)); });
    if (ec) return failed("reading the response", ec, HttpErrorKind::kTransfer);
  } while (parser->get().result_int() / 100 == 1 && parser->get().result_int() != 101);

  auto& message = parser->get();
  out.status = message.result_int();
  for (const auto& field : message) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  char chunk[16 * 1024];
  while (!parser->is_done()) {
    message.body().data = chunk;
    message.body().size = sizeof chunk;
    ec = wait(lowest, [&](auto&& h) { http::async_read(stream, buffer, *parser, std::move(h)); });
    if (ec == http::error::need_buffer) ec = {};
    // A body that runs to the end of the connection, ended without TLS close_notify.
    if (ec == ssl::error::stream_truncated && parser->need_eof()) parser->put_eof(ec);
    if (ec) return failed("reading the response body", ec, HttpErrorKind::kTransfer);
    const std::size_t got = sizeof chunk - message.body().size;
    const std::uint64_t room = req_.max_body - out.body.size();
    if (got > room) {
      out.body.append(chunk, static_cast<std::size_t>(room));
      out.body_truncated = true;
      break;
    }
    out.body.append(chunk, got);
  }
  return out;
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

std::optional<std::string> HttpClientResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return v;
  }
  return std::nullopt;
}

Expected<HttpClientResponse, HttpClientError> http_request(const HttpClientRequest& request) {
  const auto started = Clock::now();
  std::string where = request.url;
  auto named = [&](HttpClientError e) {
    e.message = request.method + " " + where + ": " + e.message;
    return e;
  };
  try {
    auto deadline = started + request.timeout;
    if (request.deadline) deadline = std::min(deadline, *request.deadline);
    if (auto bad = invalid_request(request)) return named(*bad);
    auto url = parse_url(request.url);
    if (!url) return named({HttpErrorKind::kRequest, url.error()});
    std::optional<Url> proxy;
    if (!request.proxy.empty()) {
      auto p = parse_url(request.proxy);
      if (!p || p->https() || p->target != "/") {
        return named({HttpErrorKind::kRequest,
                      "proxy '" + request.proxy + "' is not of the form http://host:port"});
      }
      proxy = *p;
    }
    Session session(request, deadline, std::move(proxy));
    std::string method = request.method, body = request.body;
    HttpHeaders headers = request.headers;
    for (int redirects = 0;; ++redirects) {
      if (Clock::now() >= deadline) return named(session.timed_out("before connecting"));
      auto response = session.exchange(*url, method, headers, body);
      if (!response) return named(response.failure());
      HttpClientResponse r = std::move(response).value();
      const auto location = r.header("Location");
      if (!request.follow_redirects || !is_redirect(r.status) || !location) {
        r.final_url = redirects == 0 ? request.url : url->str();
        r.timings.total_ms = ms_between(started, Clock::now());
        return r;
      }
      if (redirects == request.max_redirects) {
        return named({HttpErrorKind::kTransfer,
                      "more than " + std::to_string(request.max_redirects) + " redirects"});
      }
      auto next = resolve_location(*url, *location);
      if (!next) return named({HttpErrorKind::kTransfer, "redirect: " + next.error()});
      // What browsers and curl do: 303, and 301/302 after a POST, continue as a GET.
      if ((r.status == 303 && method != "HEAD") ||
          ((r.status == 301 || r.status == 302) && method == "POST")) {
        method = "GET";
        body.clear();
        std::erase_if(headers, [](const auto& h) { return iequals(h.first, "Content-Type"); });
      }
      // Credentials are for the origin they were written for.
      if (next->scheme != url->scheme || next->host != url->host || next->port != url->port) {
        std::erase_if(headers, [](const auto& h) {
          return iequals(h.first, "Authorization") || iequals(h.first, "Cookie");
        });
      }
      url = std::move(next);
      where = request.url + " (redirected to " + url->str() + ")";
    }
  } catch (const std::exception& e) {
    return named({HttpErrorKind::kTransfer, std::string("unexpected error: ") + e.what()});
  }
}

}  // namespace xj
