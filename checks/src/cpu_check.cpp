#include "xj/checks/cpu_check.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <sstream>
#include <thread>

#include "xj/checks/io_util.hpp"
#include "xj/checks/kinds.hpp"
#include "xj/common/duration.hpp"

namespace xj {

Expected<CpuTimes> parse_proc_stat_cpu(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("cpu ", 0) != 0) continue;
    std::istringstream fields(line.substr(4));
    std::uint64_t v[10] = {};
    int n = 0;
    while (n < 10 && fields >> v[n]) ++n;
    if (n < 4) {
      return make_error("unexpected 'cpu' line in /proc/stat: '" + line.substr(0, 80) +
                        "' (expected at least 4 counters)");
    }
    return CpuTimes{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]};
  }
  return make_error("no aggregate 'cpu' line in /proc/stat text");
}

CpuUsage compute_cpu_usage(const CpuTimes& before, const CpuTimes& after) {
  auto delta = [](std::uint64_t a, std::uint64_t b) { return b > a ? b - a : 0; };
  const std::uint64_t d[8] = {
      delta(before.user, after.user),       delta(before.nice, after.nice),
      delta(before.system, after.system),   delta(before.idle, after.idle),
      delta(before.iowait, after.iowait),   delta(before.irq, after.irq),
      delta(before.softirq, after.softirq), delta(before.steal, after.steal)};
  CpuUsage u;
  for (auto x : d) u.total_ticks += x;
  if (u.total_ticks == 0) return u;
  auto pct = [&](std::uint64_t x) {
    return 100.0 * static_cast<double>(x) / static_cast<double>(u.total_ticks);
  };
  u.user_pct = pct(d[0]);
  u.nice_pct = pct(d[1]);
  u.system_pct = pct(d[2]);
  u.idle_pct = pct(d[3]);
  u.iowait_pct = pct(d[4]);
  u.irq_pct = pct(d[5]);
  u.softirq_pct = pct(d[6]);
  u.steal_pct = pct(d[7]);
  u.usage_pct = std::max(0.0, 100.0 - u.idle_pct - u.iowait_pct);
  return u;
}

namespace {

using Clock = std::chrono::steady_clock;

// How long the first run waits for a second sample: long enough for a few hundred ticks on
// a small machine, short enough that `check --once` stays quick.
constexpr std::chrono::milliseconds kFirstSampleGap{250};

std::string interval_text(Clock::duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d);
  if (ms < std::chrono::seconds(1)) return format_duration(ms);
  return format_duration(std::chrono::round<std::chrono::seconds>(ms));
}

class CpuCheck : public Check {
 public:
  CpuCheck(std::string id, const CheckOptions& o)
      : Check(std::move(id), "cpu"),
        path_(o.str("path")),
        warn_(o.threshold("warn")),
        crit_(o.threshold("crit")),
        iowait_warn_(o.threshold("iowait_warn")),
        iowait_crit_(o.threshold("iowait_crit")),
        host_(o.env().host) {}

  Result run(const RunContext& ctx) override {
    auto now = sample(ctx);
    if (!now) return unknown(now.error());
    auto taken = Clock::now();
    if (!previous_) {
      // No earlier run to measure against: take a second sample shortly after the first.
      auto gap = std::min<Clock::duration>(kFirstSampleGap, ctx.remaining() / 2);
      if (gap > Clock::duration::zero()) std::this_thread::sleep_for(gap);
      previous_ = *now;
      previous_at_ = taken;
      now = sample(ctx);
      if (!now) return unknown(now.error());
      taken = Clock::now();
    }
    const CpuUsage u = compute_cpu_usage(*previous_, *now);
    const auto interval = taken - previous_at_;
    previous_ = *now;
    previous_at_ = taken;
    if (u.total_ticks == 0) {
      return unknown("CPU counters in " + path_ + " did not advance over " +
                     interval_text(interval));
    }

    Result r = make_result();
    auto pct = [](const char* name, double v, std::optional<Range> warn = std::nullopt,
                  std::optional<Range> crit = std::nullopt) {
      return Metric{name, v, "%", {}, std::move(warn), std::move(crit)};
    };
    r.metrics = {
        pct("usage_pct", u.usage_pct, warn_, crit_),
        pct("user_pct", u.user_pct),
        pct("nice_pct", u.nice_pct),
        pct("system_pct", u.system_pct),
        pct("idle_pct", u.idle_pct),
        pct("iowait_pct", u.iowait_pct, iowait_warn_, iowait_crit_),
        pct("irq_pct", u.irq_pct),
        pct("softirq_pct", u.softirq_pct),
        pct("steal_pct", u.steal_pct),
    };
    r.status = r.metrics_status();
    r.details["interval_ms"] =
        std::chrono::duration_cast<std::chrono::milliseconds>(interval).count();
    r.details["ticks"] = u.total_ticks;
    auto cores = host_cpu_count(host_.get(), ctx);
    if (!cores) return unknown(cores.error());
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "CPU %.1f%% busy over %s (user %.1f%%, system %.1f%%, iowait %.1f%%, steal "
                  "%.1f%%) on %d cores",
                  u.usage_pct, interval_text(interval).c_str(), u.user_pct, u.system_pct,
                  u.iowait_pct, u.steal_pct, *cores);
    r.summary = buf;
    return r;
  }

 private:
  Expected<CpuTimes> sample(const RunContext& ctx) const {
    auto text = read_host_file(host_.get(), path_, ctx);
    if (!text) return make_error(text.error());
    auto t = parse_proc_stat_cpu(*text);
    if (!t) return make_error(path_ + ": " + t.error());
    return t;
  }

  std::string path_;
  std::optional<Range> warn_, crit_, iowait_warn_, iowait_crit_;
  // The sample of the previous run: utilisation is measured over the interval between runs.
  std::optional<CpuTimes> previous_;
  Clock::time_point previous_at_;
  std::shared_ptr<HostAccess> host_;  // null: this machine
};

}  // namespace

CheckSpec cpu_check_spec() {
  CheckSpec s;
  s.kind = "cpu";
  s.description =
      "CPU utilisation of all cores over the interval since the previous run, per mode, from "
      "`/proc/stat`. The first run compares two samples taken 250 ms apart. Busy (`usage_pct`) "
      "is everything but idle and iowait. iowait is time idle CPUs spent waiting for storage: "
      "above 20 % of all CPU time for a whole interval the disks, not the CPUs, are the "
      "bottleneck, hence the separate default warning.";
  s.keys = {
      {"warn", KeyType::kThreshold, "85%", "CPU busy that is a warning", false,
       Direction::kHigherIsWorse, ValueUnit::kPercent},
      {"crit", KeyType::kThreshold, "95%", "CPU busy that is critical", false,
       Direction::kHigherIsWorse, ValueUnit::kPercent},
      {"iowait_warn", KeyType::kThreshold, "20%", "iowait share that is a warning", false,
       Direction::kHigherIsWorse, ValueUnit::kPercent},
      {"iowait_crit", KeyType::kThreshold, "", "iowait share that is critical (off by default)",
       false, Direction::kHigherIsWorse, ValueUnit::kPercent},
      {"path", KeyType::kString, "/proc/stat", "file to read (tests point it at a fixture)"},
  };
  s.metrics = {
      {"usage_pct", "%", "CPU busy: 100 - idle - iowait (thresholds apply)"},
      {"user_pct", "%", "user mode, without nice"},
      {"nice_pct", "%", "user mode at lowered priority"},
      {"system_pct", "%", "kernel mode, without interrupts"},
      {"idle_pct", "%", "idle"},
      {"iowait_pct", "%", "idle while waiting for I/O (iowait thresholds apply)"},
      {"irq_pct", "%", "hardware interrupts"},
      {"softirq_pct", "%", "software interrupts"},
      {"steal_pct", "%", "time the hypervisor gave this VM's CPUs to someone else"},
  };
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    return std::make_unique<CpuCheck>(std::move(id), o);
  };
  s.remote = true;
  return s;
}

}  // namespace xj
