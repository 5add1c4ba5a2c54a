#include "log_file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace xj::log_io {

namespace fs = std::filesystem;

namespace {

// O_NONBLOCK so that a FIFO at the path cannot hang the run; it has no effect on files.
int open_log(const std::string& path) {
  return ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

// Reads up to n bytes at offset; short only at end of file.
Expected<std::string> read_at(int fd, std::uint64_t offset, std::size_t n) {
  std::string buf(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, buf.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return make_error(std::strerror(errno));
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  buf.resize(got);
  return buf;
}

// Identity, size and head of an open log file; an error for anything but a regular file.
Expected<LogFileNow> describe_log(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return make_error(std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return make_error("not a regular file");
  LogFileNow now{static_cast<std::uint64_t>(st.st_dev),
                 static_cast<std::uint64_t>(st.st_ino),
                 static_cast<std::uint64_t>(st.st_size),
                 {}};
  auto head = read_at(fd, 0, kLogHeadBytes);
  if (!head) return make_error(head.error());
  now.head = std::move(head).value();
  return now;
}

class LocalLogFile final : public LogFile {
 public:
  LocalLogFile(int fd, std::string path, LogFileNow now) : fd_(fd), path_(std::move(path)) {
    now_ = std::move(now);
  }
  Expected<std::string> read_at(std::uint64_t offset, std::size_t n) override {
    auto got = log_io::read_at(fd_.get(), offset, n);
    if (!got) return make_error("cannot read " + path_ + ": " + got.error());
    return got;
  }

 private:
  Fd fd_;
  std::string path_;
};

// Reads through the target's session a window at a time; each read checks the inode, so
// bytes of a file rotated in between are never taken for the one opened.
class RemoteLogFile final : public LogFile {
 public:
  RemoteLogFile(HostAccess& host, std::string path, LogFileNow now, const RunContext& ctx)
      : host_(host), path_(std::move(path)), ctx_(ctx) {
    now_ = std::move(now);
  }
  Expected<std::string> read_at(std::uint64_t offset, std::size_t n) override {
    const bool inside = offset >= win_at_ && offset - win_at_ <= win_.size();
    if (!inside || (offset - win_at_ + n > win_.size() && !win_eof_)) {
      const std::uint64_t to_size = now_.size > offset ? now_.size - offset : 0;
      const std::size_t want =
          std::max<std::size_t>(n, static_cast<std::size_t>(std::min<std::uint64_t>(
                                       kRemoteWindowBytes, to_size)));
      auto got = host_.read_log(path_, now_.inode, offset, want, ctx_);
      if (!got) return make_error(got.error());
      win_at_ = offset;
      win_eof_ = got->size() < want;
      win_ = std::move(got).value();
    }
    return win_.substr(static_cast<std::size_t>(offset - win_at_), n);
  }

 private:
  HostAccess& host_;
  std::string path_;
  const RunContext& ctx_;
  std::uint64_t win_at_ = 0;
  std::string win_;
  bool win_eof_ = false;
};

}  // namespace

Expected<std::unique_ptr<LogFile>> open_log_file(HostAccess* host, const std::string& path,
                                                 const RunContext& ctx) {
  if (host != nullptr) {
    auto now = host->stat_log(path, ctx);
    if (!now) return make_error(now.error());
    return std::unique_ptr<LogFile>(
        std::make_unique<RemoteLogFile>(*host, path, std::move(now).value(), ctx));
  }
  const int fd = open_log(path);
  if (fd < 0) return make_error("cannot open " + path + ": " + std::strerror(errno));
  auto now = describe_log(fd);
  if (!now) {
    ::close(fd);
    return make_error("cannot read " + path + ": " + now.error());
  }
  return std::unique_ptr<LogFile>(std::make_unique<LocalLogFile>(fd, path, std::move(now).value()));
}

std::uint64_t last_line_start(LogFile& file, std::uint64_t size) {
  const std::uint64_t window = std::min<std::uint64_t>(size, kLogMaxLineBytes);
  auto tail = file.read_at(size - window, window);
  if (!tail) return size;
  auto nl = tail->rfind('\n');
  if (nl != std::string::npos) return size - window + nl + 1;
  return window == size ? 0 : size;
}

Expected<std::optional<std::string>> find_rotated(HostAccess* host, const std::string& path,
                                                  const LogPosition& prev, const RunContext& ctx) {
  if (host != nullptr) return host->find_log_inode(path, prev.dev, prev.inode, ctx);
  auto same = [&](const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           static_cast<std::uint64_t>(st.st_dev) == prev.dev &&
           static_cast<std::uint64_t>(st.st_ino) == prev.inode;
  };
  if (same(path + ".1")) return std::optional<std::string>(path + ".1");
  std::error_code ec;
  fs::path dir = fs::path(path).parent_path();
  fs::directory_iterator it(dir.empty() ? fs::path(".") : dir, ec);
  for (int seen = 0; !ec && it != fs::directory_iterator() && seen < 4096;
       it.increment(ec), ++seen) {
    std::string candidate = it->path().string();
    if (candidate != path && same(candidate)) return std::optional<std::string>(candidate);
  }
  return std::optional<std::string>();
}

LogReader::Outcome LogReader::read(LogFile& file, std::uint64_t from, std::uint64_t to,
                                   bool final) {
  Outcome o{from, false, {}};
  std::string buf;
  std::uint64_t next = from;
  while (next < to) {
    const bool cancelled = ctx_.cancelled != nullptr && ctx_.cancelled->load();
    if (budget_ == 0 || ctx_.expired() || cancelled) {
      o.stopped = true;
      (budget_ == 0 ? capped : out_of_time) = true;
      break;
    }
    auto block = file.read_at(
        next, static_cast<std::size_t>(std::min({kLogBlockBytes, to - next, budget_})));
    if (!block) {
      o.error = block.error();
      break;
    }
    if (block->empty()) break;  // shrank while we read; the next run sees the truncation
    next += block->size();
    budget_ -= block->size();
    buf += *block;
    add(scan_log_chunk(buf, matcher_, room(), final && next >= to), buf, o.end);
    if (buf.size() >= kLogMaxLineBytes)
      add(scan_log_chunk(buf, matcher_, room(), true), buf, o.end);
  }
  return o;
}

std::optional<std::string> write_atomically(const fs::path& file, const std::string& text) {
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) return "cannot create " + file.parent_path().string() + ": " + ec.message();
  const std::string tmp = file.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot write " + tmp + ": " + std::strerror(errno);
  std::size_t done = 0;
  int err = 0;
  while (done < text.size() && err == 0) {
    ssize_t w = ::write(fd, text.data() + done, text.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      err = w < 0 ? errno : EIO;
    } else {
      done += static_cast<std::size_t>(w);
    }
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  ::close(fd);
  if (err == 0 && ::rename(tmp.c_str(), file.c_str()) == 0) return std::nullopt;
  const std::string why = std::strerror(err != 0 ? err : errno);
  ::unlink(tmp.c_str());
  return "cannot write " + file.string() + ": " + why;
}

}  // namespace xj::log_io
