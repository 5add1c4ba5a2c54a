// Small I/O helpers the check kinds share: whole-file reads of /proc and friends.
#pragma once

#include <filesystem>
#include <string>

#include "xj/common/expected.hpp"

namespace xj {

class HostAccess;
struct RunContext;

// Reads a whole file (works for /proc files whose size reads as 0). Error names the path.
Expected<std::string> read_text_file(const std::filesystem::path& path);

// Number of online CPUs (at least 1).
int cpu_count();

// The same reads on the host a check inspects: this machine when host is null, else through
// the HostAccess (an agentless SSH target).
Expected<std::string> read_host_file(HostAccess* host, const std::string& path,
                                     const RunContext& ctx);
Expected<int> host_cpu_count(HostAccess* host, const RunContext& ctx);

}  // namespace xj
