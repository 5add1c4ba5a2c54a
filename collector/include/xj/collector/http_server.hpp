// The collector's HTTP(S) server on Boost.Beast. All Beast code stays in http_server.cpp.
//
// Limits that protect the collector from bad clients: body size (413), header and body read
// timeouts (a slowloris client is cut off, 408), connection count. TLS 1.2+ only. Plain HTTP
// is refused on non-loopback addresses unless `insecure_http` is set.
//
// Threads: `threads` I/O threads run one io_context; the handler is called on them, one request
// at a time per connection. An ingest handler blocks its thread until the batch is committed,
// and the store's group commit can only gather as many batches as there are threads waiting:
// the ingest bench measured 4,021 results/s with 2 threads and 7,035 with 16 on the same
// machine (docs/benchmarks.md). Hence 16 by default; the threads mostly sleep in the commit.
// Handing batches to the writer without blocking a thread is the real fix (not done yet).
//
// Limits in detail:
// - read_timeout bounds the request header (from the first byte waited for) and, separately,
//   the body; a client that sent part of a request by then gets 408 and is closed, an idle
//   keep-alive connection is just closed. The TLS handshake and writing a response are bounded
//   by read_timeout too.
// - max_body_bytes applies to the body as sent and again to the gunzipped body (413, closed).
// - Connections beyond max_connections are accepted and closed at once: plain HTTP ones get a
//   best-effort 503 first; TLS ones are closed without a handshake, which is the cost the
//   limit exists to avoid.
// - Malformed HTTP or a bad percent-escape in the target: 400; request header over 16 KiB:
//   431; Content-Encoding other than gzip/identity: 415; bad gzip: 400. All of these close
//   the connection; the server itself keeps serving.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
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
  std::size_t threads = 16;  // I/O threads; handlers run (and ingest waits for commits) on them

  // Called for every request or connection the server refuses by itself, before any handler
  // sees it, with a reason: "bad_request" (400), "timeout" (408), "body_too_large" (413),
  // "unsupported_encoding" (415), "header_too_large" (431), "too_many_connections" (503).
  // Runs on an I/O thread, so it must be thread-safe (a Prometheus counter is). Optional.
  std::function<void(const std::string& reason)> on_reject;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on its own threads. The error names the address and the cause
  // (or the TLS file and the cause). Returns the bound port. Call once.
  Expected<std::uint16_t> start();
  // Stops accepting, drops every connection (a handler already running finishes first) and
  // joins the threads. Idempotent; the destructor calls it.
  void stop();
  std::uint16_t port() const;  // 0 before start()

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xj
