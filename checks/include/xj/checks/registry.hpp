// The one explicit table of check kinds, and building a check from its config block.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xj/checks/spec.hpp"

namespace xj {

const std::vector<CheckSpec>& check_registry();
const CheckSpec* find_check_spec(std::string_view kind);

// One check as written in a config, built and validated.
struct CheckDefinition {
  std::unique_ptr<Check> check;
  std::optional<std::chrono::milliseconds> interval;  // nullopt: agent default
  std::optional<std::chrono::milliseconds> timeout;   // nullopt: agent default
  Labels labels;
  bool enabled = true;
  int line = 0;
};

// where: "checks[3]" — the error context becomes "checks[3] (disk)". Throws ConfigError.
CheckDefinition load_check(const YAML::Node& node, const std::string& file, const std::string& where,
                           const CheckEnv& env);

// docs/checks.md, generated from the declarations.
std::string checks_markdown();

}  // namespace xj
