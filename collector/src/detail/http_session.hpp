// Private to http_server.cpp and http_session.cpp, the collector's only Asio/Beast translation
// units: what the acceptor hands to each connection.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstddef>
#include <string>

#include "xj/collector/http_server.hpp"

namespace xj::detail {

// A request header larger than this is refused with 431; agents send a few hundred bytes.
constexpr std::size_t kHttpHeaderLimit = 16 * 1024;

// What all connections of one server share. Owned by the server and destroyed only after the
// io_context, so every session may hold a plain reference to it.
struct HttpServerShared {
  HttpServerOptions options;
  HttpHandler handler;
  boost::asio::ssl::context* tls = nullptr;  // null: plain HTTP
  std::atomic<std::size_t> connections{0};   // live sessions

  void count_reject(const std::string& reason) const;
};

// Serves one accepted connection (counted in shared.connections) until it closes. The session
// keeps itself alive through its pending operations; stopping the io_context ends it.
void start_http_session(HttpServerShared& shared, boost::asio::ip::tcp::socket socket);

}  // namespace xj::detail
