// The collector's HTTP(S) server on Boost.Beast. All Beast code stays in http_server.cpp.
//
// Limits that protect the collector from bad clients: body size (413), header and body read
// timeouts (a slowloris client is cut off, 408), connection count. TLS 1.2+ only. Plain HTTP
// is refused on non-loopback addresses unless `insecure_http` is set.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "xj/collector/http_types.hpp"
#include "xj/common/expected.hpp"

namespace xj {

struct HttpServerOptions {
  std::string listen = "127.0.0.1:8443";  // host:port; port 0 picks a free one
  std::string tls_cert_file;              // both empty: plain HTTP
  std::string tls_key_file;
  bool insecure_http = false;             // allow plain HTTP on a non-loopback address
  std::size_t max_body_bytes = 8u << 20;  // compressed and decompressed
  std::chrono::milliseconds read_timeout{10'000};
  std::size_t max_connections = 1024;
  std::size_t threads = 2;                // I/O threads; handlers run on them
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on its own threads. The error names the address and the cause.
  Expected<std::uint16_t> start();
  void stop();
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xj
