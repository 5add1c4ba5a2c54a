// xunjian-agent's configuration: agent.yaml plus optional conf.d/*.yaml beside it, fully
// validated at load. Every error names file, line and key.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xj/checks/registry.hpp"
#include "xj/common/logging.hpp"

namespace xj {

struct AgentLimits {
  std::uint64_t max_rss_bytes = 64ull * 1024 * 1024;  // the agent's own resident memory
  double max_cpu_pct = 5.0;                            // of one core, averaged over a minute
};

// One configured check, ready to schedule.
struct ScheduledCheck {
  std::shared_ptr<Check> check;
  std::chrono::milliseconds interval{60'000};
  std::chrono::milliseconds timeout{10'000};
  Labels labels;  // agent labels merged with the check's own
  std::string source;  // "agent.yaml:14", for messages
};

// Where and how results are shipped (agent.yaml `collector:`); no url = results stay spooled.
struct CollectorLink {
  std::string url;           // https://collector:8443 (the /api/v1/results path is added)
  std::string token;         // read from token_file at load; never logged
  std::string token_file;
  std::string ca_file;       // CA that signed the collector's certificate (default: system CAs)
  std::string cert_file, key_file;  // client certificate, when the collector asks for one
  bool insecure_http = false;       // allow http:// to a host other than loopback
  std::size_t batch_size = 500;
  std::chrono::milliseconds batch_age{2'000};  // let results gather this long before a post
  std::chrono::milliseconds heartbeat{30'000};
  std::chrono::milliseconds timeout{10'000};
};

struct AgentConfig {
  std::string file;
  std::string id;  // default: hostname
  Labels labels;
  std::filesystem::path state_dir = "/var/lib/xunjian";
  std::string log_level = "info";
  LogFileOptions log_file;                         // agent.log_file; stderr when absent
  std::string metrics_listen = "127.0.0.1:9465";  // "" or "off" disables /metrics
  std::size_t threads = 4;                         // blocking work (DB drivers, exec)
  std::uint64_t spool_max_bytes = 256ull << 20;    // beyond this the oldest results go (gap recorded)
  std::uint64_t spool_max_rows = 1'000'000;
  AgentLimits limits;
  std::vector<std::string> exec_allow;
  std::chrono::milliseconds default_interval{60'000};
  std::chrono::milliseconds default_timeout{10'000};
  CollectorLink collector;
  std::vector<ScheduledCheck> checks;  // enabled checks only
  std::size_t disabled_checks = 0;
};

// Command-line settings that win over the file (kept across SIGHUP reloads).
struct AgentConfigOverrides {
  std::optional<std::filesystem::path> state_dir;
};

// Loads and validates; throws ConfigError.
AgentConfig load_agent_config(const std::string& path, const AgentConfigOverrides& overrides = {});

std::string local_hostname();

}  // namespace xj
