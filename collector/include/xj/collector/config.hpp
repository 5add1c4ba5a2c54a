// xunjian-collector's configuration (collector.yaml), fully validated at load; every error
// names file, line and key. The `contract` section is read by alerts and reports; the
// collector itself needs its time zone (daily rollups follow the contract's local day).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "xj/alerts/alerts_config.hpp"
#include "xj/collector/chain_view.hpp"
#include "xj/collector/console_config.hpp"
#include "xj/collector/http_server.hpp"
#include "xj/collector/ssh_targets.hpp"
#include "xj/common/logging.hpp"
#include "xj/reports/contract.hpp"

namespace xj {

struct CollectorConfig {
  std::string file;
  HttpServerOptions http;  // listen, tls, insecure_http, max_body, read_timeout
  std::string store_path = "/var/lib/xunjian/collector.db";
  int raw_retention_days = 14;
  std::chrono::milliseconds heartbeat{30'000};  // agents call at least this often
  int missed_heartbeats = 3;                    // silent this many heartbeats -> host:alive critical
  std::string log_level = "info";
  LogFileOptions log_file;                      // collector.log_file; stderr when absent
  std::string timezone = "Asia/Shanghai";       // contract.timezone
  std::string customer;                         // contract.customer
  alerts::AlertsConfig alerts;                  // alerts: (off when absent)
  ChainViewConfig chains;                       // chains: (the defaults when absent)
  SshConfig ssh;                                // ssh: agentless targets (none when absent)
  ConsoleConfig console;                        // console: allow-list, lockout, sessions
  reports::ContractConfig contract;             // contract: as the reports read it
};

// Throws ConfigError.
CollectorConfig load_collector_config(const std::string& path);

}  // namespace xj
