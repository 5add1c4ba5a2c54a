// lookup_host() of http_client_detail.hpp: getaddrinfo on a detached thread (inline for an
// address literal).
#include <arpa/inet.h>
#include <netdb.h>

#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "http_client_detail.hpp"

namespace xj::detail {

namespace {

// Shared by the waiting request and the lookup thread, which may outlive it.
struct Lookup {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  int rc = 0;
  std::vector<sockaddr_storage> addresses;
};

void run_lookup(const std::shared_ptr<Lookup>& lookup, const std::string& host,
                std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  std::vector<sockaddr_storage> addresses;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
    sockaddr_storage s{};
    std::memcpy(&s, a->ai_addr, std::min<std::size_t>(a->ai_addrlen, sizeof s));
    addresses.push_back(s);
  }
  if (found != nullptr) ::freeaddrinfo(found);
  std::lock_guard lock(lookup->m);
  lookup->rc = rc;
  lookup->addresses = std::move(addresses);
  lookup->done = true;
  lookup->cv.notify_all();
}

}  // namespace

HostAddresses lookup_host(const std::string& host, std::uint16_t port,
                          std::chrono::steady_clock::time_point deadline,
                          const std::atomic<bool>* cancel) {
  using State = HostAddresses::State;
  constexpr auto kCancelPoll = std::chrono::milliseconds(50);
  auto lookup = std::make_shared<Lookup>();
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    run_lookup(lookup, host, port);  // an address literal: no name service, cannot block
  } else {
    try {
      std::thread(run_lookup, lookup, host, port).detach();
    } catch (const std::system_error& e) {
      return {State::kFailed, {}, std::string("no thread for the lookup: ") + e.what()};
    }
  }
  std::unique_lock lock(lookup->m);
  while (!lookup->done) {
    if (cancel != nullptr && cancel->load()) return {State::kCancelled, {}, ""};
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return {State::kTimedOut, {}, ""};
    lookup->cv.wait_until(lock, std::min(deadline, now + kCancelPoll));
  }
  if (lookup->rc != 0) return {State::kFailed, {}, ::gai_strerror(lookup->rc)};
  if (lookup->addresses.empty()) return {State::kFailed, {}, "no IPv4 or IPv6 address"};
  return {State::kResolved, std::move(lookup->addresses), ""};
}

}  // namespace xj::detail
