#include "proc_stat.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace xj::bench {

std::optional<ProcSample> sample_process(int pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream stat(dir + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  // The command name (field 2) may hold spaces; the fields after it start past the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  ProcSample p;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  p.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream status(dir + "/status");
  while (std::getline(status, line)) {
    auto kib = [&](const char* key) {
      return std::stod(line.substr(std::string(key).size())) / 1024.0;
    };
    if (line.rfind("VmRSS:", 0) == 0) p.rss_mib = kib("VmRSS:");
    if (line.rfind("VmHWM:", 0) == 0) p.hwm_mib = kib("VmHWM:");
    if (line.rfind("Threads:", 0) == 0) p.threads = std::stoi(line.substr(8));
  }
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator(dir + "/task", ec)) {
    std::ifstream sched(task.path() / "schedstat");
    unsigned long long run_ns = 0, wait_ns = 0;
    if (sched >> run_ns >> wait_ns) {
      p.sched_run_s += static_cast<double>(run_ns) / 1e9;
      p.sched_wait_s += static_cast<double>(wait_ns) / 1e9;
    }
  }
  return p;
}

}  // namespace xj::bench
