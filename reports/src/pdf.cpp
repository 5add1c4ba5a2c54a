// Chromium runs with a private, throw-away profile; every host name resolves to nothing and no
// proxy is used, so a report that referenced anything outside itself could not fetch it (ours
// reference nothing: CSS and SVG are inline). --no-sandbox only as root, where Chromium refuses
// to start otherwise.
#include "xj/reports/pdf.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

extern char** environ;

namespace xj::reports {
namespace {

namespace fs = std::filesystem;

std::string tail_of(const fs::path& file, std::size_t max) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max) s = s.substr(s.size() - max);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::optional<std::string> find_chromium(const PdfOptions& o) {
  if (!o.chromium.empty()) {
    if (::access(o.chromium.c_str(), X_OK) == 0) return o.chromium;
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    for (const char* name : {"chromium", "chromium-browser"}) {
      const std::string p = dir + "/" + name;
      if (!dir.empty() && ::access(p.c_str(), X_OK) == 0) return p;
    }
  }
  return std::nullopt;
}

Expected<bool> html_to_pdf(const std::string& html_path, const std::string& pdf_path, const PdfOptions& o) {
  auto browser = find_chromium(o);
  if (!browser) {
    return make_error("PDF report: Chromium is not installed (" +
                      (o.chromium.empty() ? std::string("no chromium in PATH") : o.chromium + " is not executable") +
                      "); install the Debian package 'chromium' (and a CJK font such as 'fonts-wqy-zenhei'), "
                      "or use --format html");
  }
  std::error_code ec;
  const fs::path html = fs::absolute(html_path, ec);
  if (!fs::is_regular_file(html, ec)) return make_error("PDF report: " + html_path + " is not a file");
  char tmpl[] = "/tmp/xunjian-chromium-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return make_error("PDF report: cannot create a temporary profile directory");
  const fs::path profile(tmpl);
  const fs::path log = profile / "chromium.log";
  fs::remove(pdf_path, ec);

  std::vector<std::string> args = {*browser,
                                   "--headless",
                                   "--no-pdf-header-footer",
                                   "--print-to-pdf=" + fs::absolute(pdf_path, ec).string(),
                                   "--user-data-dir=" + profile.string(),
                                   "--disable-gpu",
                                   "--no-first-run",
                                   "--no-default-browser-check",
                                   "--disable-extensions",
                                   "--disable-sync",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-default-apps",
                                   "--disable-domain-reliability",
                                   "--no-pings",
                                   "--no-proxy-server",
                                   "--host-resolver-rules=MAP * ~NOTFOUND",
                                   "--disable-dev-shm-usage"};
  if (::geteuid() == 0) args.push_back("--no-sandbox");
  args.push_back("file://" + html.string());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);  // its own group: the helpers die with it
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, browser->c_str(), &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    fs::remove_all(profile, ec);
    return make_error("PDF report: cannot start " + *browser + ": " + std::strerror(rc));
  }
  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  int status = 0;
  bool exited = false;
  while (std::chrono::steady_clock::now() < deadline) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      exited = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!exited) {
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  } else {
    ::kill(-pid, SIGKILL);  // helper processes Chromium left behind, if any
  }
  const std::string out = tail_of(log, 600);
  fs::remove_all(profile, ec);
  if (!exited) {
    return make_error("PDF report: " + *browser + " did not finish within " +
                      std::to_string(o.timeout.count() / 1000) + " s");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !fs::is_regular_file(pdf_path, ec) ||
      fs::file_size(pdf_path, ec) == 0) {
    return make_error("PDF report: " + *browser + " failed (" +
                      (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                         : "signal " + std::to_string(WTERMSIG(status))) +
                      ") writing " + pdf_path + (out.empty() ? "" : ": " + out));
  }
  return true;
}

}  // namespace xj::reports
