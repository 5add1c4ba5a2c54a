// `xunjian-collector user ...`: console users managed on the collector host (no default
// account exists; the first admin is made here).
#pragma once

#include <functional>
#include <string>

#include "xj/collector/console_config.hpp"
#include "xj/collector/store.hpp"

namespace CLI {
class App;
}

namespace xj::detail {

struct UserCommands {
  CLI::App* create = nullptr;
  CLI::App* passwd = nullptr;
  CLI::App* list = nullptr;
  CLI::App* unlock = nullptr;
  CLI::App* disable = nullptr;
  CLI::App* enable = nullptr;
  std::string name, admin, role = "viewer", password_file;

  // Adds `user` and its subcommands to `app`; add_config adds -c/--config to each.
  void add_to(CLI::App& app, const std::function<void(CLI::App*)>& add_config);
  bool chosen() const;
  // Runs the chosen one; `actor` names the person in the audit log ("cli:root").
  int run(Store& store, const ConsoleConfig& console, const std::string& actor) const;
};

}  // namespace xj::detail
