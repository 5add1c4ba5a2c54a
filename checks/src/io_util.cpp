#include "xj/checks/io_util.hpp"

#include "xj/checks/host_access.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xj {

Expected<std::string> read_text_file(const std::filesystem::path& path) {
  // open/read/close straight into the string: /proc files are read by the hundred on every
  // process check, and an ifstream (locale, stream buffer, a copy through a stringstream)
  // cost more than the kernel's side of the read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("cannot read " + path.string() + ": " + std::strerror(errno));
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return make_error("cannot read " + path.string() + ": " + std::strerror(err));
    }
    break;
  }
  ::close(fd);
  return out;
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
