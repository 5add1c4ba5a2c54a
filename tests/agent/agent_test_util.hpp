// Helpers for the agent tests: fresh scratch dirs under the build dir, an HTTP GET over
// loopback (xj::http_request), and reading one sample out of Prometheus text exposition.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <optional>
#include <sstream>
#include <string>

#include "xj/common/http_client.hpp"

namespace xj::test {

// An empty dir for one test, unique per process so parallel ctest runs do not collide.
inline std::filesystem::path scratch_dir(const std::string& name) {
  auto dir = std::filesystem::path(XJ_BINARY_DIR) / "agent_tests" /
             (name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

struct HttpReply {
  long code = 0;
  std::string body;
  std::string error;
};

inline HttpReply http_get(const std::string& url) {
  HttpClientRequest req;
  req.url = url;
  req.timeout = std::chrono::seconds(3);
  auto r = http_request(req);
  if (!r) return {0, "", r.error()};
  return {r->status, r->body, ""};
}

// Value of the sample whose name and labels are exactly `series`, e.g.
// `xunjian_check_runs_total{check="load",kind="load"}` or `xunjian_spool_depth`.
inline std::optional<double> metric_value(const std::string& exposition,
                                          const std::string& series) {
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto sp = line.rfind(' ');
    if (sp == std::string::npos || line.substr(0, sp) != series) continue;
    return std::stod(line.substr(sp + 1));
  }
  return std::nullopt;
}

}  // namespace xj::test
