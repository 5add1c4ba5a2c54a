// `tls_cert`: certificate expiry of TLS endpoints (host:port, SNI, optional STARTTLS) and of
// certificate files (PEM or DER, chains, globs). Parsing certificate bytes and judging names
// are pure and exposed here; fetching a chain from an endpoint is the only I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "xj/common/expected.hpp"

namespace xj {

// What one certificate says.
struct CertInfo {
  std::string subject;  // RFC 2253, "CN=a.example,O=Example"
  std::string issuer;
  std::vector<std::string> sans;  // "DNS:a.example", "IP:127.0.0.1"
  std::int64_t not_before = 0;    // epoch seconds, UTC
  std::int64_t not_after = 0;
  bool self_signed = false;  // issuer == subject and its own key verifies the signature
  std::string key_type;      // "RSA", "EC", "SM2", "ED25519", ...
  std::string signature;     // "sha256WithRSAEncryption", "SM2-with-SM3", ...
  std::string der;           // the certificate itself, for name checks
};

// Every certificate in `data`: PEM (any number of CERTIFICATE blocks, other blocks such as
// keys skipped) or a single DER certificate. Error when there is none.
Expected<std::vector<CertInfo>> parse_certificates(std::string_view data);

// True when the certificate is valid for `host`: a DNS name (wildcards as RFC 6125 allows,
// the subject CN only when there are no DNS SANs) or an IP address literal.
bool certificate_matches_host(const CertInfo& cert, const std::string& host);

// "STARTTLS" dialects before the TLS handshake.
enum class StartTls { kNone, kSmtp, kPostgres };

// The certificate chain an endpoint presents (leaf first), fetched without verifying it: the
// check reports on certificates, it does not trust them. `sni` empty: no SNI sent.
Expected<std::vector<CertInfo>> fetch_certificates(const std::string& host, int port,
                                                   const std::string& sni, StartTls starttls,
                                                   std::chrono::steady_clock::time_point deadline);

}  // namespace xj
