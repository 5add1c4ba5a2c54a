#include "xj/checks/io_util.hpp"

#include "xj/checks/host_access.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace xj {

Expected<std::string> read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read " + path.string() + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int cpu_count() {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

Expected<std::string> read_host_file(HostAccess* host, const std::string& path,
                                     const RunContext& ctx) {
  if (host == nullptr) return read_text_file(path);
  return host->read_file(path, ctx);
}

Expected<int> host_cpu_count(HostAccess* host, const RunContext& ctx) {
  if (host == nullptr) return cpu_count();
  return host->cpu_count(ctx);
}

}  // namespace xj
