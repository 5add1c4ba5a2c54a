// Declarations of a check kind: its config keys (name, type, default, description), the
// metrics it produces and its factory. Config loading validates against the declaration,
// and docs/checks.md is generated from it, so the three never drift apart.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <yaml-cpp/yaml.h>

#include "xj/checks/check.hpp"
#include "xj/checks/range.hpp"

namespace xj {

enum class KeyType {
  kString,
  kStringList,  // a list, or a single string taken as a list of one
  kInt,
  kNumber,
  kBool,
  kDuration,    // 30s, 5m, 2h
  kSize,        // 512MB
  kThreshold,   // Nagios range or friendly form, see range.hpp
  kRegex,       // ECMAScript regular expression, compiled at load
  kMap,         // string -> string
};

std::string_view to_string(KeyType t);

struct KeySpec {
  std::string name;
  KeyType type = KeyType::kString;
  std::string default_value;  // in config syntax; empty = no default
  std::string description;
  bool required = false;
  // For kThreshold keys: which way is bad, and what a friendly value means.
  Direction direction = Direction::kHigherIsWorse;
  ValueUnit unit = ValueUnit::kNumber;
};

struct MetricSpec {
  std::string name;
  std::string unit;
  std::string description;
};

// Things a check may need from the agent's config, outside its own keys.
class HostAccess;

struct CheckEnv {
  std::filesystem::path state_dir;
  std::vector<std::string> exec_allow;  // commands (or glob patterns) exec checks may run
  std::string exec_allow_key = "agent.exec_allow";  // where exec_allow was configured
  // The host the check inspects when it is not this machine (an agentless SSH target); null
  // for the agent's own checks. Only kinds with CheckSpec::remote accept one.
  std::shared_ptr<HostAccess> host = nullptr;
};

class CheckOptions;

struct CheckSpec {
  std::string kind;
  std::string description;
  std::vector<KeySpec> keys;        // the kind's own keys; the common keys are added by loading
  std::vector<MetricSpec> metrics;
  // Builds the check with its id; may throw ConfigError (through CheckOptions::fail) for
  // semantic errors.
  std::function<std::unique_ptr<Check>(std::string id, const CheckOptions&)> make;
  // Default id when the config gives none, e.g. "disk:/data"; the kind alone when null.
  std::function<std::string(const CheckOptions&)> default_id;
  // True when the kind can inspect a remote host through CheckEnv::host (agentless targets
  // over SSH): its reads go through HostAccess, its parsing and evaluation stay the same.
  bool remote = false;
};

// Keys every check accepts: kind, id, interval, timeout, labels, enabled.
const std::vector<KeySpec>& common_check_keys();

// A check's config block, validated against its spec: unknown keys, wrong types and missing
// required keys are rejected at construction with file, line and key.
class CheckOptions {
 public:
  CheckOptions(const CheckSpec& spec, const YAML::Node& node, std::string file, std::string where,
               CheckEnv env);

  const std::string& kind() const { return spec_->kind; }
  const CheckEnv& env() const { return env_; }
  const std::string& where() const { return where_; }

  // True when the key was written in the config (not defaulted).
  bool has(const std::string& key) const;
  // Typed values; the default applies when the key is absent. Asking for a key with
  // neither value nor default is a programming error (std::logic_error).
  std::string str(const std::string& key) const;
  std::vector<std::string> list(const std::string& key) const;
  std::int64_t integer(const std::string& key) const;
  double number(const std::string& key) const;
  bool boolean(const std::string& key) const;
  std::chrono::milliseconds duration(const std::string& key) const;
  std::uint64_t size(const std::string& key) const;
  std::optional<Range> threshold(const std::string& key) const;  // nullopt: no threshold
  std::map<std::string, std::string> map(const std::string& key) const;

  // Throws ConfigError naming the key's line (or the block's line when absent).
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

 private:
  const KeySpec& key_spec(const std::string& key) const;
  // The node for a key: the written one, or the default parsed as YAML; null if neither.
  YAML::Node value_node(const std::string& key) const;
  void validate_value(const KeySpec& ks, const YAML::Node& value) const;

  const CheckSpec* spec_;
  YAML::Node node_;
  std::string file_;
  std::string where_;
  CheckEnv env_;
};

}  // namespace xj
