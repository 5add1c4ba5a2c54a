#include "xj/checks/port_check.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <regex>

#include "tcp_connect.hpp"
#include "xj/checks/host_access.hpp"
#include "xj/checks/io_util.hpp"
#include "xj/checks/kinds.hpp"
#include "xj/common/duration.hpp"

namespace xj {
namespace {

using Clock = std::chrono::steady_clock;

// Enough for banners and short answers; also keeps std::regex, which recurses per character,
// far from the end of the stack.
constexpr std::size_t kMaxReply = 8 * 1024;
constexpr std::size_t kShownReply = 100;

class PortCheck : public Check {
 public:
  PortCheck(std::string id, const CheckOptions& o)
      : Check(std::move(id), "port"),
        host_(o.str("host")),
        port_(static_cast<int>(o.integer("port"))),
        listening_(o.boolean("listening")),
        connect_timeout_(o.duration("connect_timeout")),
        read_timeout_(o.duration("read_timeout")),
        expect_(o.str("expect")),
        expect_regex_text_(o.str("expect_regex")),
        host_access_(o.env().host) {
    if (port_ < 1 || port_ > 65535) o.fail("port", "must be between 1 and 65535");
    if (host_access_ && !listening_) {
      o.fail("listening", "an agentless target checks its listening sockets only: set "
                          "listening: true (a connect test from the collector is not a test "
                          "of the target host)");
    }
    if (host_access_ && !host_.empty() && !IpAddress::parse(host_)) {
      o.fail("host", "'" + host_ + "' must be an IP address on an agentless target (the name "
                     "would be resolved on the collector, not on the target)");
    }
    if (listening_) {
      for (const char* key : {"send", "expect", "expect_regex", "latency_warn", "latency_crit",
                              "connect_timeout", "read_timeout"}) {
        if (o.has(key)) o.fail(key, "does not apply to a listening check (listening: true)");
      }
    } else if (host_.empty()) {
      host_ = "127.0.0.1";
    }
    if (o.has("expect") && o.has("expect_regex")) {
      o.fail("expect_regex", "give either expect (a substring) or expect_regex, not both");
    }
    if (o.has("send")) {
      auto s = unescape_send(o.str("send"));
      if (!s) o.fail("send", s.error());
      send_ = *s;
    }
    if (o.has("expect_regex")) expect_regex_.emplace(expect_regex_text_, std::regex::ECMAScript);
    if (connect_timeout_.count() <= 0) o.fail("connect_timeout", "must be more than 0");
    if (read_timeout_.count() <= 0) o.fail("read_timeout", "must be more than 0");
    if (o.has("latency_warn")) latency_warn_ = Range::above(o.duration("latency_warn").count());
    if (o.has("latency_crit")) latency_crit_ = Range::above(o.duration("latency_crit").count());
  }

  Result run(const RunContext& ctx) override {
    return listening_ ? run_listening(ctx) : run_connect(ctx);
  }

 private:
  Result run_connect(const RunContext& ctx);
  Result run_listening(const RunContext& ctx);
  // Empty when the reply is as expected, else what is wrong with it.
  std::string check_reply(int fd, const std::string& target, Clock::time_point deadline) const;

  Metric up_metric(bool up) const {
    return Metric{"up", up ? 1.0 : 0.0, "", {}, std::nullopt, Range::below(1)};
  }

  std::string host_;
  int port_;
  bool listening_;
  std::chrono::milliseconds connect_timeout_, read_timeout_;
  std::string send_, expect_, expect_regex_text_;
  std::optional<std::regex> expect_regex_;
  std::optional<Range> latency_warn_, latency_crit_;
  std::shared_ptr<HostAccess> host_access_;  // null: this machine
};

Result PortCheck::run_connect(const RunContext& ctx) {
  const std::string target = host_port(host_, port_);
  const auto connect_deadline = std::min(Clock::now() + connect_timeout_, ctx.deadline);
  auto endpoints = resolve_tcp(host_, port_, connect_deadline);
  if (!endpoints) return unknown(endpoints.error());

  std::optional<UniqueFd> fd;
  const TcpEndpoint* connected = nullptr;
  std::string failures;
  const auto started = Clock::now();
  for (const auto& e : *endpoints) {
    auto attempt = connect_tcp(e, connect_deadline);
    if (attempt) {
      fd.emplace(std::move(attempt).value());
      connected = &e;
      break;
    }
    bool single = endpoints->size() == 1;
    failures += (failures.empty() ? "" : "; ") + (single ? "" : e.text + " ") + attempt.error();
  }
  const double latency_ms =
      std::round(std::chrono::duration<double, std::milli>(Clock::now() - started).count() * 1000) /
      1000;

  Result r = make_result();
  r.details["target"] = target;
  if (!fd) {
    r.metrics.push_back(up_metric(false));
    r.status = Status::kCritical;
    r.summary = "cannot connect to " + target + ": " + failures;
    return r;
  }
  r.details["address"] = connected->text;
  r.metrics.push_back(up_metric(true));
  r.metrics.push_back(Metric{"latency_ms", latency_ms, "ms", {}, latency_warn_, latency_crit_});
  r.status = r.metrics_status();
  char buf[64];
  std::snprintf(buf, sizeof buf, " accepted the connection in %.2f ms", latency_ms);
  r.summary = target + buf;
  if (latency_crit_ && latency_crit_->alerts(latency_ms)) {
    r.summary +=
        ", above the critical threshold of " +
        format_duration(std::chrono::milliseconds(static_cast<std::int64_t>(latency_crit_->end())));
  } else if (latency_warn_ && latency_warn_->alerts(latency_ms)) {
    r.summary +=
        ", above the warning threshold of " +
        format_duration(std::chrono::milliseconds(static_cast<std::int64_t>(latency_warn_->end())));
  }
  if (!send_.empty() || !expect_.empty() || expect_regex_) {
    const auto io_deadline = std::min(Clock::now() + read_timeout_, ctx.deadline);
    std::string problem = check_reply(fd->get(), connected->text, io_deadline);
    if (!problem.empty()) {
      r.status = Status::kCritical;
      r.summary = problem;
    } else if (!expect_.empty() || expect_regex_) {
      r.summary += expect_regex_ ? "; the reply matches /" + expect_regex_text_ + "/"
                                 : "; the reply contains '" + escape_bytes(expect_, 60) + "'";
    }
  }
  return r;
}

std::string PortCheck::check_reply(int fd, const std::string& target,
                                   Clock::time_point deadline) const {
  for (std::size_t sent = 0; sent < send_.size();) {
    if (!wait_fd(fd, POLLOUT, deadline)) return "cannot send to " + target + ": timed out";
    ssize_t n = ::send(fd, send_.data() + sent, send_.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return "cannot send to " + target + ": " + errno_text(errno);
    }
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  if (expect_.empty() && !expect_regex_) return "";
  auto matches = [&](const std::string& data) {
    return expect_regex_ ? std::regex_search(data, *expect_regex_)
                         : data.find(expect_) != std::string::npos;
  };
  std::string reply;
  std::string ended =
      "nothing more arrived within " +
      format_duration(std::chrono::round<std::chrono::milliseconds>(deadline - Clock::now()));
  for (;;) {
    if (reply.size() >= kMaxReply) {
      ended = "stopped reading after " + format_size(kMaxReply);
      break;
    }
    if (!wait_fd(fd, POLLIN, deadline)) break;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, std::min(sizeof buf, kMaxReply - reply.size()), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) {
      ended = "reading failed: " + errno_text(errno);
      break;
    }
    if (n == 0) {
      ended = "the connection was closed";
      break;
    }
    reply.append(buf, static_cast<std::size_t>(n));
    if (matches(reply)) return "";
  }
  std::string wanted = expect_regex_ ? "does not match /" + expect_regex_text_ + "/"
                                     : "does not contain '" + escape_bytes(expect_, 60) + "'";
  return target + ": the reply " + wanted + " (" + ended + "); received " +
         (reply.empty() ? std::string("nothing") : "'" + escape_bytes(reply, kShownReply) + "'");
}

Result PortCheck::run_listening(const RunContext& ctx) {
  std::vector<IpAddress> targets;
  auto numeric = IpAddress::parse(host_);
  if (numeric && !numeric->is_wildcard()) {
    targets.push_back(*numeric);
  } else if (!numeric && !host_.empty()) {
    auto endpoints = resolve_tcp(host_, port_, ctx.deadline);
    if (!endpoints) return unknown(endpoints.error());
    for (const auto& e : *endpoints) targets.push_back(e.ip);
  }
  std::vector<TcpSocketEntry> sockets;
  for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    auto text = read_host_file(host_access_.get(), path, ctx);
    if (!text) {
      std::error_code ec;
      if (std::string_view(path) == "/proc/net/tcp6" &&
          (host_access_ ? text.error().find("No such file") != std::string::npos
                        : !std::filesystem::exists(path, ec))) {
        continue;  // IPv6 switched off in this kernel
      }
      return unknown(text.error());
    }
    auto parsed = parse_proc_net_tcp(*text);
    if (!parsed) return unknown(std::string(path) + ": " + parsed.error());
    sockets.insert(sockets.end(), parsed->begin(), parsed->end());
  }
  nlohmann::json all = nlohmann::json::array(), serving = nlohmann::json::array();
  for (const auto& s : sockets) {
    if (s.state != kTcpListen || s.port != port_) continue;
    all.push_back(host_port(s.local.str(), port_));
    if (listener_serves(s, targets)) serving.push_back(host_port(s.local.str(), port_));
  }
  Result r = make_result();
  r.details["listeners"] = all;
  const bool up = !serving.empty();
  r.metrics.push_back(up_metric(up));
  r.status = r.metrics_status();
  const std::string what =
      targets.empty() ? "port " + std::to_string(port_) : host_port(host_, port_);
  auto join = [](const nlohmann::json& list) {
    std::string out;
    for (const auto& s : list) out += (out.empty() ? "" : ", ") + s.get<std::string>();
    return out;
  };
  if (up) {
    r.summary = "listening on " + what + " (" + join(serving) + ")";
  } else {
    r.summary = "nothing listens on " + what;
    if (!all.empty()) r.summary += " (only on " + join(all) + ")";
  }
  return r;
}

std::string default_id(const CheckOptions& o) {
  const auto port = std::to_string(o.integer("port"));
  if (o.boolean("listening") && !o.has("host")) return "port:" + port;
  return "port:" + host_port(o.has("host") ? o.str("host") : "127.0.0.1", std::stoi(port));
}

}  // namespace

CheckSpec port_check_spec() {
  CheckSpec s;
  s.kind = "port";
  s.description =
      "A TCP port answers. By default the agent connects to `host`:`port` (names resolve to IPv4 "
      "and IPv6; each address is tried in turn) and reports the connect latency; refused or "
      "timed-out connections are critical. With `send` and/or `expect` it also writes a request "
      "and reads the reply until it contains the expected text; a different reply is critical "
      "and shows the first 100 bytes received. With `listening: true` nothing is connected: "
      "the check looks in `/proc/net/tcp` and `/proc/net/tcp6` for a socket in LISTEN state on "
      "the port, on `host` or a wildcard address when `host` is given.";
  s.keys = {
      {"host", KeyType::kString, "",
       "address or name; default 127.0.0.1 when connecting, any address when listening"},
      {"port", KeyType::kInt, "", "TCP port", true},
      {"listening", KeyType::kBool, "false",
       "only check locally that something listens on the port (no connection is made)"},
      {"connect_timeout", KeyType::kDuration, "5s",
       "give up connecting after this long (never later than the check's timeout)"},
      {"read_timeout", KeyType::kDuration, "5s",
       "wait this long for the expected reply (never later than the check's timeout)"},
      {"send", KeyType::kString, "",
       "text to send after connecting; escapes `\\r` `\\n` `\\t` `\\0` `\\\\` `\\xHH`"},
      {"expect", KeyType::kString, "", "the reply must contain this text"},
      {"expect_regex", KeyType::kRegex, "", "the reply must match this ECMAScript regex"},
      {"latency_warn", KeyType::kDuration, "",
       "connect latency above this is a warning, e.g. 200ms"},
      {"latency_crit", KeyType::kDuration, "", "connect latency above this is critical"},
  };
  s.metrics = {
      {"up", "", "1 when the port accepts connections (or something listens), else 0"},
      {"latency_ms", "ms", "time to establish the TCP connection"},
  };
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    return std::make_unique<PortCheck>(std::move(id), o);
  };
  s.remote = true;
  s.default_id = default_id;
  return s;
}

}  // namespace xj
