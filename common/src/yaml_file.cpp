#include "xj/common/yaml_file.hpp"

#include <filesystem>

#include "xj/common/config_error.hpp"

namespace xj {

YAML::Node load_yaml_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw ConfigError(path, 0, "", "file not found");
  }
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw ConfigError(path, 0, "", "cannot read file");
  } catch (const YAML::ParserException& e) {
    throw ConfigError(path, e.mark.line + 1, "", "YAML syntax error: " + e.msg);
  }
}

int yaml_line(const YAML::Node& node) {
  const auto mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

std::string yaml_scalar(const YAML::Node& node, const std::string& file, const std::string& where,
                        const std::string& key) {
  if (!node.IsScalar()) {
    throw ConfigError(file, yaml_line(node), where, "key '" + key + "' must be a single value");
  }
  return node.Scalar();
}

}  // namespace xj
