// `xunjianctl report ...`: generate reports on the collector and fetch the files, list the
// archive, read and add the operator's notes of a period (see docs/xunjianctl.md).
#pragma once

#include <string>

#include "xj/collector/ctl_client.hpp"
#include "xj/collector/ctl_time.hpp"

namespace CLI {
class App;
}

namespace xj {

struct ReportCommand {
  CLI::App* weekly = nullptr;
  CLI::App* monthly = nullptr;
  CLI::App* period = nullptr;
  CLI::App* list = nullptr;
  CLI::App* note = nullptr;
  CLI::App* notes = nullptr;
  std::string date, month, from, to, formats = "html", out_dir = ".", locale, period_key, text;
  bool deliver = false;  // --deliver: through contract.reports.deliver's channels too
};

// Declares the subcommands under `report`.
void add_report_command(CLI::App& report, ReportCommand& cmd);

// Runs the parsed subcommand; prints what it did. Exit code 0 ok, 1 failed, 2 usage.
int run_report_command(const ReportCommand& cmd, const CtlConnection& conn, const ContractZone& zone,
                       bool as_json);

}  // namespace xj
