// Pieces of the HTTP client that need neither Beast nor Asio, kept out of http_client.cpp
// so that file stays about requests. Private to common/src.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "xj/common/http_client.hpp"

struct ssl_st;  // OpenSSL's SSL

namespace xj::detail {

// The leaf certificate the server presented in a finished handshake; nullopt without one.
std::optional<PeerCertificate> peer_certificate(ssl_st* ssl);

// What a host name lookup came to.
struct HostAddresses {
  enum class State { kResolved, kFailed, kTimedOut, kCancelled };
  State state = State::kFailed;
  std::vector<sockaddr_storage> addresses;  // kResolved: at least one, IPv4 or IPv6
  std::string error;                        // kFailed: why, e.g. "Name or service not known"
};

// getaddrinfo for a TCP connection to host:port, given up at the deadline or when *cancel
// becomes true. getaddrinfo itself cannot be interrupted, and Asio's resolver joins its
// thread when destroyed, so a DNS server that never answers would hold a request past its
// deadline: the lookup runs on a detached thread, left to finish alone when given up.
HostAddresses lookup_host(const std::string& host, std::uint16_t port,
                          std::chrono::steady_clock::time_point deadline,
                          const std::atomic<bool>* cancel);

}  // namespace xj::detail
