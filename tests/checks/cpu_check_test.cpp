#include "xj/checks/cpu_check.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "host_checks_test_util.hpp"

using namespace xj;
using namespace xj::test;

namespace {

CpuTimes fixture_times(const std::string& name) {
  auto t = parse_proc_stat_cpu(read_fixture(name));
  REQUIRE(t.ok());
  return *t;
}

// A stat file the test rewrites between runs, as the kernel would.
struct StatFile {
  std::string path;
  explicit StatFile(const std::string& name)
      : path(std::string(XJ_BINARY_DIR) + "/cpu-test-" + name + ".txt") {}
  void show(const std::string& fixture) const { std::ofstream(path) << read_fixture(fixture); }
};

}  // namespace

TEST_CASE("the aggregate cpu line parses with its steal and guest columns", "[cpu]") {
  CpuTimes t = fixture_times("cpu/stat_kvm_steal_guest_before.txt");
  CHECK(t.user == 1000);
  CHECK(t.nice == 100);
  CHECK(t.system == 500);
  CHECK(t.idle == 8000);
  CHECK(t.iowait == 200);
  CHECK(t.irq == 10);
  CHECK(t.softirq == 40);
  CHECK(t.steal == 150);
  CHECK(t.guest == 300);
  CHECK(t.guest_nice == 0);
}

TEST_CASE("a 2.6.18 kernel's seven-column cpu line parses with steal and guest as zero", "[cpu]") {
  CpuTimes t = fixture_times("cpu/stat_rhel5_2.6.18_seven_columns.txt");
  CHECK(t.user == 2255);
  CHECK(t.idle == 22625563);
  CHECK(t.softirq == 456);
  CHECK(t.steal == 0);
  CHECK(t.guest == 0);
}

TEST_CASE("this VM's captured /proc/stat parses from the aggregate line, not cpu0", "[cpu]") {
  CpuTimes t = fixture_times("cpu/stat_2core_vm.txt");
  CHECK(t.user == 24649);
  CHECK(t.system == 3440);
  CHECK(t.idle == 82049);
  CHECK(t.steal == 48);
}

TEST_CASE("stat text without a usable aggregate cpu line is an error saying what is wrong",
          "[cpu]") {
  auto none = parse_proc_stat_cpu(read_fixture("cpu/stat_no_aggregate_line.txt"));
  REQUIRE_FALSE(none.ok());
  CHECK(none.error() == "no aggregate 'cpu' line in /proc/stat text");
  auto short_line = parse_proc_stat_cpu(read_fixture("cpu/stat_truncated_cpu_line.txt"));
  REQUIRE_FALSE(short_line.ok());
  CHECK(short_line.error() ==
        "unexpected 'cpu' line in /proc/stat: 'cpu  50000 0 10000' (expected at least 4 counters)");
}

TEST_CASE("per-mode shares come from the deltas, and guest time is not counted twice", "[cpu]") {
  CpuUsage u = compute_cpu_usage(fixture_times("cpu/stat_kvm_steal_guest_before.txt"),
                                 fixture_times("cpu/stat_kvm_steal_guest_after.txt"));
  // Deltas: user 600, nice 0, system 300, idle 600, iowait 200, irq 10, softirq 40, steal 100;
  // guest +200 is already inside user.
  REQUIRE(u.total_ticks == 1850);
  CHECK(u.user_pct == Approx(100.0 * 600 / 1850));
  CHECK(u.system_pct == Approx(100.0 * 300 / 1850));
  CHECK(u.idle_pct == Approx(100.0 * 600 / 1850));
  CHECK(u.iowait_pct == Approx(100.0 * 200 / 1850));
  CHECK(u.irq_pct == Approx(100.0 * 10 / 1850));
  CHECK(u.softirq_pct == Approx(100.0 * 40 / 1850));
  CHECK(u.steal_pct == Approx(100.0 * 100 / 1850));
  CHECK(u.usage_pct == Approx(100.0 - 100.0 * 800 / 1850));
}

TEST_CASE("counters that did not move give zero ticks instead of dividing by zero", "[cpu]") {
  CpuTimes t = fixture_times("cpu/stat_busy_before.txt");
  CpuUsage u = compute_cpu_usage(t, t);
  CHECK(u.total_ticks == 0);
  CHECK(u.usage_pct == 0.0);
  CHECK(u.idle_pct == 0.0);
}

TEST_CASE("a counter that went backwards counts as zero, not as a huge wrapped delta", "[cpu]") {
  CpuTimes before{100, 0, 100, 1000, 500, 0, 0, 0, 0, 0};
  CpuTimes after{200, 0, 150, 1100, 400, 0, 0, 0, 0, 0};  // iowait fell (NO_HZ kernels do this)
  CpuUsage u = compute_cpu_usage(before, after);
  CHECK(u.total_ticks == 250);
  CHECK(u.iowait_pct == 0.0);
  CHECK(u.usage_pct == Approx(60.0));
}

TEST_CASE("the first run on this machine takes a second sample and reports utilisation", "[cpu]") {
  auto def = load_yaml("kind: cpu\n");
  CHECK(def.check->id() == "cpu");
  Result r = run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  INFO(r.summary);
  REQUIRE(r.status != Status::kUnknown);
  CHECK(r.duration_ms >= 200);
  REQUIRE(r.metrics.size() == 9);
  double modes = 0;
  for (const auto& m : r.metrics) {
    CHECK(m.value >= 0.0);
    CHECK(m.value <= 100.0);
    if (m.name != "usage_pct") modes += m.value;
  }
  CHECK(modes == Approx(100.0).margin(0.01));
  CHECK(find_metric(r, "usage_pct")->crit->str() == "~:95");
  CHECK(find_metric(r, "iowait_pct")->warn->str() == "~:20");
  CHECK(r.summary.rfind("CPU ", 0) == 0);
  CHECK(r.summary.find("% busy over 2") != std::string::npos);  // ~250ms
  CHECK(r.summary.find("ms (user ") != std::string::npos);
}

TEST_CASE("later runs measure over the time since the previous run", "[cpu]") {
  auto def = load_yaml("kind: cpu\n");
  (void)run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  Result r = run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  REQUIRE(r.status != Status::kUnknown);
  CHECK(r.duration_ms < 100);  // no second sample needed
  CHECK(r.details["interval_ms"].get<long>() >= 600);
}

TEST_CASE("an interval with the CPUs 98% busy is critical", "[cpu]") {
  StatFile stat("busy");
  stat.show("cpu/stat_busy_before.txt");
  auto def = load_yaml("kind: cpu\npath: " + stat.path + "\n");
  Result first = run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  // A file that does not change between the two samples cannot give a rate.
  CHECK(first.status == Status::kUnknown);
  CHECK(first.summary.rfind("CPU counters in " + stat.path + " did not advance over 2", 0) == 0);
  stat.show("cpu/stat_busy_after.txt");
  Result r = run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  INFO(r.summary);
  CHECK(r.status == Status::kCritical);
  CHECK(find_metric(r, "usage_pct")->value == Approx(97.8));
  CHECK(r.summary.rfind("CPU 97.8% busy over ", 0) == 0);
}

TEST_CASE("iowait above 20% is a warning even when the CPUs are mostly idle", "[cpu]") {
  StatFile stat("iowait");
  stat.show("cpu/stat_busy_before.txt");
  auto def = load_yaml("kind: cpu\npath: " + stat.path + "\n");
  (void)run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  stat.show("cpu/stat_iowait_after.txt");
  Result r = run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  INFO(r.summary);
  CHECK(r.status == Status::kWarning);
  CHECK(find_metric(r, "usage_pct")->value < 30.0);
  CHECK(find_metric(r, "iowait_pct")->value == Approx(100.0 * 3000 / 5500));
  CHECK(r.summary.find("iowait 54.5%") != std::string::npos);
}

TEST_CASE("iowait_crit turns a heavy iowait interval critical when configured", "[cpu]") {
  StatFile stat("iowait-crit");
  stat.show("cpu/stat_busy_before.txt");
  auto def = load_yaml("kind: cpu\npath: " + stat.path + "\niowait_crit: 50%\n");
  (void)run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  stat.show("cpu/stat_iowait_after.txt");
  CHECK(run_guarded(*def.check, RunContext(std::chrono::seconds(5))).status == Status::kCritical);
}

TEST_CASE("a missing stat file is unknown, naming the path", "[cpu]") {
  auto def = load_yaml("kind: cpu\npath: /nonexistent/stat\n");
  Result r = run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  CHECK(r.status == Status::kUnknown);
  CHECK(r.summary.find("/nonexistent/stat") != std::string::npos);
}
