// Agentless targets: hosts without an agent that the collector inspects over SSH, on a
// schedule from collector.yaml's `ssh:` section. Each target is a host id with the same host
// checks an agent runs (disk, cpu, memory, load, process, port listening, file_age, log_scan, exec), reading the
// target through an SshHost. Their results carry the target as their host and go through the
// same Store::ingest, alert pipeline and liveness as agent results.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "xj/checks/check.hpp"
#include "xj/checks/ssh_host.hpp"
#include "xj/collector/store.hpp"
#include "xj/common/config_section.hpp"

namespace xj {

class CollectorMetrics;

struct SshTargetCheck {
  std::shared_ptr<Check> check;
  std::chrono::milliseconds timeout{10'000};
};

struct SshTarget {
  std::string id;  // the host id its results carry
  Labels labels;
  std::chrono::milliseconds interval{60'000};
  std::shared_ptr<SshHost> host;
  std::vector<SshTargetCheck> checks;  // built at load, kept between rounds (cpu keeps its sample)
  int line = 0;
};

struct SshConfig {
  std::size_t workers = 4;  // targets inspected at the same time
  std::vector<SshTarget> targets;
};

// Parses and validates collector.yaml's `ssh:` section (empty section: no targets). A target's
// interval may not exceed max_interval (heartbeat × missed_heartbeats), or liveness would
// declare it down between two rounds. Throws ConfigError naming file, line and key.
SshConfig parse_ssh_config(const ConfigSection& ssh, std::chrono::milliseconds max_interval);

// The id of the result that reports the session itself.
inline constexpr const char* kSshSessionCheck = "ssh";

// Runs the targets' rounds on its own threads (a scheduler and `workers` workers), never on
// the HTTP server's. One round of a target: open one SSH session, run every check of the
// target over it, close it, ingest the results as one batch. A target is never in two rounds
// at once.
class SshPoller {
 public:
  using AfterIngest = std::function<void(const IngestBatch&, const IngestOutcome&)>;
  SshPoller(Store& store, SshConfig config, AfterIngest after, CollectorMetrics* metrics = nullptr);
  ~SshPoller();  // stops
  SshPoller(const SshPoller&) = delete;
  SshPoller& operator=(const SshPoller&) = delete;

  void start();
  void stop();  // waits for rounds in progress (each bounded by its timeouts)

  // One round of target i, on the calling thread; what was ingested.
  Expected<IngestOutcome> run_round(std::size_t i);
  std::size_t size() const { return targets_.size(); }

 private:
  struct TargetState;
  void schedule_loop();
  void worker_loop();

  Store& store_;
  std::size_t workers_;
  AfterIngest after_;
  CollectorMetrics* metrics_;
  std::vector<std::unique_ptr<TargetState>> targets_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::size_t> queue_;  // targets due, waiting for a worker
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace xj
