#include "xj/alerts/alerts_config.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "xj/common/config_error.hpp"
#include "xj/common/config_section.hpp"
#include "xj/common/yaml_file.hpp"
#include "detail/routing_config.hpp"

namespace xj::alerts {
namespace {

// A secret from `<name>_file` (first line, trailing whitespace dropped) or `<name>_env`; an
// inline value is refused so that config files can be shown and kept in version control.
std::string read_secret(const ConfigSection& s, const std::string& name) {
  if (s.has(name)) s.fail(name, "secrets are not written inline; use " + name + "_file or " + name + "_env");
  const std::string file = s.str(name + "_file");
  const std::string env = s.str(name + "_env");
  if (!file.empty() && !env.empty()) s.fail(name + "_file", "give " + name + "_file or " + name + "_env, not both");
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) s.fail(name + "_file", "cannot read '" + file + "'");
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (line.empty()) s.fail(name + "_file", "'" + file + "' is empty");
    return line;
  }
  if (!env.empty()) {
    const char* v = std::getenv(env.c_str());
    if (v == nullptr || *v == '\0') s.fail(name + "_env", "environment variable '" + env + "' is not set");
    return v;
  }
  return "";
}

ChannelConfig parse_channel(const ConfigSection& s) {
  s.allow_only({"name", "type", "url", "key_file", "key_env", "key", "secret_file", "secret_env",
                "secret", "rate_per_minute", "timeout"});
  ChannelConfig c;
  c.name = s.str("name");
  if (c.name.empty()) s.fail("name", "every channel needs a name (routes refer to it)");
  c.type = s.str("type");
  if (!known_channel_type(c.type)) {
    s.fail("type", "'" + c.type + "' is not one of wecom, dingtalk, feishu, webhook");
  }
  c.url = s.str("url");
  if (c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0 && !c.url.empty()) {
    s.fail("url", "'" + c.url + "' is not an http:// or https:// URL");
  }
  c.key = read_secret(s, "key");
  c.secret = read_secret(s, "secret");
  if (c.type == "webhook" && c.url.empty()) s.fail("url", "a webhook channel needs its url");
  if (c.type != "webhook" && c.url.empty() && c.key.empty()) {
    s.fail("key_file", "a " + c.type + " robot needs its key (key_file or key_env) or a url");
  }
  const int def_rate = c.type == "feishu" ? 100 : c.type == "webhook" ? 0 : 20;
  c.rate_per_minute = static_cast<int>(s.integer("rate_per_minute", def_rate, 0, 10'000));
  c.timeout = s.duration("timeout", c.timeout, std::chrono::milliseconds(100));
  return c;
}

IncidentLevel level_key(const ConfigSection& s, const std::string& key, const std::string& text) {
  auto l = parse_incident_level(text);
  if (!l) s.fail(key, "'" + text + "' is not one of P1, P2, P3, P4");
  return *l;
}

}  // namespace

std::set<Status> severities(const ConfigSection& s, const std::string& key) {
  std::set<Status> out;
  for (const auto& sev : s.list(key)) {
    auto st = parse_status(sev);
    if (!st || *st == Status::kOk) s.fail(key, "'" + sev + "' is not one of critical, warning, unknown");
    out.insert(*st);
  }
  return out;
}

void check_channels(const ConfigSection& s, const std::vector<std::string>& names,
                    const std::vector<ChannelConfig>& channels) {
  for (const auto& ch : names) {
    bool found = false;
    for (const auto& c : channels) found = found || c.name == ch;
    if (!found) s.fail("channels", "no channel named '" + ch + "'");
  }
}

namespace {

IncidentOptions parse_incidents(const ConfigSection& s, const std::vector<ChannelConfig>& channels) {
  IncidentOptions o;
  if (s.empty()) return o;
  s.allow_only({"enabled", "open_levels", "levels", "auto_resolve", "warn_at", "channels"});
  o.enabled = s.boolean("enabled", true);
  if (s.has("open_levels")) {
    o.open_levels.clear();
    for (const auto& l : s.list("open_levels")) o.open_levels.insert(level_key(s, "open_levels", l));
  }
  o.auto_resolve = s.boolean("auto_resolve", o.auto_resolve);
  o.warn_at = s.percent("warn_at", o.warn_at * 100) / 100.0;
  o.channels = s.list("channels");
  check_channels(s, o.channels, channels);
  if (s.has("levels")) {
    const YAML::Node list = s.node()["levels"];
    if (!list.IsSequence()) s.fail("levels", "must be a list of {severity, labels, check, level}");
    for (std::size_t i = 0; i < list.size(); ++i) {
      ConfigSection r(list[i], s.file(), s.where() + ".levels[" + std::to_string(i) + "]");
      r.allow_only({"severity", "labels", "check", "level"});
      LevelRule rule;
      rule.severities = severities(r, "severity");
      rule.labels = r.map("labels");
      rule.check = r.str("check");
      if (!r.has("level")) r.fail("level", "each rule needs its level (P1-P4)");
      rule.level = level_key(r, "level", r.str("level"));
      o.levels.push_back(std::move(rule));
    }
  }
  return o;
}

}  // namespace

ContractDeadlines parse_contract_deadlines(const ConfigSection& d) {
  ContractDeadlines out = default_deadlines();
  if (d.empty()) return out;
  d.allow_only({"P1", "P2", "P3", "P4"});
  for (int n = 1; n <= 4; ++n) {
    const std::string key = "P" + std::to_string(n);
    ConfigSection l = d.section(key);
    l.allow_only({"respond", "repair"});
    auto& x = out[static_cast<std::size_t>(n - 1)];
    x.respond = l.duration("respond", x.respond, std::chrono::minutes(1));
    x.repair = l.duration("repair", x.repair, std::chrono::minutes(1));
    if (x.repair < x.respond) l.fail("repair", "the repair deadline is shorter than the response deadline");
  }
  return out;
}

AlertsConfig parse_alerts_config(const ConfigSection& a) {
  AlertsConfig cfg;
  if (a.empty()) return cfg;
  a.allow_only({"enabled", "console_url", "locale", "for_warning", "for_critical", "for_unknown",
                "for_host_down", "recover_for", "no_data_intervals", "flapping", "retry", "channels",
                "routes", "incidents", "holidays", "repeat_interval", "people", "duty",
                "default_route"});
  cfg.enabled = a.boolean("enabled", true);
  cfg.message.console_url = a.str("console_url");
  cfg.message.locale = a.str("locale", "zh-CN");
  const std::chrono::milliseconds zero{0};
  RuleOptions& r = cfg.rules;
  r.for_warning = a.duration("for_warning", r.for_warning, zero);
  r.for_critical = a.duration("for_critical", r.for_critical, zero);
  r.for_unknown = a.duration("for_unknown", r.for_unknown, zero);
  r.for_host_down = a.duration("for_host_down", r.for_host_down, zero);
  r.recover_for = a.duration("recover_for", r.recover_for, zero);
  cfg.repeat_interval = a.duration("repeat_interval", cfg.repeat_interval, zero);
  if (cfg.repeat_interval.count() > 0 && cfg.repeat_interval < std::chrono::minutes(1)) {
    a.fail("repeat_interval", "repeating more often than every minute would flood the robots; use 0 for never");
  }
  r.no_data_intervals = static_cast<int>(a.integer("no_data_intervals", r.no_data_intervals, 1, 1000));
  cfg.message.no_data_intervals = r.no_data_intervals;
  ConfigSection flap = a.section("flapping");
  flap.allow_only({"changes", "window"});
  r.flap_changes = static_cast<int>(flap.integer("changes", r.flap_changes, 0, 1000));
  r.flap_window = flap.duration("window", r.flap_window, std::chrono::seconds(1));
  ConfigSection retry = a.section("retry");
  retry.allow_only({"initial", "max", "max_attempts"});
  cfg.sender.backoff_initial = retry.duration("initial", cfg.sender.backoff_initial, std::chrono::milliseconds(10));
  cfg.sender.backoff_max = retry.duration("max", cfg.sender.backoff_max, cfg.sender.backoff_initial);
  cfg.sender.max_attempts = static_cast<int>(retry.integer("max_attempts", cfg.sender.max_attempts, 1, 100'000));

  if (a.has("channels")) {
    const YAML::Node list = a.node()["channels"];
    if (!list.IsSequence()) a.fail("channels", "must be a list of channels");
    std::set<std::string> names;
    for (std::size_t i = 0; i < list.size(); ++i) {
      ConfigSection s(list[i], a.file(), a.where() + ".channels[" + std::to_string(i) + "]");
      ChannelConfig c = parse_channel(s);
      if (!names.insert(c.name).second) s.fail("name", "channel '" + c.name + "' is defined twice");
      cfg.channels.push_back(std::move(c));
    }
  }
  cfg.incidents = parse_incidents(a.section("incidents"), cfg.channels);
  for (const auto& d : a.list("holidays")) {
    if (!civil_days(d)) a.fail("holidays", "'" + d + "' is not a date like 2026-10-01");
    cfg.holidays.insert(d);
  }
  detail::parse_routing(a, cfg);
  return cfg;
}

}  // namespace xj::alerts
