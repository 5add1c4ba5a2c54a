#include "xj/checks/memory_check.hpp"

#include <catch2/catch.hpp>

#include "host_checks_test_util.hpp"

using namespace xj;
using namespace xj::test;

namespace {

Result run_on(const std::string& fixture, const std::string& extra = "") {
  auto def = load_yaml("kind: memory\npath: " + fixture_path(fixture) + "\n" + extra);
  return run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
}

}  // namespace

TEST_CASE("meminfo values in kB become bytes and unit-less counts stay as written", "[memory]") {
  auto info = parse_meminfo(read_fixture("memory/meminfo_8g_3pct_available_swap_60pct.txt"));
  REQUIRE(info.ok());
  CHECK(info->at("MemTotal") == 8009272ull * 1024);
  CHECK(info->at("Active(anon)") == 6160928ull * 1024);
  CHECK(info->at("HugePages_Total") == 0);
  CHECK(info->at("Hugepagesize") == 2048ull * 1024);
  CHECK(info->at("VmallocTotal") == 34359738367ull * 1024);
}

TEST_CASE("text that is not meminfo is an error", "[memory]") {
  auto info = parse_meminfo("hello world\n: 12 kB\nMemTotal: lots\n");
  REQUIRE_FALSE(info.ok());
  CHECK(info.error() == "no 'Name: value kB' lines in meminfo text");
}

TEST_CASE("this VM's captured meminfo gives available memory and no swap", "[memory]") {
  auto u = compute_memory_usage(*parse_meminfo(read_fixture("memory/meminfo_24g_noswap.txt")));
  REQUIRE(u.ok());
  CHECK(u->total_bytes == 24684084ull * 1024);
  CHECK(u->available_bytes == 24259732ull * 1024);
  CHECK(u->available_pct == Approx(100.0 * 24259732 / 24684084));
  CHECK(u->swap_total_bytes == 0);
  CHECK(u->swap_used_pct == 0.0);
}

TEST_CASE("3% available memory is critical, and 60% swap used is reported as a warning value",
          "[memory]") {
  Result r = run_on("memory/meminfo_8g_3pct_available_swap_60pct.txt");
  INFO(r.summary);
  CHECK(r.status == Status::kCritical);
  const Metric* avail = find_metric(r, "available_pct");
  CHECK(avail->value == Approx(3.0).margin(0.001));
  CHECK(avail->evaluate() == Status::kCritical);
  CHECK(avail->crit->str() == "5:");  // lower is worse
  const Metric* swap = find_metric(r, "swap_used_pct");
  CHECK(swap->value == Approx(60.0));
  CHECK(swap->evaluate() == Status::kWarning);
  CHECK(find_metric(r, "swap_used_bytes")->value == (4194300.0 - 1677720.0) * 1024);
  CHECK(r.summary ==
        "memory 3.0% available (234.6 MiB of 7.6 GiB), swap 60.0% used (2.4 GiB of 4.0 GiB)");
}

TEST_CASE("available memory between crit and warn is a warning", "[memory]") {
  // 3% available against warn 4% / crit 2%; swap thresholds lifted out of the way.
  Result r = run_on("memory/meminfo_8g_3pct_available_swap_60pct.txt",
                    "warn: 4%\ncrit: 2%\nswap_warn: none\n");
  CHECK(r.status == Status::kWarning);
}

TEST_CASE("swap 95% used is critical even with plenty of memory available", "[memory]") {
  Result r = run_on("memory/meminfo_swap_nearly_full.txt");
  CHECK(r.status == Status::kCritical);
  CHECK(find_metric(r, "available_pct")->evaluate() == Status::kOk);
  CHECK(find_metric(r, "swap_used_pct")->value == Approx(95.0).margin(0.01));
}

TEST_CASE("a host without swap never alerts on swap, whatever the swap thresholds", "[memory]") {
  // "@0:100" alerts on any value at all: it would fire if it applied to a host without swap.
  Result r = run_on("memory/meminfo_24g_noswap.txt", "swap_warn: '@0:100'\nswap_crit: '@0:100'\n");
  INFO(r.summary);
  CHECK(r.status == Status::kOk);
  const Metric* swap = find_metric(r, "swap_used_pct");
  CHECK(swap->value == 0.0);
  CHECK_FALSE(swap->warn.has_value());
  CHECK_FALSE(swap->crit.has_value());
  CHECK(r.summary.find(", no swap") != std::string::npos);
}

TEST_CASE("meminfo without MemAvailable is unknown and says why", "[memory]") {
  Result r = run_on("memory/meminfo_centos6_2.6.32_no_memavailable.txt");
  CHECK(r.status == Status::kUnknown);
  CHECK(r.summary == fixture_path("memory/meminfo_centos6_2.6.32_no_memavailable.txt") +
                         ": MemAvailable is missing (kernel older than 3.14): available memory "
                         "cannot be told from free memory and caches reliably");
}

TEST_CASE("a missing meminfo file is unknown, naming the path", "[memory]") {
  auto def = load_yaml("kind: memory\npath: /nonexistent/meminfo\n");
  Result r = run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  CHECK(r.status == Status::kUnknown);
  CHECK(r.summary.find("/nonexistent/meminfo") != std::string::npos);
}

TEST_CASE("the memory check on this machine reports available memory", "[memory]") {
  auto def = load_yaml("kind: memory\n");
  CHECK(def.check->id() == "memory");
  Result r = run_guarded(*def.check, RunContext(std::chrono::seconds(5)));
  INFO(r.summary);
  REQUIRE(r.status != Status::kUnknown);
  REQUIRE(r.metrics.size() == 6);
  const Metric* avail = find_metric(r, "available_pct");
  CHECK(avail->value > 0.0);
  CHECK(avail->value <= 100.0);
  CHECK(avail->warn->str() == "10:");
  CHECK(find_metric(r, "total_bytes")->value > find_metric(r, "available_bytes")->value);
  CHECK(r.summary.rfind("memory ", 0) == 0);
}
