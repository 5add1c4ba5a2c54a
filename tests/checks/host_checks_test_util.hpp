// Helpers shared by the tests of the host checks (disk, cpu, memory): build a check from a
// YAML block, read fixtures, find a metric in a result.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "xj/checks/registry.hpp"
#include "xj/common/config_error.hpp"

namespace xj::test {

inline CheckDefinition load_yaml(const std::string& yaml) {
  return load_check(YAML::Load(yaml), "agent.yaml", "checks[0]", CheckEnv{});
}

// The ConfigError message a block is rejected with; empty when it loads.
inline std::string load_error(const std::string& yaml) {
  try {
    load_yaml(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

inline std::string fixture_path(const std::string& name) {
  return std::string(XJ_SOURCE_DIR) + "/tests/fixtures/" + name;
}

inline std::string read_fixture(const std::string& name) {
  std::ifstream in(fixture_path(name), std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + fixture_path(name));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The metric of that name (and mount label, when given); null when absent.
inline const Metric* find_metric(const Result& r, const std::string& name,
                                 const std::string& mount = "") {
  for (const auto& m : r.metrics) {
    if (m.name != name) continue;
    if (!mount.empty()) {
      auto it = m.labels.find("mount");
      if (it == m.labels.end() || it->second != mount) continue;
    }
    return &m;
  }
  return nullptr;
}

}  // namespace xj::test
