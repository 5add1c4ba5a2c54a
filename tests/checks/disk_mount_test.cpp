// The disk check against real mounts made for the test: a small tmpfs filled with a file, and
// a FUSE mount whose daemon never answers (what a hung NFS server looks like to statvfs).
// Mounting needs root; each test runs in a child process with its own private mount
// namespace, so nothing else on the machine ever sees these mounts.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "host_checks_test_util.hpp"

using namespace xj;
using namespace xj::test;

namespace {

struct ChildOutput {
  bool skipped = false;
  std::string text;  // what the body returned, or why it was skipped
};

// Runs body in a forked child inside a new private mount namespace and returns what the
// body returned. "SKIP: reason" from the body (or from the namespace setup) means the
// machine does not allow the test.
ChildOutput in_private_mount_namespace(const std::function<std::string()>& body) {
  if (::geteuid() != 0) return {true, "mounting needs root"};
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  if (pid == 0) {  // the child: no Catch2 assertions here, they belong to the parent
    ::close(fds[0]);
    std::string out;
    if (::unshare(CLONE_NEWNS) != 0) {
      out = std::string("SKIP: unshare(CLONE_NEWNS): ") + std::strerror(errno);
    } else if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      out = std::string("SKIP: making / private: ") + std::strerror(errno);
    } else {
      try {
        out = body();
      } catch (const std::exception& e) {
        out = std::string("ERROR: ") + e.what();
      }
    }
    (void)!::write(fds[1], out.data(), out.size());
    ::_exit(0);  // no atexit handlers, no Catch2 reporting from the child
  }
  ::close(fds[1]);
  REQUIRE(pid > 0);
  std::string out;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        give_up - std::chrono::steady_clock::now());
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      ::kill(pid, SIGKILL);
      out = "ERROR: child did not finish within 15s; output so far: " + out;
      break;
    }
    char buf[4096];
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (out.rfind("SKIP: ", 0) == 0) return {true, out.substr(6)};
  return {false, out};
}

std::string describe(const Result& r) {
  std::string s = std::string(to_string(r.status)) + "|" + r.summary;
  for (const auto& m : r.metrics) {
    if (m.name == "used_pct") s += "|" + m.labels.at("mount");
  }
  return s;
}

}  // namespace

TEST_CASE("a filled tmpfs at a path with a space goes critical, then ok once emptied",
          "[disk][mount]") {
  const std::string mount_point =
      "/tmp/xj-disk-test-" + std::to_string(::getpid()) + "/backup disk";
  ChildOutput out = in_private_mount_namespace([&]() -> std::string {
    std::filesystem::create_directories(mount_point);
    if (::mount("xjtest", mount_point.c_str(), "tmpfs", 0, "size=1m") != 0) {
      return std::string("SKIP: mount tmpfs: ") + std::strerror(errno);
    }
    {
      std::ofstream f(mount_point + "/fill", std::ios::binary);
      std::string block(1024, 'x');
      for (int i = 0; i < 950; ++i) f << block;  // 950 KiB of the 1 MiB: about 93 % used
    }
    auto def = load_yaml("kind: disk\nmounts: ['" + mount_point + "']\n");
    std::string full = describe(run_guarded(*def.check, RunContext(std::chrono::seconds(5))));
    std::filesystem::remove(mount_point + "/fill");
    std::string empty = describe(run_guarded(*def.check, RunContext(std::chrono::seconds(5))));
    ::umount(mount_point.c_str());
    return full + "\n" + empty;
  });
  std::filesystem::remove_all(std::filesystem::path(mount_point).parent_path());
  if (out.skipped) {
    WARN("not run: " + out.text);
    return;
  }
  auto newline = out.text.find('\n');
  REQUIRE(newline != std::string::npos);
  const std::string full = out.text.substr(0, newline);
  const std::string empty = out.text.substr(newline + 1);
  INFO(out.text);
  CHECK(full.rfind("critical|" + mount_point + " 9", 0) == 0);
  CHECK(full.find("% used (") != std::string::npos);
  CHECK(full.find("|" + mount_point) != std::string::npos);  // the metric label, unescaped
  CHECK(empty.rfind("ok|" + mount_point + " 0.0% used (1.0 MiB free of 1.0 MiB)", 0) == 0);
}

TEST_CASE("a mount that never answers is critical before the timeout, and the others are still measured",
          "[disk][mount]") {
  const std::string dir = "/tmp/xj-disk-hung-" + std::to_string(::getpid());
  ChildOutput out = in_private_mount_namespace([&]() -> std::string {
    int fuse = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
    if (fuse < 0) return std::string("SKIP: /dev/fuse: ") + std::strerror(errno);
    std::filesystem::create_directories(dir);
    // A FUSE mount whose daemon (us) never answers the kernel's INIT: every request on it,
    // statfs included, blocks until the connection is aborted.
    std::string opts = "fd=" + std::to_string(fuse) + ",rootmode=40000,user_id=0,group_id=0";
    if (::mount("xj-hung", dir.c_str(), "fuse", MS_NOSUID | MS_NODEV, opts.c_str()) != 0) {
      return std::string("SKIP: mount fuse: ") + std::strerror(errno);
    }
    auto def = load_yaml("kind: disk\nmounts: [/, '" + dir + "']\n" +
                         // the root filesystem here may be over 80 %; "the other 1 ok" is asserted
                         "warn: 100%\ncrit: 100%\ninode_warn: 100%\ninode_crit: 100%\n");
    auto started = std::chrono::steady_clock::now();
    Result first = run_guarded(*def.check, RunContext(std::chrono::milliseconds(1500)));
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count();
    Result second = run_guarded(*def.check, RunContext(std::chrono::milliseconds(1500)));
    ::close(fuse);  // aborts the connection: the parked statvfs returns ENOTCONN
    ::umount2(dir.c_str(), MNT_DETACH);
    return describe(first) + "\n" + std::to_string(took) + "\n" + describe(second);
  });
  std::filesystem::remove(dir);
  if (out.skipped) {
    WARN("not run: " + out.text);
    return;
  }
  INFO(out.text);
  std::istringstream lines(out.text);
  std::string first, took, second;
  std::getline(lines, first);
  std::getline(lines, took);
  std::getline(lines, second);
  CHECK(first.rfind("critical|" + dir + " not responding: statvfs blocked for 1.", 0) == 0);
  CHECK(first.find("(hung network or FUSE mount?); the other 1 ok|/") != std::string::npos);
  CHECK(std::stol(took) < 1500);
  // The second run does not park another thread on the mount: it reports the first probe,
  // blocked across both runs by now.
  auto at = second.find("blocked for ");
  REQUIRE(at != std::string::npos);
  CHECK(std::stod(second.substr(at + 12)) > 2.5);
}
