// Resolving and connecting over TCP with a deadline, for checks that talk to a service
// themselves. Private to checks/.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "xj/checks/port_check.hpp"
#include "xj/common/expected.hpp"

namespace xj {

// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// One address a host name resolved to.
struct TcpEndpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  IpAddress ip;
  std::string text;  // "127.0.0.1:22", "[::1]:22"
};

// "127.0.0.1:22", "[::1]:22", "db.example:5432".
std::string host_port(const std::string& host, int port);

// strerror text for the middle of a sentence: "connection refused".
std::string errno_text(int err);

// Addresses of host (a name or an IPv4/IPv6 literal) in getaddrinfo's order. getaddrinfo
// takes no deadline, so a name lookup runs on its own thread and the caller stops waiting at
// the deadline; the thread finishes, and frees what it found, on its own later.
Expected<std::vector<TcpEndpoint>> resolve_tcp(const std::string& host, int port,
                                               std::chrono::steady_clock::time_point deadline);

// A connected socket (non-blocking), or the cause: "connection refused", "timed out after 2s".
Expected<UniqueFd> connect_tcp(const TcpEndpoint& e,
                               std::chrono::steady_clock::time_point deadline);

// Waits for poll events on fd until the deadline; false when it passed first.
bool wait_fd(int fd, short events, std::chrono::steady_clock::time_point deadline);

}  // namespace xj
