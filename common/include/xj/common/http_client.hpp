// A small synchronous HTTP/1.1 client, plain and HTTPS, for what both daemons send or
// probe: the agent's http check, the agent's result shipper, the collector's webhooks.
// Boost.Beast, Asio and OpenSSL stay inside http_client.cpp; callers see plain structs.
// One request = one connection (no pooling): monitoring traffic is a request every few
// seconds at most, and a fresh connection is what a check should measure anyway.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xj/common/expected.hpp"

namespace xj {

// The parts of an http:// or https:// URL that a request needs.
struct Url {
  std::string scheme;      // "http" or "https", lower case
  std::string host;        // a name or an address; an IPv6 literal without its brackets
  std::uint16_t port = 0;  // as written, else 80 for http and 443 for https
  std::string target;      // path and query ("/" at least); the fragment is dropped

  bool https() const { return scheme == "https"; }
  // "host:port" with brackets around an IPv6 literal, as CONNECT and logs want it.
  std::string host_port() const;
  // The Host header: host_port() without the scheme's default port.
  std::string authority() const;
  // scheme://authority/target
  std::string str() const;
};

// Parses an absolute http(s) URL. Errors name the text and what is wrong with it, e.g.
// "'ftp://x/' is not an http:// or https:// URL". Bytes outside printable ASCII in the
// path or query are percent-encoded; spaces and control characters are refused.
Expected<Url> parse_url(std::string_view text);

// Where a redirect's Location leads from `base`: an absolute URL, "//host/path",
// "/path", "path" (relative to base's directory) or "?query".
Expected<Url> resolve_location(const Url& base, std::string_view location);

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// One request. Only `url` is required.
struct HttpClientRequest {
  std::string method = "GET";
  std::string url;
  // Sent in this order. Host, User-Agent ("xunjian/<version>") and Connection ("close")
  // are added unless given here; Content-Length always comes from `body`.
  HttpHeaders headers;
  // Sent with a Content-Length when not empty, and always (maybe empty) for POST/PUT/PATCH.
  std::string body;
  // Bounds the whole exchange, redirects included, and is what "timed out after 10s" names.
  std::chrono::milliseconds timeout{10'000};
  // An absolute end that may come before now + timeout, e.g. a check's own deadline.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  bool verify_tls = true;  // chain against the CAs below, and the host name or IP
  std::string ca_file;     // PEM CAs to trust instead of the system store
  std::string cert_file;   // client certificate chain (PEM) for mutual TLS
  std::string key_file;    // its private key (PEM); default: in cert_file
  // Bytes of body kept; the rest is not read and body_truncated is set.
  std::uint64_t max_body = 8 * 1024 * 1024;
  bool follow_redirects = false;
  int max_redirects = 5;
  // "http://host:port". Plain HTTP goes to it in absolute form, HTTPS through a CONNECT
  // tunnel. Empty: connect directly (http_proxy and friends in the environment are ignored).
  std::string proxy;
  // Set from another thread to abandon the request; it then fails as kCancelled.
  const std::atomic<bool>* cancel = nullptr;
};

// What the server's TLS certificate (the leaf) says, for expiry monitoring.
struct PeerCertificate {
  std::int64_t not_after = 0;  // epoch seconds (UTC)
  std::string subject;         // RFC 2253, e.g. "CN=example.com,O=Example"
  std::string issuer;
};

// Milliseconds spent; connect and tls are those of the last connection made.
struct HttpClientTimings {
  double connect_ms = 0;
  double tls_ms = 0;
  double total_ms = 0;  // the whole request, every redirect included
};

// The final response (after redirects, when followed).
struct HttpClientResponse {
  int status = 0;
  HttpHeaders headers;  // as received, in order
  std::string body;
  bool body_truncated = false;  // the body went on past max_body
  HttpClientTimings timings;
  std::optional<PeerCertificate> peer_cert;  // https only
  std::string final_url;                     // the request's url unless redirected

  // First header of that name (case-insensitive), if any.
  std::optional<std::string> header(std::string_view name) const;
};

// Why a request got no response, for callers that react differently: a monitoring check
// reports kRequest and kCancelled as "could not measure", the rest as "the service is down".
enum class HttpErrorKind {
  kRequest,       // the request cannot be made as given: URL, header, ca/cert/key file
  kResolve,       // the host name does not resolve
  kConnect,       // no TCP connection (to the server or the proxy), or the proxy refused
  kTlsHandshake,  // TLS failed for another reason than the certificate
  kTlsVerify,     // the server's certificate or host name did not verify
  kTimeout,       // the deadline passed
  kCancelled,     // `cancel` was set
  kTransfer,      // the exchange broke: write, read, bad HTTP, too many redirects
};

// "GET https://x/health: connect to 10.0.0.5:443: Connection refused" — the method and
// URL first, then the step and the cause.
struct HttpClientError {
  HttpErrorKind kind = HttpErrorKind::kTransfer;
  std::string message;
};

// Performs the request on the calling thread, on a private io_context, bounded by the
// timeout or deadline in every step (resolve, connect, handshake, write, read). Never throws.
Expected<HttpClientResponse, HttpClientError> http_request(const HttpClientRequest& request);

}  // namespace xj
