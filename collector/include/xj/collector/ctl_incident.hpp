// `xunjianctl incident list|show|open|ack|note|resolve|close|report`: the incident commands,
// each one request to /api/v1/incidents. Reading needs a viewer token, acting an operator one;
// the collector audits every action under the token's name.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "xj/collector/ctl_client.hpp"
#include "xj/collector/ctl_time.hpp"

namespace CLI {
class App;
}

namespace xj {

// One call to the API and how to print its answer.
struct CtlRequest {
  std::string method = "GET";
  std::string path;
  QueryParams query;
  nlohmann::json body;
  std::string (*render)(const nlohmann::json&, const ContractZone&) = nullptr;  // null: print the text
};

class IncidentCommands {
 public:
  explicit IncidentCommands(CLI::App& app);  // adds `incident` and its subcommands to app
  ~IncidentCommands();
  bool chosen() const;
  // The request for the subcommand given; errors are usage errors (bad --from, ...).
  Expected<CtlRequest> request(const ContractZone& zone, std::int64_t now_ms) const;

 private:
  struct Args;
  std::unique_ptr<Args> a_;
};

}  // namespace xj
