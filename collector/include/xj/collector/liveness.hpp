// Host liveness: a host whose agent has been silent for `missed` heartbeats gets a
// collector-made result `host:alive` = critical ("no contact since ..."); its next contact
// makes it ok again. These results go through the same ingest path as agent results, so rules
// and reports need no special case.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "xj/collector/store.hpp"

namespace xj {

class Liveness {
 public:
  using Clock = std::function<std::int64_t()>;  // epoch ms
  Liveness(Store& store, std::chrono::milliseconds heartbeat, int missed, Clock clock);

  // After each committed agent batch: a host that was down (or never seen) is alive again.
  void on_contact(const AgentInfo& agent);
  // Periodically: hosts silent for too long go critical. Returns how many went down. For the
  // first `missed` heartbeats after the collector starts nobody is declared down: agents that
  // spooled while the collector was away must get the chance to reconnect first.
  std::size_t sweep();

  static constexpr const char* kCheckId = "host:alive";

  // A host whose results the collector makes itself and that has no agent (the chain view's
  // chains.host): never declared down. Call before the sweeps start.
  void exempt(const std::string& host) {
    std::lock_guard lock(mu_);
    exempt_.insert(host);
  }

  // Called after each host:alive result is committed (the alert pipeline evaluates it).
  void set_on_recorded(std::function<void(const IngestBatch&)> f) { on_recorded_ = std::move(f); }

 private:
  void record(const AgentInfo& agent, Status status, const std::string& summary,
              double silent_s);

  Store& store_;
  std::chrono::milliseconds heartbeat_;
  int missed_;
  Clock clock_;
  std::int64_t started_ms_;  // no host is declared down before the collector has listened this long
  std::mutex mu_;
  std::map<std::string, Status> state_;  // last host:alive status per host
  std::set<std::string> exempt_;
  std::function<void(const IngestBatch&)> on_recorded_;
};

// "2026-11-22 22:03:10 +0800" in the process's time zone (TZ, set from the contract).
std::string format_local_time(std::int64_t epoch_ms);

}  // namespace xj
