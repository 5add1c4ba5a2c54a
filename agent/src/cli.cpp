#include "xj/agent/cli.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <iostream>

#include "xj/agent/check_runner.hpp"
#include "xj/agent/check_table.hpp"
#include "xj/agent/config.hpp"
#include "xj/agent/daemon.hpp"
#include "xj/checks/registry.hpp"
#include "xj/common/config_error.hpp"
#include "xj/common/logging.hpp"

namespace xj {
namespace {

nlohmann::json agent_json(const AgentConfig& cfg) {
  return {{"id", cfg.id},
          {"hostname", local_hostname()},
          {"version", XJ_VERSION},
          {"labels", cfg.labels}};
}

// Runs every selected check once, all at once on the runner's pool; results in config order.
std::vector<Result> run_once(const AgentConfig& cfg, const std::vector<std::string>& only) {
  boost::asio::io_context io;
  std::vector<Result> results;
  std::vector<const ScheduledCheck*> selected;
  for (const auto& sc : cfg.checks) {
    if (only.empty() || std::find(only.begin(), only.end(), sc.check->id()) != only.end()) {
      selected.push_back(&sc);
    }
  }
  results.resize(selected.size());
  {
    CheckRunner runner(io, cfg.threads);
    for (std::size_t i = 0; i < selected.size(); ++i) {
      const ScheduledCheck& sc = *selected[i];
      // One round: the process checks among them read /proc once (RunContext::round).
      runner.submit(
          sc.check, sc.timeout, cfg.state_dir,
          [&results, i](Result r, bool) { results[i] = std::move(r); }, {}, 1);
    }
    io.run();
  }
  // Late completions of timed-out runs are posted after the first io.run() returned.
  io.restart();
  io.run();
  return results;
}

int cmd_check(const std::string& config_path, const AgentConfigOverrides& overrides, bool json,
              const std::vector<std::string>& only) {
  AgentConfig cfg = load_agent_config(config_path, overrides);
  for (const auto& id : only) {
    bool found = std::any_of(cfg.checks.begin(), cfg.checks.end(),
                             [&](const ScheduledCheck& sc) { return sc.check->id() == id; });
    if (!found) {
      std::cerr << config_path << ": no enabled check with id '" << id << "'\n";
      return code_of(Status::kUnknown);
    }
  }
  std::vector<Result> results = run_once(cfg, only);
  if (json) {
    nlohmann::json out{{"agent", agent_json(cfg)}, {"results", nlohmann::json::array()}};
    for (const auto& r : results) out["results"].push_back(to_json(r));
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << format_check_table(results, ::isatty(STDOUT_FILENO) != 0);
  }
  return code_of(worst_status(results));
}

int cmd_validate(const std::string& config_path, const AgentConfigOverrides& overrides) {
  AgentConfig cfg = load_agent_config(config_path, overrides);
  std::cout << config_path << ": valid; agent '" << cfg.id << "', " << cfg.checks.size()
            << " checks enabled";
  if (cfg.disabled_checks > 0) std::cout << ", " << cfg.disabled_checks << " disabled";
  std::cout << "\n";
  return 0;
}

}  // namespace

int agent_main(int argc, char** argv) {
  CLI::App app{
      "xunjian-agent: scheduled checks of this server, spooled until the collector acknowledges"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("xunjian-agent ") + XJ_VERSION);

  std::string config_path = "/etc/xunjian/agent.yaml";
  bool json = false;
  std::vector<std::string> only;
  bool markdown = false;
  std::string state_dir;

  auto* check = app.add_subcommand(
      "check", "run every check once, print a table, exit with the worst status");
  check->add_option("-c,--config", config_path, "agent config file")->capture_default_str();
  check->add_option("--state-dir", state_dir, "use this state dir instead of agent.state_dir");
  check->add_flag("--json", json, "print the results as JSON (the wire format)");
  check->add_option("--only", only, "run only the check with this id (repeatable)");

  auto* run = app.add_subcommand("run", "run the checks on their schedule into the spool (daemon)");
  run->add_option("-c,--config", config_path, "agent config file")->capture_default_str();
  run->add_option("--state-dir", state_dir, "use this state dir instead of agent.state_dir");

  auto* validate = app.add_subcommand("validate", "load and validate the config, then exit");
  validate->add_option("-c,--config", config_path, "agent config file")->capture_default_str();
  validate->add_option("--state-dir", state_dir, "use this state dir instead of agent.state_dir");

  auto* kinds = app.add_subcommand("kinds", "list the check kinds and their keys");
  kinds->add_flag("--markdown", markdown, "print docs/checks.md");

  CLI11_PARSE(app, argc, argv);
  AgentConfigOverrides overrides;
  if (!state_dir.empty()) overrides.state_dir = state_dir;
  if (*run) return run_agent(config_path, overrides);  // sets up its own logging from the config
  setup_logging("warn");
  try {
    if (*check) return cmd_check(config_path, overrides, json, only);
    if (*validate) return cmd_validate(config_path, overrides);
    if (*kinds) {
      if (markdown) {
        std::cout << checks_markdown();
      } else {
        for (const auto& s : check_registry()) std::cout << s.kind << "\n";
      }
      return 0;
    }
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    return *validate ? 1 : code_of(Status::kUnknown);
  }
  return 0;
}

}  // namespace xj
