#include "xj/checks/port_check.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "xj/checks/registry.hpp"
#include "xj/common/config_error.hpp"

using namespace xj;
using Clock = std::chrono::steady_clock;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(XJ_SOURCE_DIR) + "/tests/fixtures/port/" + name);
  REQUIRE(in);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::unique_ptr<Check> make_check(const std::string& yaml) {
  return load_check(YAML::Load(yaml), "agent.yaml", "checks[0]", CheckEnv{}).check;
}

std::string config_error(const std::string& yaml) {
  try {
    make_check(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

Result run(Check& c, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  return run_guarded(c, RunContext(timeout));
}

const Metric* metric(const Result& r, const std::string& name) {
  for (const auto& m : r.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

// A real listening socket on a loopback address and a port the kernel picks.
class Listener {
 public:
  explicit Listener(const char* address = "127.0.0.1", int backlog = 16) {
    auto a = IpAddress::parse(address);
    REQUIRE(a.ok());
    fd_ = ::socket(a->v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (a->v6) {
      auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
      s6->sin6_family = AF_INET6;
      std::memcpy(&s6->sin6_addr, a->bytes.data(), 16);
      len = sizeof(sockaddr_in6);
    } else {
      auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
      s4->sin_family = AF_INET;
      std::memcpy(&s4->sin_addr, a->bytes.data(), 4);
      len = sizeof(sockaddr_in);
    }
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) == 0);
    REQUIRE(::listen(fd_, backlog) == 0);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0);
    port_ = ntohs(a->v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                        : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  ~Listener() { close(); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  int fd() const { return fd_; }
  int port() const { return port_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Serves one connection on its own thread: optionally reads a request line (up to "\r\n"),
// then writes the answer and waits for the client to close. Bounded by a 10 s deadline.
class OneShotServer {
 public:
  OneShotServer(std::string answer, bool read_request_first)
      : thread_([this, answer = std::move(answer), read_request_first] {
          serve(answer, read_request_first);
        }) {}
  ~OneShotServer() { thread_.join(); }
  int port() const { return listener_.port(); }
  std::string request() {
    std::lock_guard lock(m_);
    return request_;
  }

 private:
  void serve(const std::string& answer, bool read_request_first) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    pollfd p{listener_.fd(), POLLIN, 0};
    if (::poll(&p, 1, 10'000) <= 0) return;
    int c = ::accept(listener_.fd(), nullptr, nullptr);
    if (c < 0) return;
    std::string got;
    char buf[512];
    while (read_request_first && got.find("\r\n") == std::string::npos && Clock::now() < deadline) {
      pollfd cp{c, POLLIN, 0};
      if (::poll(&cp, 1, 1000) <= 0) continue;
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    {
      std::lock_guard lock(m_);
      request_ = got;
    }
    (void)::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
    while (Clock::now() < deadline) {  // until the client hangs up
      pollfd cp{c, POLLIN, 0};
      if (::poll(&cp, 1, 100) > 0 && ::recv(c, buf, sizeof buf, 0) <= 0) break;
    }
    ::close(c);
  }

  Listener listener_;
  std::mutex m_;
  std::string request_;
  std::thread thread_;
};

// Connects to a listener that never accepts until its queue is full; after that the kernel
// drops new SYNs, so a further connect hangs — a blackhole on loopback, no network needed.
std::vector<int> fill_accept_queue(int port) {
  std::vector<int> fds;
  for (int i = 0; i < 64; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    fds.push_back(fd);
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 200) == 0) return fds;  // this one hangs: the queue is full
  }
  for (int fd : fds) ::close(fd);
  FAIL("the accept queue of port " << port << " never filled");
  return {};
}

}  // namespace

TEST_CASE("/proc/net/tcp lines decode to address, port and state", "[port]") {
  auto s = parse_proc_net_tcp(fixture("tcp_server.txt"));
  REQUIRE(s.ok());
  REQUIRE(s->size() == 5);
  CHECK((*s)[0].local.str() == "127.0.0.53");
  CHECK((*s)[0].port == 53);
  CHECK((*s)[0].state == kTcpListen);
  CHECK((*s)[1].local.is_wildcard());
  CHECK((*s)[1].port == 22);
  CHECK((*s)[3].local.str() == "10.0.0.5");
  CHECK((*s)[3].state == 1);  // ESTABLISHED
  CHECK((*s)[4].state == 6);  // TIME_WAIT
  auto header_only = parse_proc_net_tcp(fixture("tcp_header_only.txt"));
  REQUIRE(header_only.ok());
  CHECK(header_only->empty());
}

TEST_CASE("/proc/net/tcp6 addresses decode word by word, mapped IPv4 included", "[port]") {
  auto s = parse_proc_net_tcp(fixture("tcp6_server.txt"));
  REQUIRE(s.ok());
  REQUIRE(s->size() == 5);
  CHECK((*s)[0].local.str() == "::");
  CHECK((*s)[0].port == 80);
  CHECK((*s)[1].local.str() == "::1");
  CHECK((*s)[1].port == 8080);
  CHECK((*s)[2].local.str() == "::ffff:127.0.0.1");
  CHECK((*s)[2].port == 3306);
  CHECK((*s)[3].local.str() == "2001:db8::10");
  CHECK((*s)[4].state == 1);
}

TEST_CASE("files captured on this machine parse, and a garbled line names its number", "[port]") {
  auto v4 = parse_proc_net_tcp(fixture("tcp_gvisor_real.txt"));
  REQUIRE(v4.ok());
  REQUIRE(v4->size() == 4);
  CHECK((*v4)[1].local.str() == "127.0.0.1");
  CHECK((*v4)[1].port == 33027);
  auto v6 = parse_proc_net_tcp(fixture("tcp6_gvisor_real.txt"));
  REQUIRE(v6.ok());
  CHECK((*v6)[0].port == 34615);
  auto bad = parse_proc_net_tcp(fixture("tcp_garbled.txt"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().find("line 3") != std::string::npos);
  CHECK_FALSE(parse_proc_net_tcp("   0: 0100007F 00000000:0000 0A\n").ok());
}

TEST_CASE("a listener serves its own address, and wildcards serve their family", "[port]") {
  auto listener = [](const char* addr) { return TcpSocketEntry{ip(addr), 80, kTcpListen}; };
  CHECK(listener_serves(listener("127.0.0.1"), {ip("127.0.0.1")}));
  CHECK_FALSE(listener_serves(listener("127.0.0.1"), {ip("127.0.0.2")}));
  CHECK(listener_serves(listener("0.0.0.0"), {ip("10.1.2.3")}));
  CHECK_FALSE(listener_serves(listener("0.0.0.0"), {ip("::1")}));
  CHECK(listener_serves(listener("::"), {ip("::1")}));
  CHECK(listener_serves(listener("::"), {ip("127.0.0.1")}));  // dual stack
  CHECK_FALSE(listener_serves(listener("::1"), {ip("127.0.0.1")}));
  CHECK(listener_serves(listener("::ffff:127.0.0.1"), {ip("127.0.0.1")}));
  CHECK(listener_serves(listener("127.0.0.1"), {ip("::ffff:127.0.0.1")}));
  CHECK(listener_serves(listener("127.0.0.1"), {ip("::1"), ip("127.0.0.1")}));
  CHECK(listener_serves(listener("10.9.9.9"), {}));  // no host given: any address
}

TEST_CASE("send escapes turn into bytes and received bytes are shown escaped", "[port]") {
  CHECK(*unescape_send("PING\\r\\n") == "PING\r\n");
  CHECK(*unescape_send("a\\tb\\\\c\\x41\\0") == std::string("a\tb\\cA\0", 7));
  CHECK(*unescape_send("already\r\n") == "already\r\n");  // YAML double quotes did it
  CHECK(unescape_send("bad\\q").error().find("unknown escape '\\q'") == 0);
  CHECK_FALSE(unescape_send("half\\x4").ok());
  CHECK_FALSE(unescape_send("trailing\\").ok());
  CHECK(escape_bytes("SSH-2.0-x\r\n", 100) == "SSH-2.0-x\\r\\n");
  CHECK(escape_bytes(std::string("\x00\xff\x7f", 3), 100) == "\\x00\\xFF\\x7F");
  CHECK(escape_bytes("abcdef", 3) == "abc...");
}

TEST_CASE("port settings that cannot work are rejected with the key", "[port]") {
  CHECK(config_error("kind: port\nport: 70000\n").find("key 'port': must be between 1 and 65535") !=
        std::string::npos);
  CHECK(config_error("kind: port\nhost: db\n").find("missing required key 'port'") !=
        std::string::npos);
  CHECK(config_error("kind: port\nport: 22\nlistening: true\nexpect: SSH\n")
            .find("agent.yaml:4: checks[0] (port): key 'expect': does not apply") == 0);
  CHECK(config_error("kind: port\nport: 22\nexpect: a\nexpect_regex: b\n").find("not both") !=
        std::string::npos);
  CHECK(config_error("kind: port\nport: 22\nsend: 'x\\q'\n").find("key 'send': unknown escape") !=
        std::string::npos);
  CHECK(config_error("kind: port\nport: 22\nlatency_warn: fast\n").find("key 'latency_warn'") !=
        std::string::npos);
  CHECK(make_check("kind: port\nport: 22\n")->id() == "port:127.0.0.1:22");
  CHECK(make_check("kind: port\nhost: db.example\nport: 5432\n")->id() == "port:db.example:5432");
  CHECK(make_check("kind: port\nhost: '::1'\nport: 22\n")->id() == "port:[::1]:22");
  CHECK(make_check("kind: port\nport: 22\nlistening: true\n")->id() == "port:22");
}

TEST_CASE("a listening socket accepts the connection: ok with its latency", "[port]") {
  Listener l;
  auto check = make_check("kind: port\nport: " + std::to_string(l.port()) +
                          "\nlatency_warn: 200ms\nlatency_crit: 1s\n");
  CHECK(check->id() == "port:127.0.0.1:" + std::to_string(l.port()));
  Result r = run(*check);
  INFO(r.summary);
  CHECK(r.status == Status::kOk);
  CHECK(metric(r, "up")->value == 1);
  const Metric* latency = metric(r, "latency_ms");
  REQUIRE(latency != nullptr);
  CHECK(latency->unit == "ms");
  CHECK(latency->value >= 0);
  CHECK(latency->value < 200);
  CHECK(latency->warn->str() == "~:200");  // milliseconds, like the metric
  CHECK(latency->crit->str() == "~:1000");
  CHECK(r.summary.find("127.0.0.1:" + std::to_string(l.port()) + " accepted the connection in") ==
        0);
}

TEST_CASE("connect latency over a threshold raises the status and the summary says so", "[port]") {
  Listener l;
  const std::string port = std::to_string(l.port());
  // Any real connect takes more than 0 ms; the metric keeps microseconds.
  Result w = run(*make_check("kind: port\nport: " + port + "\nlatency_warn: 0ms\n"));
  INFO(w.summary);
  CHECK(w.status == Status::kWarning);
  CHECK(metric(w, "latency_ms")->value > 0);
  CHECK(w.summary.find(", above the warning threshold of 0s") != std::string::npos);
  Result c =
      run(*make_check("kind: port\nport: " + port + "\nlatency_warn: 0ms\nlatency_crit: 0ms\n"));
  INFO(c.summary);
  CHECK(c.status == Status::kCritical);
  CHECK(c.summary.find(", above the critical threshold of 0s") != std::string::npos);
}

TEST_CASE("a closed port is critical, naming host:port and connection refused", "[port]") {
  Listener l;
  const int port = l.port();
  l.close();
  auto check = make_check("kind: port\nhost: 127.0.0.1\nport: " + std::to_string(port) + "\n");
  Result r = run(*check);
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary ==
        "cannot connect to 127.0.0.1:" + std::to_string(port) + ": connection refused");
  CHECK(metric(r, "up")->value == 0);
  CHECK(metric(r, "latency_ms") == nullptr);
}

TEST_CASE("a banner that contains the expected text passes, and another is critical and shown",
          "[port]") {
  {
    OneShotServer server("SSH-2.0-test\r\n", false);
    auto check =
        make_check("kind: port\nport: " + std::to_string(server.port()) + "\nexpect: SSH-2.0-\n");
    Result r = run(*check);
    INFO(r.summary);
    CHECK(r.status == Status::kOk);
    CHECK(r.summary.find("the reply contains 'SSH-2.0-'") != std::string::npos);
  }
  {
    OneShotServer server("SSH-2.0-test\r\n", false);
    auto check = make_check("kind: port\nport: " + std::to_string(server.port()) +
                            "\nexpect_regex: '^SSH-2\\.0-\\w+\\r\\n$'\n");
    Result r = run(*check);
    INFO(r.summary);
    CHECK(r.status == Status::kOk);
  }
  {
    OneShotServer server("SSH-2.0-test\r\n", false);
    auto check = make_check("kind: port\nport: " + std::to_string(server.port()) +
                            "\nexpect: SSH-1.99\nread_timeout: 300ms\n");
    const auto started = Clock::now();
    Result r = run(*check);
    INFO(r.summary);
    CHECK(Clock::now() - started < std::chrono::seconds(3));
    CHECK(r.status == Status::kCritical);
    CHECK(r.summary == "127.0.0.1:" + std::to_string(server.port()) +
                           ": the reply does not contain 'SSH-1.99' (nothing more arrived within "
                           "300ms); received 'SSH-2.0-test\\r\\n'");
    CHECK(metric(r, "up")->value == 1);
  }
}

TEST_CASE("send writes the request with its escapes and expect reads the answer", "[port]") {
  OneShotServer server("+PONG\r\n", true);
  auto check = make_check("kind: port\nport: " + std::to_string(server.port()) +
                          "\nsend: 'PING\\r\\n'\nexpect: '+PONG'\n");
  Result r = run(*check);
  INFO(r.summary);
  CHECK(r.status == Status::kOk);
  CHECK(server.request() == "PING\r\n");
}

TEST_CASE("listening mode finds a real socket in /proc/net/tcp and notices when it closes",
          "[port]") {
  Listener l;
  const std::string port = std::to_string(l.port());
  auto any = make_check("kind: port\nlistening: true\nport: " + port + "\n");
  Result r = run(*any);
  INFO(r.summary);
  CHECK(r.status == Status::kOk);
  CHECK(r.summary == "listening on port " + port + " (127.0.0.1:" + port + ")");
  CHECK(metric(r, "up")->value == 1);
  CHECK(metric(r, "latency_ms") == nullptr);

  auto same = make_check("kind: port\nlistening: true\nhost: 127.0.0.1\nport: " + port + "\n");
  CHECK(run(*same).status == Status::kOk);
  auto other = make_check("kind: port\nlistening: true\nhost: 127.0.0.2\nport: " + port + "\n");
  Result wrong = run(*other);
  CHECK(wrong.status == Status::kCritical);
  CHECK(wrong.summary ==
        "nothing listens on 127.0.0.2:" + port + " (only on 127.0.0.1:" + port + ")");

  l.close();
  Result gone = run(*any);
  CHECK(gone.status == Status::kCritical);
  CHECK(gone.summary == "nothing listens on port " + port);
  CHECK(metric(gone, "up")->value == 0);
}

TEST_CASE("an IPv6 listener is found in /proc/net/tcp6 and reached by connecting", "[port]") {
  Listener l("::1");
  const std::string port = std::to_string(l.port());
  Result listening =
      run(*make_check("kind: port\nlistening: true\nhost: '::1'\nport: " + port + "\n"));
  INFO(listening.summary);
  CHECK(listening.status == Status::kOk);
  CHECK(listening.summary == "listening on [::1]:" + port + " ([::1]:" + port + ")");
  Result connect = run(*make_check("kind: port\nhost: '::1'\nport: " + port + "\n"));
  INFO(connect.summary);
  CHECK(connect.status == Status::kOk);
  CHECK(connect.details["address"] == "[::1]:" + port);
}

TEST_CASE("a host name is resolved before connecting, and an unknown name is unknown", "[port]") {
  Listener l;
  Result r =
      run(*make_check("kind: port\nhost: localhost\nport: " + std::to_string(l.port()) + "\n"));
  INFO(r.summary);
  CHECK(r.status == Status::kOk);
  CHECK(r.details["address"] == "127.0.0.1:" + std::to_string(l.port()));

  const auto started = Clock::now();
  Result bad =
      run(*make_check("kind: port\nhost: xj-no-such-host.invalid\nport: 80\n"
                      "connect_timeout: 1s\n"));
  CHECK(Clock::now() - started < std::chrono::seconds(3));
  CHECK(bad.status == Status::kUnknown);
  CHECK(bad.summary.find("cannot resolve xj-no-such-host.invalid: ") == 0);
}

TEST_CASE("a connection that gets no answer gives up at connect_timeout or the run's deadline",
          "[port]") {
  Listener l("127.0.0.1", 0);
  std::vector<int> queued = fill_accept_queue(l.port());
  const std::string port = std::to_string(l.port());

  auto check = make_check("kind: port\nport: " + port + "\nconnect_timeout: 300ms\n");
  auto started = Clock::now();
  Result r = run(*check);
  auto took = Clock::now() - started;
  INFO(r.summary);
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.find("cannot connect to 127.0.0.1:" + port + ": timed out after 3") == 0);
  CHECK(took >= std::chrono::milliseconds(290));
  CHECK(took < std::chrono::seconds(2));

  auto patient = make_check("kind: port\nport: " + port + "\nconnect_timeout: 30s\n");
  started = Clock::now();
  Result bounded = run(*patient, std::chrono::milliseconds(400));
  took = Clock::now() - started;
  CHECK(bounded.status == Status::kCritical);
  CHECK(took < std::chrono::seconds(2));
  for (int fd : queued) ::close(fd);
}
