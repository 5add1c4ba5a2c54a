#include "xj/agent/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include "xj/common/config_error.hpp"
#include "xj/common/duration.hpp"
#include "xj/common/yaml_file.hpp"

namespace xj {

std::string local_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

namespace {

// Validates a section's keys against an allowed list, naming file/line/key.
void check_keys(const YAML::Node& node, const std::string& file, const std::string& where,
                const std::vector<std::string>& allowed) {
  if (!node.IsMap()) throw ConfigError(file, yaml_line(node), where, "must be a map of keys");
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw ConfigError(file, yaml_line(it->first), where,
                        "unknown key '" + key + "'; allowed: " + list);
    }
  }
}

std::string scalar(const YAML::Node& section, const char* key, const std::string& file,
                   const std::string& where) {
  return yaml_scalar(section[key], file, where, key);
}

std::chrono::milliseconds duration_key(const YAML::Node& section, const char* key,
                                       const std::string& file, const std::string& where,
                                       std::chrono::milliseconds min) {
  std::string s = scalar(section, key, file, where);
  auto d = parse_duration(s);
  if (!d) {
    throw ConfigError(file, yaml_line(section[key]), where,
                      "key '" + std::string(key) + "': '" + s + "' is not a duration like 30s, 5m, 2h");
  }
  if (*d < min) {
    throw ConfigError(file, yaml_line(section[key]), where,
                      "key '" + std::string(key) + "': must be at least " + format_duration(min));
  }
  return *d;
}

Labels labels_key(const YAML::Node& node, const std::string& file, const std::string& where) {
  if (!node.IsMap()) {
    throw ConfigError(file, yaml_line(node), where, "key 'labels': must be a map of names to values");
  }
  Labels out;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->second.IsScalar()) {
      throw ConfigError(file, yaml_line(it->second), where,
                        "key 'labels': value of '" + it->first.Scalar() + "' must be a single value");
    }
    out[it->first.Scalar()] = it->second.Scalar();
  }
  return out;
}

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

}  // namespace

AgentConfig load_agent_config(const std::string& path) {
  AgentConfig cfg;
  cfg.file = path;
  YAML::Node root = load_yaml_file(path);
  if (!root.IsMap()) throw ConfigError(path, yaml_line(root), "", "the file must be a map with agent, defaults and checks");
  check_keys(root, path, "", {"agent", "defaults", "checks"});
  cfg.id = local_hostname();

  if (auto agent = root["agent"]; agent.IsDefined() && !agent.IsNull()) {
    check_keys(agent, path, "agent",
               {"id", "labels", "state_dir", "log_level", "metrics_listen", "threads", "limits",
                "exec_allow"});
    if (agent["id"]) cfg.id = scalar(agent, "id", path, "agent");
    if (cfg.id.empty()) throw ConfigError(path, yaml_line(agent["id"]), "agent", "key 'id': must not be empty");
    if (agent["labels"]) cfg.labels = labels_key(agent["labels"], path, "agent");
    if (agent["state_dir"]) cfg.state_dir = scalar(agent, "state_dir", path, "agent");
    if (agent["log_level"]) {
      cfg.log_level = scalar(agent, "log_level", path, "agent");
      static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error"};
      if (!levels.count(cfg.log_level)) {
        throw ConfigError(path, yaml_line(agent["log_level"]), "agent",
                          "key 'log_level': '" + cfg.log_level + "' is not one of trace, debug, info, warn, error");
      }
    }
    if (agent["metrics_listen"]) {
      cfg.metrics_listen = scalar(agent, "metrics_listen", path, "agent");
      if (cfg.metrics_listen == "off") cfg.metrics_listen.clear();
      if (!cfg.metrics_listen.empty() && cfg.metrics_listen.rfind(':') == std::string::npos) {
        throw ConfigError(path, yaml_line(agent["metrics_listen"]), "agent",
                          "key 'metrics_listen': '" + cfg.metrics_listen + "' must be host:port or off");
      }
    }
    if (agent["threads"]) {
      auto s = scalar(agent, "threads", path, "agent");
      auto n = parse_number(s);
      if (!n || *n < 1 || *n > 64 || *n != static_cast<int>(*n)) {
        throw ConfigError(path, yaml_line(agent["threads"]), "agent",
                          "key 'threads': '" + s + "' must be an integer from 1 to 64");
      }
      cfg.threads = static_cast<std::size_t>(*n);
    }
    if (auto limits = agent["limits"]; limits.IsDefined() && !limits.IsNull()) {
      check_keys(limits, path, "agent.limits", {"max_rss", "max_cpu"});
      if (limits["max_rss"]) {
        auto s = scalar(limits, "max_rss", path, "agent.limits");
        auto v = parse_size(s);
        if (!v || *v < 1024 * 1024) {
          throw ConfigError(path, yaml_line(limits["max_rss"]), "agent.limits",
                            "key 'max_rss': '" + s + "' must be a size of at least 1MB");
        }
        cfg.limits.max_rss_bytes = *v;
      }
      if (limits["max_cpu"]) {
        auto s = scalar(limits, "max_cpu", path, "agent.limits");
        auto v = parse_percent(s);
        if (!v || *v <= 0 || *v > 100) {
          throw ConfigError(path, yaml_line(limits["max_cpu"]), "agent.limits",
                            "key 'max_cpu': '" + s + "' must be a percentage of one core, like 5%");
        }
        cfg.limits.max_cpu_pct = *v;
      }
    }
    if (auto allow = agent["exec_allow"]; allow.IsDefined() && !allow.IsNull()) {
      if (!allow.IsSequence()) {
        throw ConfigError(path, yaml_line(allow), "agent", "key 'exec_allow': must be a list of commands");
      }
      for (const auto& item : allow) {
        std::string cmd = yaml_scalar(item, path, "agent", "exec_allow");
        if (cmd.empty() || cmd.front() != '/') {
          throw ConfigError(path, yaml_line(item), "agent",
                            "key 'exec_allow': '" + cmd + "' must be an absolute path (glob allowed)");
        }
        cfg.exec_allow.push_back(cmd);
      }
    }
  }

  if (auto defaults = root["defaults"]; defaults.IsDefined() && !defaults.IsNull()) {
    check_keys(defaults, path, "defaults", {"interval", "timeout"});
    if (defaults["interval"]) {
      cfg.default_interval = duration_key(defaults, "interval", path, "defaults", std::chrono::seconds(1));
    }
    if (defaults["timeout"]) {
      cfg.default_timeout = duration_key(defaults, "timeout", path, "defaults", std::chrono::milliseconds(100));
    }
  }

  std::map<std::string, std::string> seen_ids;
  if (auto checks = root["checks"]; checks.IsDefined() && !checks.IsNull()) {
    load_checks(checks, path, cfg, seen_ids);
  }
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
      check_keys(extra, f.string(), "", {"checks"});
      if (extra["checks"]) load_checks(extra["checks"], f.string(), cfg, seen_ids);
    }
  }
  for (auto& sc : cfg.checks) {
    if (sc.timeout > sc.interval) sc.timeout = sc.interval;
  }
  return cfg;
}

}  // namespace xj
