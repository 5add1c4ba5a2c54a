#include "tcp_connect.hpp"

#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

#include "xj/common/duration.hpp"

namespace xj {
namespace {

using Clock = std::chrono::steady_clock;

int ms_until(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<std::int64_t>(ms, 0, 1'000'000));
}

}  // namespace

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

std::string host_port(const std::string& host, int port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string errno_text(int err) {
  std::string s = std::strerror(err);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

bool wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, ms_until(deadline));
    if (rc > 0) return true;
    if (rc == 0 || errno != EINTR) return false;
  }
}

Expected<std::vector<TcpEndpoint>> resolve_tcp(const std::string& host, int port,
                                               Clock::time_point deadline) {
  struct Lookup {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    int rc = 0;
    addrinfo* res = nullptr;
    ~Lookup() {
      if (res != nullptr) ::freeaddrinfo(res);
    }
  };
  auto lookup = std::make_shared<Lookup>();
  auto numeric = IpAddress::parse(host).ok();
  auto work = [lookup, host, port, numeric] {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (numeric ? AI_NUMERICHOST : 0);
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
    std::lock_guard lock(lookup->m);
    lookup->rc = rc;
    lookup->res = res;
    lookup->done = true;
    lookup->cv.notify_all();
  };
  if (numeric) {
    work();  // no name service involved, cannot block
  } else {
    try {
      std::thread(work).detach();
    } catch (const std::system_error& e) {
      return make_error("cannot resolve " + host + ": no thread for the lookup: " + e.what());
    }
  }
  std::unique_lock lock(lookup->m);
  if (!lookup->cv.wait_until(lock, deadline, [&] { return lookup->done; })) {
    return make_error("cannot resolve " + host + ": no answer before the deadline");
  }
  if (lookup->rc != 0) {
    return make_error("cannot resolve " + host + ": " + ::gai_strerror(lookup->rc));
  }
  std::vector<TcpEndpoint> out;
  for (addrinfo* ai = lookup->res; ai != nullptr; ai = ai->ai_next) {
    TcpEndpoint e;
    std::memcpy(&e.addr, ai->ai_addr, ai->ai_addrlen);
    e.len = ai->ai_addrlen;
    e.ip.v6 = ai->ai_family == AF_INET6;
    if (e.ip.v6) {
      std::memcpy(e.ip.bytes.data(), &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, 16);
    } else {
      std::memcpy(e.ip.bytes.data(), &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, 4);
    }
    e.text = host_port(e.ip.str(), port);
    out.push_back(std::move(e));
  }
  if (out.empty()) return make_error("cannot resolve " + host + ": no addresses");
  return out;
}

Expected<UniqueFd> connect_tcp(const TcpEndpoint& e, Clock::time_point deadline) {
  const auto started = Clock::now();
  UniqueFd fd(::socket(e.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return make_error(errno_text(errno));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&e.addr), e.len) == 0) return fd;
  if (errno != EINPROGRESS) return make_error(errno_text(errno));
  if (!wait_fd(fd.get(), POLLOUT, deadline)) {
    return make_error(
        "timed out after " +
        format_duration(std::chrono::round<std::chrono::milliseconds>(deadline - started)));
  }
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return make_error(errno_text(err));
  return fd;
}

}  // namespace xj
