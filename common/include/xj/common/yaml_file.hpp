// Loading YAML config files with errors that name the file and line.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace xj {

// Parses the file; a missing file or a syntax error throws ConfigError with file and line.
YAML::Node load_yaml_file(const std::string& path);

// 1-based line of a node (0 if the node has no mark).
int yaml_line(const YAML::Node& node);

// Scalar text of a node, or a ConfigError naming file/line/where/key if it is not a scalar.
std::string yaml_scalar(const YAML::Node& node, const std::string& file, const std::string& where,
                        const std::string& key);

}  // namespace xj
