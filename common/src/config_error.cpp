#include "xj/common/config_error.hpp"

namespace xj {
namespace {
std::string compose(const std::string& file, int line, const std::string& where,
                    const std::string& message) {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!where.empty()) out += where + ": ";
  return out + message;
}
}  // namespace

ConfigError::ConfigError(std::string file, int line, std::string where, std::string message)
    : std::runtime_error(compose(file, line, where, message)),
      file_(std::move(file)),
      line_(line) {}

}  // namespace xj
