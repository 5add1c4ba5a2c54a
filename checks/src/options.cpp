#include <algorithm>
#include <regex>
#include <stdexcept>

#include "xj/checks/spec.hpp"
#include "xj/common/config_error.hpp"
#include "xj/common/duration.hpp"
#include "xj/common/yaml_file.hpp"

namespace xj {

std::string_view to_string(KeyType t) {
  switch (t) {
    case KeyType::kString:
      return "string";
    case KeyType::kStringList:
      return "list of strings";
    case KeyType::kInt:
      return "integer";
    case KeyType::kNumber:
      return "number";
    case KeyType::kBool:
      return "boolean";
    case KeyType::kDuration:
      return "duration";
    case KeyType::kSize:
      return "size";
    case KeyType::kThreshold:
      return "threshold";
    case KeyType::kRegex:
      return "regex";
    case KeyType::kMap:
      return "map";
  }
  return "value";
}

const std::vector<KeySpec>& common_check_keys() {
  static const std::vector<KeySpec> keys = {
      {"kind", KeyType::kString, "", "check kind (this table)", true},
      {"id", KeyType::kString, "", "stable id within the host; default: kind plus its main target"},
      {"interval", KeyType::kDuration, "", "run every this long; default: defaults.interval (60s)"},
      {"timeout", KeyType::kDuration, "",
       "a run taking longer is unknown, counted from when the run gets a check thread "
       "(`agent.threads`); a run that gets none within it is unknown \"not started within …\"; "
       "default: defaults.timeout (10s)"},
      {"labels", KeyType::kMap, "", "extra labels added to the check's results"},
      {"enabled", KeyType::kBool, "true", "false keeps the check in the file but never runs it"},
  };
  return keys;
}

CheckOptions::CheckOptions(const CheckSpec& spec, const YAML::Node& node, std::string file,
                           std::string where, CheckEnv env)
    : spec_(&spec),
      node_(node),
      file_(std::move(file)),
      where_(std::move(where)),
      env_(std::move(env)) {
  if (!node_.IsMap()) {
    throw ConfigError(file_, yaml_line(node_), where_, "a check must be a map of keys");
  }
  auto allowed = [&] {
    std::string out;
    for (const auto& k : spec_->keys) out += (out.empty() ? "" : ", ") + k.name;
    for (const auto& k : common_check_keys()) {
      if (k.name == "kind") continue;
      out += (out.empty() ? "" : ", ") + k.name;
    }
    return out;
  };
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const std::string key = it->first.Scalar();
    const KeySpec* ks = nullptr;
    for (const auto& k : spec_->keys)
      if (k.name == key) ks = &k;
    for (const auto& k : common_check_keys())
      if (k.name == key) ks = &k;
    if (ks == nullptr) {
      throw ConfigError(file_, yaml_line(it->first), where_,
                        "unknown key '" + key + "'; allowed: " + allowed());
    }
    validate_value(*ks, it->second);
  }
  for (const auto& k : spec_->keys) {
    if (k.required && !has(k.name)) {
      throw ConfigError(file_, yaml_line(node_), where_, "missing required key '" + k.name + "'");
    }
  }
}

bool CheckOptions::has(const std::string& key) const {
  auto v = node_[key];
  return v.IsDefined() && !v.IsNull();
}

const KeySpec& CheckOptions::key_spec(const std::string& key) const {
  for (const auto& k : spec_->keys)
    if (k.name == key) return k;
  for (const auto& k : common_check_keys())
    if (k.name == key) return k;
  throw std::logic_error("check kind '" + spec_->kind + "' has no key '" + key + "'");
}

YAML::Node CheckOptions::value_node(const std::string& key) const {
  const KeySpec& ks = key_spec(key);
  if (has(key)) return node_[key];
  if (!ks.default_value.empty()) return YAML::Load(ks.default_value);
  return YAML::Node();
}

void CheckOptions::fail(const std::string& key, const std::string& message) const {
  auto v = node_[key];
  int line = (v.IsDefined() && !v.IsNull()) ? yaml_line(v) : yaml_line(node_);
  throw ConfigError(file_, line, where_, "key '" + key + "': " + message);
}

namespace {

std::string scalar_or_fail(const CheckOptions& o, const std::string& key, const YAML::Node& n,
                           KeyType t) {
  if (!n.IsScalar()) o.fail(key, "must be a " + std::string(to_string(t)));
  return n.Scalar();
}

}  // namespace

void CheckOptions::validate_value(const KeySpec& ks, const YAML::Node& value) const {
  if (value.IsNull()) {
    if (ks.required) fail(ks.name, "must have a value");
    return;
  }
  switch (ks.type) {
    case KeyType::kString:
      (void)str(ks.name);
      break;
    case KeyType::kStringList:
      (void)list(ks.name);
      break;
    case KeyType::kInt:
      (void)integer(ks.name);
      break;
    case KeyType::kNumber:
      (void)number(ks.name);
      break;
    case KeyType::kBool:
      (void)boolean(ks.name);
      break;
    case KeyType::kDuration:
      (void)duration(ks.name);
      break;
    case KeyType::kSize:
      (void)size(ks.name);
      break;
    case KeyType::kThreshold:
      (void)threshold(ks.name);
      break;
    case KeyType::kMap:
      (void)map(ks.name);
      break;
    case KeyType::kRegex: {
      std::string re = str(ks.name);
      try {
        std::regex compiled(re);
      } catch (const std::regex_error& e) {
        fail(ks.name, "invalid regular expression '" + re + "': " + e.what());
      }
      break;
    }
  }
}

std::string CheckOptions::str(const std::string& key) const {
  auto n = value_node(key);
  if (!n.IsDefined() || n.IsNull()) {
    if (key_spec(key).type == KeyType::kString || key_spec(key).type == KeyType::kRegex) return "";
    throw std::logic_error("no value for key '" + key + "'");
  }
  return scalar_or_fail(*this, key, n, KeyType::kString);
}

std::vector<std::string> CheckOptions::list(const std::string& key) const {
  auto n = value_node(key);
  std::vector<std::string> out;
  if (!n.IsDefined() || n.IsNull()) return out;
  if (n.IsScalar()) return {n.Scalar()};
  if (!n.IsSequence()) fail(key, "must be a list of strings");
  for (const auto& item : n) {
    if (!item.IsScalar()) fail(key, "must be a list of strings");
    out.push_back(item.Scalar());
  }
  return out;
}

std::int64_t CheckOptions::integer(const std::string& key) const {
  auto s = scalar_or_fail(*this, key, value_node(key), KeyType::kInt);
  auto v = parse_number(s);
  if (!v || *v != static_cast<double>(static_cast<std::int64_t>(*v))) {
    fail(key, "'" + s + "' is not an integer");
  }
  return static_cast<std::int64_t>(*v);
}

double CheckOptions::number(const std::string& key) const {
  auto s = scalar_or_fail(*this, key, value_node(key), KeyType::kNumber);
  auto v = parse_number(s);
  if (!v) fail(key, "'" + s + "' is not a number");
  return *v;
}

bool CheckOptions::boolean(const std::string& key) const {
  auto s = scalar_or_fail(*this, key, value_node(key), KeyType::kBool);
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  fail(key, "'" + s + "' is not true or false");
}

std::chrono::milliseconds CheckOptions::duration(const std::string& key) const {
  auto s = scalar_or_fail(*this, key, value_node(key), KeyType::kDuration);
  auto d = parse_duration(s);
  if (!d) fail(key, "'" + s + "' is not a duration like 30s, 5m, 2h");
  return *d;
}

std::uint64_t CheckOptions::size(const std::string& key) const {
  auto s = scalar_or_fail(*this, key, value_node(key), KeyType::kSize);
  auto v = parse_size(s);
  if (!v) fail(key, "'" + s + "' is not a size like 512KB, 1MB, 2GB");
  return *v;
}

std::optional<Range> CheckOptions::threshold(const std::string& key) const {
  auto n = value_node(key);
  if (!n.IsDefined() || n.IsNull()) return std::nullopt;
  auto s = scalar_or_fail(*this, key, n, KeyType::kThreshold);
  if (s == "none" || s == "off") return std::nullopt;
  const KeySpec& ks = key_spec(key);
  auto r = parse_threshold(s, ks.direction, ks.unit);
  if (!r) fail(key, r.error());
  return *r;
}

std::map<std::string, std::string> CheckOptions::map(const std::string& key) const {
  auto n = value_node(key);
  std::map<std::string, std::string> out;
  if (!n.IsDefined() || n.IsNull()) return out;
  if (!n.IsMap()) fail(key, "must be a map of names to values");
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!it->second.IsScalar())
      fail(key, "value of '" + it->first.Scalar() + "' must be a single value");
    out[it->first.Scalar()] = it->second.Scalar();
  }
  return out;
}

}  // namespace xj
