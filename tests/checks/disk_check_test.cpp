// Pure parts of the disk check on fixture text, and the check on this machine's filesystems.
// Real mounts (a filled tmpfs, a hung FUSE mount) are in disk_mount_test.cpp; agreement with
// check_disk is in disk_check_disk_test.cpp.
#include "xj/checks/disk_check.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "host_checks_test_util.hpp"
#include "xj/common/config_error.hpp"

using namespace xj;
using namespace xj::test;

namespace {

// Thresholds no real filesystem crosses, for tests that assert which mounts are "ok": the root
// filesystem of the machine running the tests may well be over the default 80 %.
const std::string kNeverFull = "warn: 100%\ncrit: 100%\ninode_warn: 100%\ninode_crit: 100%\n";

std::vector<std::string> mount_points(const std::vector<MountEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.mount_point);
  return out;
}

}  // namespace

TEST_CASE("mount table escapes are undone: space, tab, newline and backslash", "[disk]") {
  CHECK(unescape_mount_field("/data/backup\\040disk") == "/data/backup disk");
  CHECK(unescape_mount_field("a\\011b\\012c\\134d") == "a\tb\nc\\d");
  // Not three octal digits: not an escape the kernel writes, so kept as it is.
  CHECK(unescape_mount_field("/srv/x\\04") == "/srv/x\\04");
  CHECK(unescape_mount_field("/srv/x\\089") == "/srv/x\\089");
  CHECK(unescape_mount_field("plain") == "plain");
}

TEST_CASE("a captured CentOS mount table parses, including mount points with spaces", "[disk]") {
  auto mounts = parse_mounts(read_fixture("disk/mounts_centos7_server.txt"));
  REQUIRE(mounts.size() == 31);
  CHECK(mounts[0].device == "rootfs");
  const MountEntry& backup = mounts[21];
  CHECK(backup.device == "/dev/sdb1");
  CHECK(backup.mount_point == "/data/backup disk");
  CHECK(backup.fs_type == "xfs");
  CHECK(backup.options == "rw,seclabel,relatime,attr2,inode64,noquota");
  CHECK(mounts[30].mount_point == "/mnt/remote logs");
  CHECK(mounts[30].fs_type == "fuse.sshfs");
}

TEST_CASE("blank and malformed mount lines are skipped and the rest still parse", "[disk]") {
  auto mounts = parse_mounts(read_fixture("disk/mounts_odd_escapes.txt"));
  REQUIRE(mounts.size() == 3);
  CHECK(mounts[0].mount_point == "/srv/odd\ttab\\back\nnewline");
  CHECK(mounts[1].mount_point == "/srv/trailing\\04");
  CHECK(mounts[2].mount_point == "/srv/no-options");
  CHECK(mounts[2].options.empty());
}

TEST_CASE("all real filesystems of a server skip pseudo types, ISOs, hidden and bind mounts",
          "[disk]") {
  auto real =
      select_real_filesystems(parse_mounts(read_fixture("disk/mounts_centos7_server.txt")), {});
  // rootfs, tmpfs, cgroup, autofs ... are pseudo; /mnt/cdrom is an ISO (always 100% full);
  // the vfat on /mnt/usb is hidden under a tmpfs; /dev/sdb1's bind mount is the same disk.
  CHECK(mount_points(real) == std::vector<std::string>{"/", "/boot", "/home", "/data/backup disk",
                                                       "/mnt/archive", "/mnt/remote logs"});
}

TEST_CASE("exclude_types skips more types, a trailing star matching a prefix", "[disk]") {
  auto mounts = parse_mounts(read_fixture("disk/mounts_centos7_server.txt"));
  auto real = select_real_filesystems(mounts, {"nfs4", "fuse.*"});
  CHECK(mount_points(real) == std::vector<std::string>{"/", "/boot", "/home", "/data/backup disk"});
  CHECK(select_real_filesystems(mounts, {"xfs", "nfs*", "fuse*"}).empty());
}

TEST_CASE("in a Docker container the host disk counts once, at its shortest bind mount", "[disk]") {
  auto real =
      select_real_filesystems(parse_mounts(read_fixture("disk/mounts_docker_container.txt")), {});
  CHECK(mount_points(real) == std::vector<std::string>{"/etc/hosts", "/var/lib/postgresql/data"});
}

TEST_CASE("on this VM's captured mount table only the root filesystem is real", "[disk]") {
  auto real =
      select_real_filesystems(parse_mounts(read_fixture("disk/mounts_firecracker_vm.txt")), {});
  REQUIRE(real.size() == 1);
  CHECK(real[0].mount_point == "/");
  CHECK(real[0].device == "/dev/vda");
}

TEST_CASE("used percent counts root's reserved blocks as unavailable, as df does", "[disk]") {
  // statvfs of this VM's root filesystem (stat -f /): a third of the free blocks are reserved.
  FsStats st{4096, 66053021, 61805913, 20837189, 16777216, 16349951};
  DiskUsage u = compute_disk_usage(st);
  const double used = 66053021.0 - 61805913.0;
  CHECK(u.used_pct == Approx(100.0 * used / (used + 20837189.0)));
  CHECK(u.used_pct == Approx(16.93).margin(0.01));  // not the 6.4 % of used / total
  CHECK(u.used_bytes == 4247108ull * 4096);
  CHECK(u.free_bytes == 20837189ull * 4096);
  CHECK(u.total_bytes == 66053021ull * 4096);
  REQUIRE(u.inodes_used_pct.has_value());
  CHECK(*u.inodes_used_pct == Approx(100.0 * (16777216 - 16349951) / 16777216.0));
}

TEST_CASE("a filesystem without fixed inodes has no inode percentage", "[disk]") {
  DiskUsage u = compute_disk_usage(FsStats{4096, 1000, 400, 300, 0, 0});
  CHECK_FALSE(u.inodes_used_pct.has_value());
  CHECK(u.used_pct == Approx(100.0 * 600 / 900));
}

TEST_CASE("an empty or inconsistent filesystem is 0 % used instead of dividing by zero", "[disk]") {
  CHECK(compute_disk_usage(FsStats{4096, 0, 0, 0, 0, 0}).used_pct == 0.0);
  DiskUsage odd = compute_disk_usage(FsStats{4096, 100, 150, 0, 10, 20});
  CHECK(odd.used_pct == 0.0);
  CHECK(odd.used_bytes == 0);
  CHECK(*odd.inodes_used_pct == 0.0);
}

TEST_CASE("the disk check on this machine measures the root filesystem", "[disk]") {
  auto def = load_yaml("kind: disk\n");
  CHECK(def.check->id() == "disk");
  Result r = run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  INFO(r.summary);
  CHECK((r.status == Status::kOk || r.status == Status::kWarning || r.status == Status::kCritical));
  const Metric* used = find_metric(r, "used_pct", "/");
  REQUIRE(used != nullptr);
  CHECK(used->value > 0);
  CHECK(used->value < 100);
  REQUIRE(used->warn.has_value());
  CHECK(used->warn->str() == "~:80");
  REQUIRE(find_metric(r, "free_bytes", "/") != nullptr);
  CHECK(find_metric(r, "total_bytes", "/")->value > find_metric(r, "free_bytes", "/")->value);
  CHECK(find_metric(r, "inodes_used_pct", "/") != nullptr);
  // Pseudo filesystems such as /proc and /sys never show up.
  CHECK(find_metric(r, "used_pct", "/proc") == nullptr);
  CHECK(find_metric(r, "used_pct", "/sys") == nullptr);
}

TEST_CASE("a configured mount that does not exist is critical and named in the summary", "[disk]") {
  auto def = load_yaml("kind: disk\nmounts: [/nonexistent-mount]\n");
  CHECK(def.check->id() == "disk:/nonexistent-mount");
  Result r = run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary == "/nonexistent-mount is not mounted: the path does not exist");
}

TEST_CASE("a configured directory that is not a mount point is critical: the disk is not mounted",
          "[disk]") {
  auto dir = std::filesystem::path(XJ_BINARY_DIR) / "disk-test-not-a-mount";
  std::filesystem::create_directories(dir);
  auto def = load_yaml("kind: disk\nmounts: [/, '" + dir.string() + "']\n" + kNeverFull);
  Result r = run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary == dir.string() +
                         " is not mounted: it is a plain directory on the filesystem above it; "
                         "the other 1 ok");
  // The mount that is there is still measured.
  CHECK(find_metric(r, "used_pct", "/") != nullptr);
  CHECK(find_metric(r, "used_pct", dir.string()) == nullptr);
}

TEST_CASE("a listed mount is matched with or without a trailing slash, pseudo or not", "[disk]") {
  auto def = load_yaml("kind: disk\nmounts: [/proc/]\n");
  CHECK(def.check->id() == "disk:/proc");
  Result r = run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  INFO(r.summary);
  CHECK(r.status == Status::kOk);
  REQUIRE(find_metric(r, "used_pct", "/proc") != nullptr);
  CHECK(r.summary.rfind("/proc 0.0% used", 0) == 0);
}

TEST_CASE("usage between warn and crit is a warning naming the mount and its free space",
          "[disk]") {
  auto probe = load_yaml("kind: disk\nmounts: [/]\n");
  Result first = run_guarded(*probe.check, RunContext(std::chrono::seconds(5)));
  const double used = find_metric(first, "used_pct", "/")->value;
  auto def = load_yaml("kind: disk\nmounts: [/]\nwarn: " + std::to_string(used - 2) +
                       "%\ncrit: " + std::to_string(used + 2) + "%\n");
  Result r = run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  CHECK(r.status == Status::kWarning);
  CHECK(r.summary.rfind("/ ", 0) == 0);
  CHECK(r.summary.find("% used (") != std::string::npos);
  CHECK(r.summary.find(" free of ") != std::string::npos);
}

TEST_CASE("inode usage over its own threshold alerts and the summary says inodes", "[disk]") {
  auto def = load_yaml("kind: disk\nmounts: [/]\ninode_crit: '0:0'\n");
  Result r = run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.find(", inodes ") != std::string::npos);
}

TEST_CASE("a real filesystem statvfs cannot reach is critical with the cause", "[disk]") {
  // A mount table listing a filesystem that is not there in this namespace (as a stale
  // entry would be): the error is reported, the root filesystem is still measured.
  auto table = std::filesystem::path(XJ_BINARY_DIR) / "disk-test-mounts.txt";
  std::ofstream(table) << "/dev/vda / ext4 rw 0 0\n"
                       << "proc /proc proc rw 0 0\n"
                       << "/dev/sdz1 /nonexistent-xj-data ext4 rw 0 0\n";
  auto def = load_yaml("kind: disk\nmount_table: " + table.string() + "\n" + kNeverFull);
  Result r = run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary ==
        "/nonexistent-xj-data cannot be measured: statvfs failed: No such file or directory; "
        "the other 1 ok");
  CHECK(find_metric(r, "used_pct", "/") != nullptr);
  CHECK(r.details["filesystems"].size() == 2);
}

TEST_CASE("a mount table with nothing real in it is unknown, saying so", "[disk]") {
  auto table = std::filesystem::path(XJ_BINARY_DIR) / "disk-test-pseudo-only.txt";
  std::ofstream(table) << "proc /proc proc rw 0 0\ntmpfs /run tmpfs rw 0 0\n";
  auto def = load_yaml("kind: disk\nmount_table: " + table.string() + "\n");
  Result r = run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  CHECK(r.status == Status::kUnknown);
  CHECK(r.summary == "no real filesystems in " + table.string() +
                         " (all 2 mounts are pseudo or excluded types)");
}

TEST_CASE("the default id names the mounts the check watches", "[disk]") {
  CHECK(load_yaml("kind: disk\n").check->id() == "disk");
  CHECK(load_yaml("kind: disk\nmounts: /data/\n").check->id() == "disk:/data");
  CHECK(load_yaml("kind: disk\nmounts: [/, /data]\n").check->id() == "disk:/,/data");
  CHECK(load_yaml("kind: disk\nid: disk-data\nmounts: [/data]\n").check->id() == "disk-data");
}

TEST_CASE("a relative or repeated mount is rejected at load naming the key and line", "[disk]") {
  CHECK(load_error("kind: disk\nmounts: [data]\n") ==
        "agent.yaml:2: checks[0] (disk): key 'mounts': 'data' is not an absolute path");
  CHECK(load_error("kind: disk\n\nmounts: [/data, /data/]\n") ==
        "agent.yaml:3: checks[0] (disk): key 'mounts': '/data' is listed twice");
  CHECK(load_error("kind: disk\nwarn: 120%\n").find("agent.yaml:2: checks[0] (disk): key 'warn'") ==
        0);
}
