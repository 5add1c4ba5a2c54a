#include <fstream>
#include <set>
#include <sstream>

#include "xj/checks/registry.hpp"
#include "xj/collector/ssh_targets.hpp"
#include "xj/common/config_error.hpp"
#include "xj/common/yaml_file.hpp"

namespace xj {

namespace {

// A secret from a *_file key: the file's first line (a trailing newline is not part of it).
std::string read_secret(const ConfigSection& t, const std::string& key) {
  const std::string path = t.str(key);
  std::ifstream in(path);
  if (!in) t.fail(key, "cannot read '" + path + "'");
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) t.fail(key, "'" + path + "' is empty");
  return line;
}

void require_readable(const ConfigSection& t, const std::string& key, const std::string& path) {
  std::ifstream in(path);
  if (!in) t.fail(key, "cannot read '" + path + "'");
}

SshTarget parse_target(const ConfigSection& t, const std::string& default_known_hosts,
                       std::chrono::milliseconds max_interval) {
  t.allow_only({"id", "host", "port", "user", "key_file", "passphrase_file", "password_file",
                "known_hosts", "strict_host_key", "interval", "connect_timeout",
                "command_timeout", "labels", "exec_allow", "checks"});
  SshOptions o;
  SshTarget target;
  target.line = t.line();
  o.host = t.str("host");
  if (o.host.empty()) t.fail("host", "missing: the address or name of the host to inspect");
  target.id = t.str("id", o.host);
  if (target.id.empty()) t.fail("id", "must not be empty");
  o.name = target.id;
  o.port = static_cast<int>(t.integer("port", 22, 1, 65535));
  o.user = t.str("user");
  if (o.user.empty()) t.fail("user", "missing: the account to log in as");
  if (t.has("password_file")) {
    if (t.has("key_file")) {
      t.fail("password_file", "give key_file or password_file, not both");
    }
    o.password = read_secret(t, "password_file");
  } else {
    o.key_file = t.str("key_file");
    if (o.key_file.empty()) {
      t.fail("key_file", "missing: the private key to log in with (password_file only when a "
                         "key cannot be used)");
    }
    require_readable(t, "key_file", o.key_file);
    if (t.has("passphrase_file")) o.passphrase = read_secret(t, "passphrase_file");
  }
  o.known_hosts = t.str("known_hosts", default_known_hosts);
  o.strict_host_key = t.boolean("strict_host_key", true);
  if (o.strict_host_key) require_readable(t, "known_hosts", o.known_hosts);
  o.connect_timeout = t.duration("connect_timeout", o.connect_timeout, std::chrono::milliseconds(100));
  o.command_timeout = t.duration("command_timeout", std::chrono::seconds(10), std::chrono::milliseconds(100));
  // Default: a minute, or less where liveness would otherwise give up on the target first.
  target.interval = t.duration("interval", std::min(target.interval, max_interval), std::chrono::seconds(1));
  if (target.interval > max_interval) {
    t.fail("interval", "must be at most heartbeat × missed_heartbeats (" +
                           std::to_string(max_interval.count() / 1000) +
                           "s), or the target would be declared down between two rounds");
  }
  target.labels = t.map("labels");
  target.host = std::make_shared<SshHost>(o);

  CheckEnv env;
  env.host = target.host;
  env.exec_allow = t.list("exec_allow");
  env.exec_allow_key = t.where() + ".exec_allow";
  const YAML::Node checks = t.node()["checks"];
  if (!checks.IsDefined() || !checks.IsSequence() || checks.size() == 0) {
    t.fail("checks", "must be a list of at least one check (disk, cpu, memory, load, "
                     "process, port, file_age, log_scan, exec)");
  }
  std::set<std::string> ids{kSshSessionCheck};
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const std::string where = t.where() + ".checks[" + std::to_string(i) + "]";
    CheckDefinition def = load_check(checks[i], t.file(), where, env);
    ConfigSection c(checks[i], t.file(), where);
    if (def.interval) {
      c.fail("interval", "checks of an agentless target run every round: set the target's interval");
    }
    if (!ids.insert(def.check->id()).second) {
      c.fail(c.has("id") ? "id" : "kind", "check id '" + def.check->id() +
                                              "' is used twice in this target (or is the "
                                              "reserved 'ssh'); give one an id");
    }
    if (!def.enabled) continue;
    target.checks.push_back({std::shared_ptr<Check>(std::move(def.check)),
                             def.timeout.value_or(o.command_timeout)});
  }
  return target;
}

}  // namespace

SshConfig parse_ssh_config(const ConfigSection& ssh, std::chrono::milliseconds max_interval) {
  SshConfig cfg;
  if (ssh.empty()) return cfg;
  ssh.allow_only({"workers", "known_hosts", "targets"});
  cfg.workers = static_cast<std::size_t>(ssh.integer("workers", 4, 1, 64));
  const std::string known_hosts = ssh.str("known_hosts", "/etc/xunjian/known_hosts");
  const YAML::Node targets = ssh.node()["targets"];
  if (!targets.IsDefined() || targets.IsNull()) return cfg;
  if (!targets.IsSequence()) ssh.fail("targets", "must be a list of targets");
  std::set<std::string> ids;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const std::string where = ssh.where() + ".targets[" + std::to_string(i) + "]";
    if (!targets[i].IsMap()) {
      throw ConfigError(ssh.file(), yaml_line(targets[i]), where, "a target must be a map of keys");
    }
    ConfigSection t(targets[i], ssh.file(), where);
    SshTarget target = parse_target(t, known_hosts, max_interval);
    if (!ids.insert(target.id).second) {
      t.fail(t.has("id") ? "id" : "host", "target id '" + target.id + "' is used twice");
    }
    cfg.targets.push_back(std::move(target));
  }
  return cfg;
}

}  // namespace xj
