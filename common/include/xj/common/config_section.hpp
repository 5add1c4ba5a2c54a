// A map section of a YAML config file with typed reads. Every error names the file, the line
// and the key ("collector.yaml:7: collector: key 'heartbeat': 'soon' is not a duration ...").
// Shared by the agent's and the collector's config loaders.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>
#include <yaml-cpp/yaml.h>

namespace xj {

class ConfigSection {
 public:
  // `node` may be undefined or null: the section is then empty and every read gives its default.
  ConfigSection(YAML::Node node, std::string file, std::string where);

  // Rejects any key not listed, naming it and listing the allowed ones.
  void allow_only(std::initializer_list<std::string_view> allowed) const;
  void allow_only(const std::vector<std::string_view>& allowed) const;
  bool has(const std::string& key) const;
  bool empty() const { return !node_.IsDefined() || node_.IsNull(); }
  int line() const;
  int line_of(const std::string& key) const;
  const std::string& file() const { return file_; }
  const std::string& where() const { return where_; }
  const YAML::Node& node() const { return node_; }

  std::string str(const std::string& key, std::string def = "") const;
  std::int64_t integer(const std::string& key, std::int64_t def, std::int64_t min,
                       std::int64_t max) const;
  bool boolean(const std::string& key, bool def) const;
  std::chrono::milliseconds duration(const std::string& key, std::chrono::milliseconds def,
                                     std::chrono::milliseconds min) const;
  std::uint64_t size(const std::string& key, std::uint64_t def, std::uint64_t min) const;
  double percent(const std::string& key, double def) const;  // 0 < value <= 100
  std::map<std::string, std::string> map(const std::string& key) const;
  std::vector<std::string> list(const std::string& key) const;
  // A nested map section; where becomes "where.key".
  ConfigSection section(const std::string& key) const;

  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

 private:
  std::string scalar(const std::string& key) const;

  YAML::Node node_;
  std::string file_;
  std::string where_;
};

}  // namespace xj
