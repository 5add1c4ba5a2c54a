#include "xj/checks/memory_check.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <sstream>

#include "xj/checks/io_util.hpp"
#include "xj/checks/kinds.hpp"
#include "xj/common/duration.hpp"

namespace xj {

Expected<MemInfo> parse_meminfo(std::string_view text) {
  MemInfo info;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0) continue;
    std::istringstream rest(line.substr(colon + 1));
    std::uint64_t value = 0;
    std::string unit;
    if (!(rest >> value)) continue;
    rest >> unit;
    if (unit == "kB")
      value *= 1024;
    else if (!unit.empty())
      continue;  // a unit we do not know: better absent than wrong
    info[line.substr(0, colon)] = value;
  }
  if (info.empty()) return make_error("no 'Name: value kB' lines in meminfo text");
  return info;
}

Expected<MemoryUsage> compute_memory_usage(const MemInfo& info) {
  auto get = [&](const char* name) -> std::optional<std::uint64_t> {
    auto it = info.find(name);
    if (it == info.end()) return std::nullopt;
    return it->second;
  };
  auto total = get("MemTotal");
  if (!total || *total == 0) return make_error("MemTotal is missing or 0");
  auto available = get("MemAvailable");
  if (!available) {
    return make_error(
        "MemAvailable is missing (kernel older than 3.14): available memory "
        "cannot be told from free memory and caches reliably");
  }
  MemoryUsage u;
  u.total_bytes = *total;
  u.available_bytes = std::min(*available, *total);
  u.available_pct = 100.0 * static_cast<double>(u.available_bytes) / static_cast<double>(*total);
  u.swap_total_bytes = get("SwapTotal").value_or(0);
  const std::uint64_t swap_free = std::min(get("SwapFree").value_or(0), u.swap_total_bytes);
  u.swap_used_bytes = u.swap_total_bytes - swap_free;
  if (u.swap_total_bytes > 0) {
    u.swap_used_pct =
        100.0 * static_cast<double>(u.swap_used_bytes) / static_cast<double>(u.swap_total_bytes);
  }
  return u;
}

namespace {

class MemoryCheck : public Check {
 public:
  MemoryCheck(std::string id, const CheckOptions& o)
      : Check(std::move(id), "memory"),
        path_(o.str("path")),
        warn_(o.threshold("warn")),
        crit_(o.threshold("crit")),
        swap_warn_(o.threshold("swap_warn")),
        swap_crit_(o.threshold("swap_crit")),
        host_(o.env().host) {}

  Result run(const RunContext& ctx) override {
    auto text = read_host_file(host_.get(), path_, ctx);
    if (!text) return unknown(text.error());
    auto info = parse_meminfo(*text);
    if (!info) return unknown(path_ + ": " + info.error());
    auto u = compute_memory_usage(*info);
    if (!u) return unknown(path_ + ": " + u.error());

    Result r = make_result();
    const bool has_swap = u->swap_total_bytes > 0;
    auto metric = [](const char* name, double v, const char* unit,
                     std::optional<Range> warn = std::nullopt,
                     std::optional<Range> crit = std::nullopt) {
      return Metric{name, v, unit, {}, std::move(warn), std::move(crit)};
    };
    auto bytes = [&](const char* name, std::uint64_t v) {
      return metric(name, static_cast<double>(v), "B");
    };
    r.metrics = {
        metric("available_pct", u->available_pct, "%", warn_, crit_),
        bytes("available_bytes", u->available_bytes),
        bytes("total_bytes", u->total_bytes),
        // A host without swap cannot run out of it: no thresholds, so never an alert.
        metric("swap_used_pct", u->swap_used_pct, "%", has_swap ? swap_warn_ : std::nullopt,
               has_swap ? swap_crit_ : std::nullopt),
        bytes("swap_used_bytes", u->swap_used_bytes),
        bytes("swap_total_bytes", u->swap_total_bytes),
    };
    r.status = r.metrics_status();
    char buf[64];
    std::snprintf(buf, sizeof buf, "memory %.1f%% available (", u->available_pct);
    r.summary = buf + format_size(u->available_bytes) + " of " + format_size(u->total_bytes) + ")";
    if (has_swap) {
      std::snprintf(buf, sizeof buf, "swap %.1f%% used (", u->swap_used_pct);
      r.summary += std::string(", ") + buf + format_size(u->swap_used_bytes) + " of " +
                   format_size(u->swap_total_bytes) + ")";
    } else {
      r.summary += ", no swap";
    }
    return r;
  }

 private:
  std::string path_;
  std::optional<Range> warn_, crit_, swap_warn_, swap_crit_;
  std::shared_ptr<HostAccess> host_;  // null: this machine
};

}  // namespace

CheckSpec memory_check_spec() {
  CheckSpec s;
  s.kind = "memory";
  s.description =
      "Available memory (the kernel's `MemAvailable`: free memory plus what can be reclaimed "
      "without swapping) and swap use, from `/proc/meminfo`. Lower available is worse. A host "
      "without swap never alerts on swap. Kernels before 3.14 have no `MemAvailable`: the "
      "check is unknown there rather than guessing.";
  s.keys = {
      {"warn", KeyType::kThreshold, "10%", "available memory that is a warning", false,
       Direction::kLowerIsWorse, ValueUnit::kPercent},
      {"crit", KeyType::kThreshold, "5%", "available memory that is critical", false,
       Direction::kLowerIsWorse, ValueUnit::kPercent},
      {"swap_warn", KeyType::kThreshold, "50%", "swap used that is a warning", false,
       Direction::kHigherIsWorse, ValueUnit::kPercent},
      {"swap_crit", KeyType::kThreshold, "80%", "swap used that is critical", false,
       Direction::kHigherIsWorse, ValueUnit::kPercent},
      {"path", KeyType::kString, "/proc/meminfo", "file to read (tests point it at a fixture)"},
  };
  s.metrics = {
      {"available_pct", "%", "MemAvailable / MemTotal (thresholds apply)"},
      {"available_bytes", "B", "MemAvailable"},
      {"total_bytes", "B", "MemTotal"},
      {"swap_used_pct", "%", "swap used; 0 without swap (swap thresholds apply)"},
      {"swap_used_bytes", "B", "SwapTotal - SwapFree"},
      {"swap_total_bytes", "B", "SwapTotal"},
  };
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    return std::make_unique<MemoryCheck>(std::move(id), o);
  };
  s.remote = true;
  return s;
}

}  // namespace xj
