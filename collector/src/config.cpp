#include "xj/collector/config.hpp"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <set>

#include "xj/common/config_error.hpp"
#include "xj/common/config_section.hpp"
#include "xj/common/logging.hpp"
#include "xj/common/yaml_file.hpp"
#include "xj/reports/contract.hpp"

namespace xj {
namespace {

bool valid_timezone(const std::string& tz) {
  // The system tz database (tzdata) is what localtime_r uses; a name without a file there
  // would silently fall back to UTC, which would shift every daily rollup.
  if (tz == "UTC") return true;
  if (tz.empty() || tz.find("..") != std::string::npos || tz.front() == '/') return false;
  std::error_code ec;
  return std::filesystem::is_regular_file("/usr/share/zoneinfo/" + tz, ec);
}

// contract.reports.deliver names channels of alerts.channels: checked here, where both are
// known. A robot or SMS cannot carry the report itself, so it needs a link to it.
void check_report_delivery(const ConfigSection& contract, const CollectorConfig& cfg) {
  if (cfg.contract.deliver.empty()) return;
  const ConfigSection r = contract.section("reports");
  const YAML::Node list = r.node()["deliver"];
  for (std::size_t i = 0; i < cfg.contract.deliver.size(); ++i) {
    ConfigSection d(list[i], r.file(), r.where() + ".deliver[" + std::to_string(i) + "]");
    if (!cfg.alerts.enabled) {
      d.fail("channels", "reports are delivered through alerts.channels, but collector.yaml has no "
                         "(enabled) alerts: section");
    }
    for (const auto& name : cfg.contract.deliver[i].channels) {
      auto c = std::find_if(cfg.alerts.channels.begin(), cfg.alerts.channels.end(),
                            [&](const alerts::ChannelConfig& x) { return x.name == name; });
      if (c == cfg.alerts.channels.end()) d.fail("channels", "no channel named '" + name + "' in alerts.channels");
      // No route names people for a report: the channel's own list is who gets it.
      if (alerts::personal_channel_type(c->type) && c->to.empty()) {
        d.fail("channels", "channel '" + name + "' sends to people: give it a to: list (the report's recipients)");
      }
      if (c->type != "email" && cfg.alerts.message.console_url.empty() && cfg.contract.report_url.empty()) {
        d.fail("channels", "channel '" + name + "' gets a summary with a link to the full report: set "
                           "alerts.console_url (or contract.reports.url)");
      }
    }
  }
}

}  // namespace

CollectorConfig load_collector_config(const std::string& path) {
  CollectorConfig cfg;
  cfg.file = path;
  YAML::Node root_node = load_yaml_file(path);
  if (!root_node.IsMap()) {
    throw ConfigError(path, yaml_line(root_node), "", "the file must be a map with collector and contract");
  }
  ConfigSection root(root_node, path, "");
  root.allow_only({"collector", "contract", "alerts", "chains", "ssh", "console"});

  ConfigSection c = root.section("collector");
  c.allow_only({"listen", "tls", "insecure_http", "store", "raw_retention_days", "max_body",
                "read_timeout", "heartbeat", "missed_heartbeats", "log_level", "log_file", "threads"});
  cfg.http.listen = c.str("listen", cfg.http.listen);
  if (cfg.http.listen.rfind(':') == std::string::npos) {
    c.fail("listen", "'" + cfg.http.listen + "' must be host:port");
  }
  ConfigSection tls = c.section("tls");
  tls.allow_only({"cert_file", "key_file"});
  cfg.http.tls_cert_file = tls.str("cert_file");
  cfg.http.tls_key_file = tls.str("key_file");
  if (cfg.http.tls_cert_file.empty() != cfg.http.tls_key_file.empty()) {
    tls.fail(cfg.http.tls_cert_file.empty() ? "cert_file" : "key_file",
             "tls needs both cert_file and key_file");
  }
  cfg.http.insecure_http = c.boolean("insecure_http", false);
  cfg.http.max_body_bytes = c.size("max_body", cfg.http.max_body_bytes, 64 * 1024);
  cfg.http.read_timeout = c.duration("read_timeout", cfg.http.read_timeout, std::chrono::milliseconds(100));
  cfg.http.threads = static_cast<std::size_t>(c.integer("threads", static_cast<std::int64_t>(cfg.http.threads), 1, 64));
  cfg.store_path = c.str("store", cfg.store_path);
  if (cfg.store_path.empty()) c.fail("store", "must name the SQLite file");
  cfg.raw_retention_days = static_cast<int>(c.integer("raw_retention_days", cfg.raw_retention_days, 1, 3650));
  cfg.heartbeat = c.duration("heartbeat", cfg.heartbeat, std::chrono::seconds(1));
  cfg.missed_heartbeats = static_cast<int>(c.integer("missed_heartbeats", cfg.missed_heartbeats, 1, 100));
  cfg.log_level = c.str("log_level", cfg.log_level);
  static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error"};
  if (!levels.count(cfg.log_level)) {
    c.fail("log_level", "'" + cfg.log_level + "' is not one of trace, debug, info, warn, error");
  }
  cfg.log_file = parse_log_file(c, "log_file");

  // The contract keys the collector and the reports use; alerts and incidents add theirs.
  ConfigSection contract = root.section("contract");
  contract.allow_only({"customer", "timezone", "deadlines", "service_company", "term", "targets", "systems",
                       "availability_kinds", "standards", "reports"});
  cfg.customer = contract.str("customer");
  cfg.contract = reports::parse_contract_config(contract);
  cfg.timezone = contract.str("timezone", cfg.timezone);
  if (!valid_timezone(cfg.timezone)) {
    contract.fail("timezone", "'" + cfg.timezone +
                                  "' is not a time zone of the system tz database (like Asia/Shanghai)");
  }
  cfg.alerts = alerts::parse_alerts_config(root.section("alerts"));
  check_report_delivery(contract, cfg);

  // The cross-node chain view (chain_view.hpp); lag defaults as FISCO's own tools judge.
  ConfigSection chains = root.section("chains");
  chains.allow_only({"host", "lag_warn", "lag_crit", "stale_intervals", "interval"});
  cfg.chains.host = chains.str("host", cfg.chains.host);
  if (cfg.chains.host.empty()) chains.fail("host", "must name the host id of the chain:<name> results");
  cfg.chains.lag_warn = chains.integer("lag_warn", cfg.chains.lag_warn, 1, 1'000'000'000);
  cfg.chains.lag_crit = chains.integer("lag_crit", cfg.chains.lag_crit, 1, 1'000'000'000);
  if (cfg.chains.lag_crit < cfg.chains.lag_warn) {
    chains.fail(chains.has("lag_crit") ? "lag_crit" : "lag_warn",
                "lag_crit (" + std::to_string(cfg.chains.lag_crit) + ") must not be below lag_warn (" +
                    std::to_string(cfg.chains.lag_warn) + ")");
  }
  cfg.chains.stale_intervals = static_cast<int>(chains.integer("stale_intervals", cfg.chains.stale_intervals, 1, 100));
  cfg.chains.interval = chains.duration("interval", cfg.chains.interval, std::chrono::seconds(1));
  cfg.alerts.incidents.deadlines = alerts::parse_contract_deadlines(contract.section("deadlines"));
  cfg.ssh = parse_ssh_config(root.section("ssh"), cfg.heartbeat * cfg.missed_heartbeats);
  cfg.console = parse_console_config(root.section("console"));
  return cfg;
}

}  // namespace xj
