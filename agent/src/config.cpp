#include "xj/agent/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "xj/common/config_error.hpp"
#include "xj/common/config_section.hpp"
#include "xj/common/http_client.hpp"
#include "xj/common/yaml_file.hpp"

namespace xj {

std::string local_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

namespace {

void load_checks(const YAML::Node& checks, const std::string& file, AgentConfig& cfg,
                 std::map<std::string, std::string>& seen_ids) {
  if (!checks.IsSequence()) {
    throw ConfigError(file, yaml_line(checks), "checks", "must be a list of checks");
  }
  CheckEnv env{cfg.state_dir, cfg.exec_allow};
  for (std::size_t i = 0; i < checks.size(); ++i) {
    std::string where = "checks[" + std::to_string(i) + "]";
    CheckDefinition def = load_check(checks[i], file, where, env);
    std::string source = file + ":" + std::to_string(def.line);
    const std::string& id = def.check->id();
    if (auto prev = seen_ids.find(id); prev != seen_ids.end()) {
      throw ConfigError(file, def.line, where + " (" + def.check->kind() + ")",
                        "key 'id': duplicate check id '" + id + "' (first defined at " +
                            prev->second + "); give one of them an explicit id");
    }
    seen_ids[id] = source;
    if (!def.enabled) {
      ++cfg.disabled_checks;
      continue;
    }
    ScheduledCheck sc;
    sc.check = std::move(def.check);
    sc.interval = def.interval.value_or(cfg.default_interval);
    sc.timeout = def.timeout.value_or(cfg.default_timeout);
    sc.labels = cfg.labels;
    for (auto& [k, v] : def.labels) sc.labels[k] = v;
    sc.source = source;
    cfg.checks.push_back(std::move(sc));
  }
}

void load_agent_section(const ConfigSection& agent, AgentConfig& cfg) {
  agent.allow_only({"id", "labels", "state_dir", "log_level", "log_file", "metrics_listen", "threads",
                    "limits", "exec_allow", "spool_max", "spool_max_rows"});
  cfg.id = agent.str("id", cfg.id);
  if (cfg.id.empty()) agent.fail("id", "must not be empty");
  cfg.labels = agent.map("labels");
  cfg.state_dir = agent.str("state_dir", cfg.state_dir.string());
  cfg.log_level = agent.str("log_level", cfg.log_level);
  static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error"};
  if (!levels.count(cfg.log_level)) {
    agent.fail("log_level", "'" + cfg.log_level + "' is not one of trace, debug, info, warn, error");
  }
  cfg.log_file = parse_log_file(agent, "log_file");
  cfg.metrics_listen = agent.str("metrics_listen", cfg.metrics_listen);
  if (cfg.metrics_listen == "off") cfg.metrics_listen.clear();
  if (!cfg.metrics_listen.empty() && cfg.metrics_listen.rfind(':') == std::string::npos) {
    agent.fail("metrics_listen", "'" + cfg.metrics_listen + "' must be host:port or off");
  }
  cfg.threads = static_cast<std::size_t>(agent.integer("threads", static_cast<std::int64_t>(cfg.threads), 1, 64));

  cfg.spool_max_bytes = agent.size("spool_max", cfg.spool_max_bytes, 64 * 1024);
  cfg.spool_max_rows = static_cast<std::uint64_t>(
      agent.integer("spool_max_rows", static_cast<std::int64_t>(cfg.spool_max_rows), 10, 100'000'000));
  ConfigSection limits = agent.section("limits");
  limits.allow_only({"max_rss", "max_cpu"});
  cfg.limits.max_rss_bytes = limits.size("max_rss", cfg.limits.max_rss_bytes, 1024 * 1024);
  cfg.limits.max_cpu_pct = limits.percent("max_cpu", cfg.limits.max_cpu_pct);

  for (const auto& cmd : agent.list("exec_allow")) {
    if (cmd.empty() || cmd.front() != '/') {
      agent.fail("exec_allow", "'" + cmd + "' must be an absolute path (glob allowed)");
    }
    cfg.exec_allow.push_back(cmd);
  }
}

bool loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

void load_collector_section(const ConfigSection& c, CollectorLink& link) {
  c.allow_only({"url", "token_file", "ca_file", "cert_file", "key_file", "insecure_http",
                "batch_size", "batch_age", "heartbeat", "timeout"});
  if (c.empty()) return;
  link.url = c.str("url");
  if (link.url.empty()) c.fail("url", "is required in the collector section");
  auto url = parse_url(link.url);
  if (!url) c.fail("url", url.error());
  link.insecure_http = c.boolean("insecure_http", false);
  if (!url->https() && !loopback_host(url->host) && !link.insecure_http) {
    c.fail("url", "'" + link.url + "' is plain http to another host: results would cross the "
           "network unencrypted; use https:// or set insecure_http: true");
  }
  link.token_file = c.str("token_file");
  if (link.token_file.empty()) c.fail("token_file", "is required: the file holding this agent's token");
  std::ifstream in(link.token_file);
  if (!in) c.fail("token_file", "cannot read '" + link.token_file + "': " + std::strerror(errno));
  std::getline(in, link.token);
  while (!link.token.empty() && std::isspace(static_cast<unsigned char>(link.token.back()))) link.token.pop_back();
  if (link.token.empty()) c.fail("token_file", "'" + link.token_file + "' is empty");
  for (const char* key : {"ca_file", "cert_file", "key_file"}) {
    std::string f = c.str(key);
    if (!f.empty() && !std::filesystem::exists(f)) c.fail(key, "'" + f + "' does not exist");
  }
  link.ca_file = c.str("ca_file");
  link.cert_file = c.str("cert_file");
  link.key_file = c.str("key_file");
  link.batch_size = static_cast<std::size_t>(c.integer("batch_size", static_cast<std::int64_t>(link.batch_size), 1, 10'000));
  link.batch_age = c.duration("batch_age", link.batch_age, std::chrono::milliseconds(0));
  link.heartbeat = c.duration("heartbeat", link.heartbeat, std::chrono::seconds(1));
  link.timeout = c.duration("timeout", link.timeout, std::chrono::milliseconds(100));
}

}  // namespace

AgentConfig load_agent_config(const std::string& path, const AgentConfigOverrides& overrides) {
  AgentConfig cfg;
  cfg.file = path;
  cfg.id = local_hostname();
  YAML::Node root_node = load_yaml_file(path);
  if (!root_node.IsMap() && !root_node.IsNull()) {
    throw ConfigError(path, yaml_line(root_node), "",
                      "the file must be a map with agent, defaults and checks");
  }
  ConfigSection root(root_node, path, "");
  root.allow_only({"agent", "collector", "defaults", "checks"});
  load_agent_section(root.section("agent"), cfg);
  load_collector_section(root.section("collector"), cfg.collector);
  if (overrides.state_dir) cfg.state_dir = *overrides.state_dir;

  ConfigSection defaults = root.section("defaults");
  defaults.allow_only({"interval", "timeout"});
  cfg.default_interval = defaults.duration("interval", cfg.default_interval, std::chrono::seconds(1));
  cfg.default_timeout = defaults.duration("timeout", cfg.default_timeout, std::chrono::milliseconds(100));

  std::map<std::string, std::string> seen_ids;
  if (root.has("checks")) load_checks(root_node["checks"], path, cfg, seen_ids);

  // conf.d/*.yaml beside the main file: each may hold a `checks:` list.
  std::filesystem::path dir = std::filesystem::path(path).parent_path() / "conf.d";
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".yaml" || e.path().extension() == ".yml") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      YAML::Node extra = load_yaml_file(f.string());
      if (extra.IsNull()) continue;
      ConfigSection section(extra, f.string(), "");
      section.allow_only({"checks"});
      if (section.has("checks")) load_checks(extra["checks"], f.string(), cfg, seen_ids);
    }
  }
  for (auto& sc : cfg.checks) {
    if (sc.timeout > sc.interval) sc.timeout = sc.interval;
  }
  return cfg;
}

}  // namespace xj
