// AgentMetrics: the agent's own /metrics (prometheus-cpp, served by its civetweb Exposer) —
// per check: last status and duration, runs, failures, timeouts, skipped runs, effective
// interval; the spool's depth and drops; the agent's RSS, CPU and self-limit hits. Lets an
// existing Prometheus watch the watcher.
//
// Bound to 127.0.0.1 by default: it tells what runs on the box. Port 0 picks a free port
// (tests); port() tells which. Updates come from the io thread, scrapes from civetweb's
// thread; prometheus-cpp's metrics are thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "xj/checks/result.hpp"
#include "xj/common/expected.hpp"

namespace prometheus {
class Counter;
class Exposer;
class Gauge;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace xj {

class AgentMetrics {
 public:
  // listen: "host:port" (port 0 = any free port) or "" for metrics kept but not served.
  // The error names the address and the cause (port taken, bad address).
  static Expected<std::unique_ptr<AgentMetrics>> start(const std::string& listen);
  ~AgentMetrics();
  AgentMetrics(const AgentMetrics&) = delete;
  AgentMetrics& operator=(const AgentMetrics&) = delete;

  int port() const { return port_; }  // 0 when not served

  void observe(const std::string& check, const std::string& kind, const Result& r, bool timed_out);
  void skipped(const std::string& check, const std::string& kind);
  void set_interval(const std::string& check, const std::string& kind, double seconds);
  // Drops the series of checks no longer configured (after a reload).
  void retain_checks(const std::set<std::string>& checks);

  void set_spool(std::uint64_t depth, std::uint64_t dropped_total);
  void spool_write_failed();
  void spool_committed();  // one transaction of results stored
  void shipped(std::size_t results);
  void ship_failed();
  void quarantined();
  void set_process(std::uint64_t rss_bytes, double cpu_seconds_total);
  void limit_exceeded(const std::string& resource);

 private:
  struct CheckSeries;
  struct Families;
  AgentMetrics();
  CheckSeries& series(const std::string& check, const std::string& kind);

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> f_;
  std::map<std::string, std::unique_ptr<CheckSeries>> checks_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
  std::uint64_t dropped_seen_ = 0;
  double cpu_seen_ = 0;
};

}  // namespace xj
