#include "xj/common/logging.hpp"

#include <fcntl.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>

#include "xj/common/config_section.hpp"

namespace xj {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

// The one sink of the "xunjian" logger: stderr or a file, switched under the sink's own lock
// so threads logging during a reload never see a logger being replaced. Writes go straight to
// the descriptor (no user-space buffer): a line is in the file when the call returns.
class DaemonSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  ~DaemonSink() override {
    if (fd_ >= 0) ::close(fd_);
  }

  std::string configure(const LogFileOptions& file) {
    std::lock_guard lock(mutex_);
    if (file == file_) return "";
    if (file.path.empty()) {
      close_file();
      file_ = file;
      return "";
    }
    if (file.path != file_.path) {
      auto opened = open_file(file.path);
      if (!opened.error.empty()) return opened.error;
      close_file();
      fd_ = opened.fd;
      size_ = opened.size;
    }
    file_ = file;
    return "";
  }

  std::string reopen() {
    std::lock_guard lock(mutex_);
    if (file_.path.empty()) return "";
    auto opened = open_file(file_.path);
    if (!opened.error.empty()) return opened.error;
    close_file();
    fd_ = opened.fd;
    size_ = opened.size;
    return "";
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    if (fd_ < 0) {
      write_all(STDERR_FILENO, line.data(), line.size());
      return;
    }
    if (size_ > 0 && size_ + line.size() > file_.max_bytes) rotate();
    if (write_all(fd_, line.data(), line.size())) {
      size_ += line.size();
    } else if (!write_failed_) {
      // Say it once where the service manager sees it; the next lines are tried again.
      write_failed_ = true;
      std::string note = "xunjian: cannot write log file " + file_.path + ": " + errno_text(errno) + "\n";
      write_all(STDERR_FILENO, note.data(), note.size());
    }
  }
  void flush_() override {}

 private:
  struct Opened {
    int fd = -1;
    std::uint64_t size = 0;
    std::string error;
  };

  static Opened open_file(const std::string& path) {
    Opened o;
    o.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (o.fd < 0) {
      o.error = "cannot open log file " + path + ": " + errno_text(errno);
      return o;
    }
    struct stat st{};
    if (::fstat(o.fd, &st) == 0) o.size = static_cast<std::uint64_t>(st.st_size);
    return o;
  }

  static bool write_all(int fd, const char* data, std::size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd, data, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      data += w;
      n -= static_cast<std::size_t>(w);
    }
    return true;
  }

  void close_file() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    size_ = 0;
  }

  // FILE.<keep-1> -> FILE.<keep> (replacing the oldest) ... FILE -> FILE.1, then a new FILE.
  // When a rename fails (the directory turned read-only) the current file simply grows.
  void rotate() {
    const std::string& p = file_.path;
    for (int i = file_.keep - 1; i >= 1; --i) {
      ::rename((p + "." + std::to_string(i)).c_str(), (p + "." + std::to_string(i + 1)).c_str());
    }
    if (::rename(p.c_str(), (p + ".1").c_str()) != 0) return;
    auto opened = open_file(p);
    if (!opened.error.empty()) return;  // keep writing to the renamed file rather than lose lines
    close_file();
    fd_ = opened.fd;
    size_ = opened.size;
  }

  LogFileOptions file_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  bool write_failed_ = false;
};

std::mutex g_mu;
std::shared_ptr<DaemonSink> g_sink;

std::shared_ptr<DaemonSink> daemon_sink() {
  std::lock_guard lock(g_mu);
  if (!g_sink) {
    g_sink = std::make_shared<DaemonSink>();
    auto logger = std::make_shared<spdlog::logger>("xunjian", g_sink);
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
    spdlog::set_default_logger(logger);
  }
  return g_sink;
}

}  // namespace

LogFileOptions parse_log_file(const ConfigSection& section, const std::string& key) {
  LogFileOptions out;
  if (!section.has(key)) return out;
  YAML::Node node = section.node()[key];
  if (node.IsScalar()) {
    out.path = node.Scalar();
  } else {
    ConfigSection f = section.section(key);
    f.allow_only({"path", "max_size", "keep"});
    out.path = f.str("path");
    if (out.path.empty()) f.fail("path", "must name the log file");
    out.max_bytes = f.size("max_size", out.max_bytes, 1024);
    out.keep = static_cast<int>(f.integer("keep", out.keep, 1, 100));
  }
  namespace fs = std::filesystem;
  const fs::path p(out.path);
  if (!p.is_absolute()) section.fail(key, "'" + out.path + "' must be an absolute path");
  std::error_code ec;
  const fs::path dir = p.parent_path();
  if (!fs::is_directory(dir, ec)) {
    section.fail(key, "directory " + dir.string() + " of '" + out.path + "' does not exist" +
                          (dir.string() == "/var/log/xunjian"
                               ? " (the packages create it; run: install -d -o xunjian -g xunjian "
                                 "-m 0750 /var/log/xunjian)"
                               : ""));
  }
  if (fs::is_directory(p, ec)) section.fail(key, "'" + out.path + "' is a directory");
  return out;
}

std::string setup_logging(const std::string& level, const LogFileOptions& file) {
  auto sink = daemon_sink();
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") lvl = spdlog::level::info;
  spdlog::set_level(lvl);
  return sink->configure(file);
}

std::string reopen_log_file() { return daemon_sink()->reopen(); }

}  // namespace xj
