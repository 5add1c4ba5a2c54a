#include "xj/common/config_section.hpp"

#include <algorithm>

#include "xj/common/config_error.hpp"
#include "xj/common/duration.hpp"
#include "xj/common/yaml_file.hpp"

namespace xj {

ConfigSection::ConfigSection(YAML::Node node, std::string file, std::string where)
    : node_(std::move(node)), file_(std::move(file)), where_(std::move(where)) {
  if (!empty() && !node_.IsMap()) {
    throw ConfigError(file_, yaml_line(node_), where_, "must be a map of keys");
  }
}

void ConfigSection::allow_only(std::initializer_list<std::string_view> allowed) const {
  allow_only(std::vector<std::string_view>(allowed));
}

void ConfigSection::allow_only(const std::vector<std::string_view>& allowed) const {
  if (empty()) return;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      throw ConfigError(file_, yaml_line(it->first), where_,
                        "unknown key '" + key + "'; allowed: " + list);
    }
  }
}

bool ConfigSection::has(const std::string& key) const {
  if (empty()) return false;
  auto v = node_[key];
  return v.IsDefined() && !v.IsNull();
}

int ConfigSection::line() const { return empty() ? 0 : yaml_line(node_); }

int ConfigSection::line_of(const std::string& key) const {
  return has(key) ? yaml_line(node_[key]) : line();
}

void ConfigSection::fail(const std::string& key, const std::string& message) const {
  throw ConfigError(file_, line_of(key), where_, "key '" + key + "': " + message);
}

std::string ConfigSection::scalar(const std::string& key) const {
  auto v = node_[key];
  if (!v.IsScalar()) fail(key, "must be a single value");
  return v.Scalar();
}

std::string ConfigSection::str(const std::string& key, std::string def) const {
  return has(key) ? scalar(key) : def;
}

std::int64_t ConfigSection::integer(const std::string& key, std::int64_t def, std::int64_t min,
                                    std::int64_t max) const {
  if (!has(key)) return def;
  std::string s = scalar(key);
  auto v = parse_number(s);
  if (!v || *v != static_cast<double>(static_cast<std::int64_t>(*v)) || *v < static_cast<double>(min) ||
      *v > static_cast<double>(max)) {
    fail(key, "'" + s + "' must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<std::int64_t>(*v);
}

bool ConfigSection::boolean(const std::string& key, bool def) const {
  if (!has(key)) return def;
  std::string s = scalar(key);
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  fail(key, "'" + s + "' is not true or false");
}

std::chrono::milliseconds ConfigSection::duration(const std::string& key,
                                                  std::chrono::milliseconds def,
                                                  std::chrono::milliseconds min) const {
  if (!has(key)) return def;
  std::string s = scalar(key);
  auto d = parse_duration(s);
  if (!d) fail(key, "'" + s + "' is not a duration like 30s, 5m, 2h");
  if (*d < min) fail(key, "must be at least " + format_duration(min));
  return *d;
}

std::uint64_t ConfigSection::size(const std::string& key, std::uint64_t def, std::uint64_t min) const {
  if (!has(key)) return def;
  std::string s = scalar(key);
  auto v = parse_size(s);
  if (!v) fail(key, "'" + s + "' is not a size like 512KB, 1MB, 2GB");
  if (*v < min) fail(key, "'" + s + "' must be at least " + format_size(min));
  return *v;
}

double ConfigSection::percent(const std::string& key, double def) const {
  if (!has(key)) return def;
  std::string s = scalar(key);
  auto v = parse_percent(s);
  if (!v || *v <= 0 || *v > 100) fail(key, "'" + s + "' must be a percentage like 5%");
  return *v;
}

std::map<std::string, std::string> ConfigSection::map(const std::string& key) const {
  std::map<std::string, std::string> out;
  if (!has(key)) return out;
  auto n = node_[key];
  if (!n.IsMap()) fail(key, "must be a map of names to values");
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!it->second.IsScalar()) {
      throw ConfigError(file_, yaml_line(it->second), where_,
                        "key '" + key + "': value of '" + it->first.Scalar() + "' must be a single value");
    }
    out[it->first.Scalar()] = it->second.Scalar();
  }
  return out;
}

std::vector<std::string> ConfigSection::list(const std::string& key) const {
  std::vector<std::string> out;
  if (!has(key)) return out;
  auto n = node_[key];
  if (n.IsScalar()) return {n.Scalar()};
  if (!n.IsSequence()) fail(key, "must be a list");
  for (const auto& item : n) {
    if (!item.IsScalar()) throw ConfigError(file_, yaml_line(item), where_, "key '" + key + "': items must be single values");
    out.push_back(item.Scalar());
  }
  return out;
}

ConfigSection ConfigSection::section(const std::string& key) const {
  std::string child = where_.empty() ? key : where_ + "." + key;
  return ConfigSection(has(key) ? node_[key] : YAML::Node(), file_, child);
}

}  // namespace xj
