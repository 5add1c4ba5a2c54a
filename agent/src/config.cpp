#include "xj/agent/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include "xj/common/config_error.hpp"
#include "xj/common/config_section.hpp"
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
  agent.allow_only({"id", "labels", "state_dir", "log_level", "metrics_listen", "threads",
                    "limits", "exec_allow"});
  cfg.id = agent.str("id", cfg.id);
  if (cfg.id.empty()) agent.fail("id", "must not be empty");
  cfg.labels = agent.map("labels");
  cfg.state_dir = agent.str("state_dir", cfg.state_dir.string());
  cfg.log_level = agent.str("log_level", cfg.log_level);
  static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error"};
  if (!levels.count(cfg.log_level)) {
    agent.fail("log_level", "'" + cfg.log_level + "' is not one of trace, debug, info, warn, error");
  }
  cfg.metrics_listen = agent.str("metrics_listen", cfg.metrics_listen);
  if (cfg.metrics_listen == "off") cfg.metrics_listen.clear();
  if (!cfg.metrics_listen.empty() && cfg.metrics_listen.rfind(':') == std::string::npos) {
    agent.fail("metrics_listen", "'" + cfg.metrics_listen + "' must be host:port or off");
  }
  cfg.threads = static_cast<std::size_t>(agent.integer("threads", static_cast<std::int64_t>(cfg.threads), 1, 64));

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
  root.allow_only({"agent", "defaults", "checks"});
  load_agent_section(root.section("agent"), cfg);
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
