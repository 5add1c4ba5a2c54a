// Acceptance: our disk numbers agree with Debian's check_disk (monitoring-plugins) on the same
// mounts of this machine, within one percentage point.
//
// check_disk prints, per path, the space available to users and the free percentage and, as
// perfdata, the used bytes and the size:
//   DISK OK - free space: / 80279MiB (81% inode=97%);| /=18565038080B;...;0;270552530944
// Its used % is used / (used + available), the quantity of our used_pct, but rounded UP to a
// whole number as coreutils' df does (18.07 % used prints as 81 % free), and its perfdata sizes
// are truncated to whole MiB. The perfdata's used / size is a different quantity (it counts
// root's reserved blocks as free: 6.9 % here), so the test compares the printed percentage
// and the percentage recomputed from check_disk's used and free bytes, never used / size.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "host_checks_test_util.hpp"
#include "xj/checks/disk_check.hpp"
#include "xj/checks/io_util.hpp"

extern char** environ;

using namespace xj;
using namespace xj::test;

namespace {

const char* const kCheckDisk = "/usr/lib/nagios/plugins/check_disk";

struct Program {
  int exit_code = -1;
  std::string output;
};

Program run_program(const std::vector<std::string>& argv) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  REQUIRE(rc == 0);
  Program p;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
    p.output.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  p.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return p;
}

// What check_disk says about one mount.
struct CheckDiskFigures {
  double free_pct = 0;        // printed: 100 - used %, the used % rounded up
  double inode_free_pct = 0;  // printed, likewise
  double free_bytes = 0;      // printed in its unit (MiB by default), truncated
  double used_bytes = 0;      // perfdata
  double total_bytes = 0;     // perfdata max
};

double unit_bytes(const std::string& unit) {
  if (unit == "B") return 1;
  if (unit == "kB" || unit == "KiB" || unit == "KB") return 1024;
  if (unit == "MB" || unit == "MiB") return 1024.0 * 1024;
  if (unit == "GB" || unit == "GiB") return 1024.0 * 1024 * 1024;
  if (unit == "TB" || unit == "TiB") return 1024.0 * 1024 * 1024 * 1024;
  FAIL("check_disk printed an unknown unit '" << unit << "'");
  return 0;
}

CheckDiskFigures parse_check_disk(const std::string& out, const std::string& mount) {
  CheckDiskFigures f;
  auto at = out.find("free space: " + mount + " ");
  REQUIRE(at != std::string::npos);
  unsigned long long free_units = 0;
  char unit[16] = {};
  int free_pct = 0, inode_pct = 0;
  const char* text = out.c_str() + at + 12 + mount.size() + 1;
  REQUIRE(std::sscanf(text, "%llu%15[A-Za-z] (%d%% inode=%d%%)", &free_units, unit, &free_pct,
                      &inode_pct) == 4);
  f.free_pct = free_pct;
  f.inode_free_pct = inode_pct;
  f.free_bytes = static_cast<double>(free_units) * unit_bytes(unit);
  auto perf = out.find("| " + mount + "=");
  REQUIRE(perf != std::string::npos);
  unsigned long long used = 0, total = 0;
  REQUIRE(std::sscanf(out.c_str() + perf + 3 + mount.size(), "%lluB;%*[^;];%*[^;];%*[^;];%llu",
                      &used, &total) == 2);
  f.used_bytes = static_cast<double>(used);
  f.total_bytes = static_cast<double>(total);
  return f;
}

}  // namespace

TEST_CASE("our disk numbers agree with check_disk within one percentage point", "[disk][nagios]") {
  if (!std::filesystem::exists(kCheckDisk)) {
    FAIL("monitoring-plugins is not installed: " << kCheckDisk
                                                 << " is missing (scripts/test.sh installs "
                                                    "monitoring-plugins-basic)");
  }
  // Every real filesystem our check finds by itself, plus /dev/shm (a tmpfs) when mounted.
  auto all = load_yaml("kind: disk\n");
  Result discovered = run_guarded(*all.check, RunContext(std::chrono::seconds(5)));
  std::set<std::string> mounts;
  for (const auto& m : discovered.metrics) {
    if (m.name == "used_pct") mounts.insert(m.labels.at("mount"));
  }
  REQUIRE(mounts.count("/") == 1);
  auto table = read_text_file("/proc/self/mounts");
  REQUIRE(table.ok());
  for (const auto& e : parse_mounts(*table)) {
    if (e.mount_point == "/dev/shm") mounts.insert(e.mount_point);
  }

  for (const auto& mount : mounts) {
    if (mount.find(' ') != std::string::npos) continue;  // check_disk's perfdata quotes these
    Program cd = run_program({kCheckDisk, "-w", "1%", "-c", "0%", "-p", mount});
    INFO("check_disk -p " << mount << ": " << cd.output);
    REQUIRE(cd.exit_code >= 0);
    REQUIRE(cd.exit_code <= 2);
    CheckDiskFigures theirs = parse_check_disk(cd.output, mount);

    auto def = load_yaml("kind: disk\nmounts: ['" + mount + "']\n");
    Result ours = run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
    INFO("ours: " << ours.summary);
    const Metric* used = find_metric(ours, "used_pct", mount);
    REQUIRE(used != nullptr);

    const double their_used_pct = 100.0 - theirs.free_pct;
    const double their_used_pct_exact =
        theirs.used_bytes + theirs.free_bytes == 0
            ? 0.0
            : 100.0 * theirs.used_bytes / (theirs.used_bytes + theirs.free_bytes);
    INFO("used %: ours " << used->value << ", check_disk " << their_used_pct << " (printed), "
                         << their_used_pct_exact << " (from its bytes)");
    CHECK(std::fabs(used->value - their_used_pct) <= 1.0);
    CHECK(std::fabs(used->value - their_used_pct_exact) <= 1.0);
    // check_disk truncates sizes to its unit (MiB).
    CHECK(std::fabs(find_metric(ours, "total_bytes", mount)->value - theirs.total_bytes) <
          1024.0 * 1024);
    const Metric* inodes = find_metric(ours, "inodes_used_pct", mount);
    if (inodes != nullptr) CHECK(std::fabs(inodes->value - (100.0 - theirs.inode_free_pct)) <= 1.0);
  }
}
