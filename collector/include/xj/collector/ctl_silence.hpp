// `xunjianctl silence list|add|expire` and `xunjianctl maintenance list|add|end`: silences and
// maintenance windows through /api/v1/silences (viewer reads, operator changes; audited).
#pragma once

#include <memory>

#include "xj/collector/ctl_incident.hpp"

namespace xj {

class SilenceCommands {
 public:
  // maintenance: the `maintenance` command (windows: one-off or weekly), else `silence`.
  SilenceCommands(CLI::App& app, bool maintenance);
  ~SilenceCommands();
  bool chosen() const;
  Expected<CtlRequest> request(const ContractZone& zone, std::int64_t now_ms) const;

 private:
  struct Args;
  std::unique_ptr<Args> a_;
};

}  // namespace xj
