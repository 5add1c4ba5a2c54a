// ConfigError: the one exception type of config loading. Its message always names the file,
// the line and the key: "agent.yaml:14: checks[3] (disk): unknown key 'treshold'; allowed: ...".
#pragma once

#include <stdexcept>
#include <string>

namespace xj {

class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, std::string where, std::string message);

  const std::string& file() const { return file_; }
  int line() const { return line_; }

 private:
  std::string file_;
  int line_;
};

}  // namespace xj
