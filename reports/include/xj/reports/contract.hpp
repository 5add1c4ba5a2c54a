// The `contract:` section of collector.yaml as the reports read it: who the customer and the
// service company are, which hosts make up each system (by labels), the contract term, the
// availability target, the reference standards of the inspection items and the schedules.
// Validated at load; errors name file, line and key.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xj {
class ConfigSection;
}

namespace xj::reports {

struct SystemSpec {
  std::string name;
  std::map<std::string, std::string> match;  // host labels that must all be equal
};

// Reference standards (参考标准) of the resource items; defaults are the checks' default
// warning thresholds, so a report and an alert agree on what is too much.
struct Standards {
  double cpu_pct = 85;     // average CPU busy
  double memory_pct = 90;  // average memory used (100 - available)
  double disk_pct = 80;    // space used at the end of the period
  int disk_full_days = 30; // a disk forecast to fill within this is a risk
  // Databases (the postgres / mysql / odbc checks' default warning thresholds).
  double db_connections_pct = 80;  // connections (sessions) peak, % of the server's maximum
  double tablespace_pct = 85;      // tablespace used at the end of the period
  double replication_lag_s = 30;   // replication lag peak
  double long_query_s = 600;       // the longest-running statement seen
  double backup_age_h = 26;        // file_age: the newest backup file's age peak
  // Chain nodes.
  double block_interval_s = 120;   // the longest time without a new block (head age peak)
  double chain_lag_blocks = 9;     // blocks behind the group's highest node (the view warns at 10)
  double chain_min_peers = 1;      // fewer peers at any time is abnormal
};

struct Schedule {
  bool enabled = true;
  int weekday = 1;  // weekly: 1 Monday .. 7 Sunday
  int day = 1;      // monthly: day of month
  int hour = 8, minute = 0;
};

// contract.reports.deliver: one rule, "these channels get these kinds of report". The channel
// names are checked against alerts.channels by the collector's config loader (reports/ does
// not know the channels).
struct DeliverRule {
  std::vector<std::string> channels;
  std::vector<std::string> kinds{"weekly", "monthly", "period"};
};

struct ContractConfig {
  std::string customer;
  std::string service_company;
  std::string term_from, term_to;  // YYYY-MM-DD, inclusive; "" when not configured
  double availability_target = 99.9;  // percent
  std::vector<SystemSpec> systems;
  // Check kinds whose critical time counts as the host being down.
  std::vector<std::string> availability_kinds{"alive", "process", "port", "http"};
  Standards standards;
  std::string locale = "zh-CN";  // "zh-CN" or "en"
  std::string report_dir;        // where scheduled reports are written ("" = not scheduled)
  std::string report_url;        // base URL of the archive for links in the Markdown summary
  Schedule weekly, monthly;
  // What the schedules write; pdf is skipped (with an error logged) when Chromium is missing.
  std::vector<std::string> formats{"html", "pdf", "md", "json"};
  // Delivery of generated reports through the alert channels (scheduled ones always, API ones
  // when asked): the rules, and the largest file an e-mail carries as an attachment (a larger
  // one is linked instead).
  std::vector<DeliverRule> deliver;
  std::uint64_t max_attachment = 10 * 1024 * 1024;
};

// Reads the report keys of `contract` (customer, service_company, systems, term, targets,
// availability_kinds, standards, reports). The caller checks for unknown keys, since other
// parts own keys of the same section (timezone, deadlines). Throws ConfigError.
ContractConfig parse_contract_config(const ConfigSection& contract);

// "2026-03-01" -> true when it is a valid calendar date.
bool valid_date(const std::string& text);

}  // namespace xj::reports
