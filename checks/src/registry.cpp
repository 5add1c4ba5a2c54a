#include "xj/checks/registry.hpp"

#include <sstream>

#include "xj/checks/kinds.hpp"
#include "xj/common/config_error.hpp"
#include "xj/common/yaml_file.hpp"

namespace xj {

const std::vector<CheckSpec>& check_registry() {
  // One explicit table, no static registration tricks. Keep it in the order of docs/checks.md.
  static const std::vector<CheckSpec> table = {
      disk_check_spec(),
      cpu_check_spec(),
      memory_check_spec(),
      load_check_spec(),
      process_check_spec(),
      port_check_spec(),
      http_check_spec(),
      file_age_check_spec(),
      log_scan_check_spec(),
      exec_check_spec(),
      postgres_check_spec(),
      mysql_check_spec(),
      odbc_check_spec(),
      ethereum_check_spec(),
      fisco_bcos_check_spec(),
      tls_cert_check_spec(),
      licence_check_spec(),
      fabric_check_spec(),
      chainmaker_check_spec(),
  };
  return table;
}

const CheckSpec* find_check_spec(std::string_view kind) {
  for (const auto& s : check_registry()) {
    if (s.kind == kind) return &s;
  }
  return nullptr;
}

CheckDefinition load_check(const YAML::Node& node, const std::string& file, const std::string& where,
                           const CheckEnv& env) {
  if (!node.IsMap()) throw ConfigError(file, yaml_line(node), where, "a check must be a map of keys");
  auto kind_node = node["kind"];
  if (!kind_node.IsDefined() || kind_node.IsNull()) {
    throw ConfigError(file, yaml_line(node), where, "missing required key 'kind'");
  }
  std::string kind = yaml_scalar(kind_node, file, where, "kind");
  const CheckSpec* spec = find_check_spec(kind);
  if (spec == nullptr) {
    std::string known;
    for (const auto& s : check_registry()) known += (known.empty() ? "" : ", ") + s.kind;
    throw ConfigError(file, yaml_line(kind_node), where,
                      "key 'kind': unknown check kind '" + kind + "'; known: " + known);
  }
  if (env.host && !spec->remote) {
    std::string remote;
    for (const auto& s : check_registry()) {
      if (s.remote) remote += (remote.empty() ? "" : ", ") + s.kind;
    }
    throw ConfigError(file, yaml_line(kind_node), where,
                      "key 'kind': a '" + kind + "' check cannot run on an agentless target; "
                      "kinds that can: " + remote);
  }
  CheckOptions opts(*spec, node, file, where + " (" + kind + ")", env);
  CheckDefinition def;
  def.line = yaml_line(node);
  if (opts.has("interval")) {
    def.interval = opts.duration("interval");
    if (def.interval->count() < 1000) opts.fail("interval", "must be at least 1s");
  }
  if (opts.has("timeout")) {
    def.timeout = opts.duration("timeout");
    if (def.timeout->count() < 100) opts.fail("timeout", "must be at least 100ms");
  }
  def.labels = opts.map("labels");
  // Chain-node kinds declare `chain`: a label by another name, for the collector's chain view.
  if (opts.has("chain")) {
    const std::string chain = opts.str("chain");
    if (chain.empty()) opts.fail("chain", "must not be empty");
    if (auto it = def.labels.find("chain"); it != def.labels.end() && it->second != chain) {
      opts.fail("chain", "'" + chain + "' contradicts labels.chain '" + it->second + "'; give one of them");
    }
    def.labels["chain"] = chain;
  }
  def.enabled = opts.boolean("enabled");
  std::string id = opts.has("id") ? opts.str("id") : (spec->default_id ? spec->default_id(opts) : kind);
  if (id.empty()) opts.fail("id", "must not be empty");
  def.check = spec->make(std::move(id), opts);
  return def;
}

std::string checks_markdown() {
  std::ostringstream md;
  md << "# Check kinds\n\n"
     << "Generated from the check declarations in `checks/` by `xunjian-agent kinds --markdown`;\n"
     << "a test fails when this file and the code disagree.\n\n"
     << "Thresholds accept Nagios ranges (`10`, `10:`, `~:10`, `10:20`, `@10:20`) or the friendly\n"
     << "forms `80%`, `26h`, `1GB`, read in the key's direction (\"above\": alert when the value\n"
     << "is higher, \"below\": alert when lower). `none` switches a default threshold off.\n\n"
     << "## Keys every check accepts\n\n| key | type | default | description |\n|---|---|---|---|\n";
  for (const auto& k : common_check_keys()) {
    md << "| `" << k.name << "` | " << to_string(k.type) << " | "
       << (k.default_value.empty() ? (k.required ? "required" : "—") : "`" + k.default_value + "`")
       << " | " << k.description << " |\n";
  }
  for (const auto& s : check_registry()) {
    md << "\n## `" << s.kind << "`\n\n" << s.description << "\n\n";
    if (!s.keys.empty()) {
      md << "| key | type | default | description |\n|---|---|---|---|\n";
      for (const auto& k : s.keys) {
        std::string type(to_string(k.type));
        if (k.type == KeyType::kThreshold) {
          type += k.direction == Direction::kHigherIsWorse ? " (above)" : " (below)";
        }
        md << "| `" << k.name << "` | " << type << " | "
           << (k.default_value.empty() ? (k.required ? "required" : "—") : "`" + k.default_value + "`")
           << " | " << k.description << " |\n";
      }
    }
    if (!s.metrics.empty()) {
      md << "\nMetrics:\n\n| metric | unit | description |\n|---|---|---|\n";
      for (const auto& m : s.metrics) {
        md << "| `" << m.name << "` | " << (m.unit.empty() ? "—" : m.unit) << " | " << m.description
           << " |\n";
      }
    }
  }
  return md.str();
}

}  // namespace xj
