#include "xj/checks/load_check.hpp"

#include <cstdio>
#include <sstream>

#include "xj/checks/io_util.hpp"
#include "xj/checks/kinds.hpp"

namespace xj {

Expected<LoadAverage> parse_loadavg(std::string_view text) {
  std::istringstream in{std::string(text)};
  LoadAverage la;
  if (!(in >> la.load1 >> la.load5 >> la.load15)) {
    return make_error("unexpected /proc/loadavg format: '" + std::string(text.substr(0, 60)) + "'");
  }
  return la;
}

namespace {

class LoadCheck : public Check {
 public:
  LoadCheck(std::string id, const CheckOptions& o)
      : Check(std::move(id), "load"),
        path_(o.str("path")),
        warn_(o.threshold("warn")),
        crit_(o.threshold("crit")),
        host_(o.env().host) {}

  Result run(const RunContext& ctx) override {
    auto text = read_host_file(host_.get(), path_, ctx);
    if (!text) return unknown(text.error());
    auto la = parse_loadavg(*text);
    if (!la) return unknown(la.error());
    auto counted = host_cpu_count(host_.get(), ctx);
    if (!counted) return unknown(counted.error());
    const int cores = *counted;
    Result r = make_result();
    auto add = [&](const char* name, double v, bool with_thresholds) {
      Metric m{name, v, "", {}, std::nullopt, std::nullopt};
      if (with_thresholds) {
        m.warn = warn_;
        m.crit = crit_;
      }
      r.metrics.push_back(std::move(m));
    };
    add("load1", la->load1, false);
    add("load5", la->load5, false);
    add("load15", la->load15, false);
    add("load1_per_core", la->load1 / cores, false);
    add("load5_per_core", la->load5 / cores, true);
    add("load15_per_core", la->load15 / cores, false);
    add("cores", cores, false);
    r.status = r.metrics_status();
    char buf[160];
    std::snprintf(buf, sizeof buf, "load %.2f %.2f %.2f on %d cores (%.2f per core over 5m)",
                  la->load1, la->load5, la->load15, cores, la->load5 / cores);
    r.summary = buf;
    return r;
  }

 private:
  std::string path_;
  std::optional<Range> warn_, crit_;
  std::shared_ptr<HostAccess> host_;  // null: this machine
};

}  // namespace

CheckSpec load_check_spec() {
  CheckSpec s;
  s.kind = "load";
  s.description = "System load averages from `/proc/loadavg`, divided by the number of online CPU "
                  "cores. Thresholds apply to the 5-minute load per core.";
  s.keys = {
      {"warn", KeyType::kThreshold, "2", "5-minute load per core that is a warning", false,
       Direction::kHigherIsWorse, ValueUnit::kNumber},
      {"crit", KeyType::kThreshold, "4", "5-minute load per core that is critical", false,
       Direction::kHigherIsWorse, ValueUnit::kNumber},
      {"path", KeyType::kString, "/proc/loadavg", "file to read (tests point it at a fixture)"},
  };
  s.metrics = {
      {"load1", "", "1-minute load average"},
      {"load5", "", "5-minute load average"},
      {"load15", "", "15-minute load average"},
      {"load1_per_core", "", "1-minute load average per core"},
      {"load5_per_core", "", "5-minute load average per core (thresholds apply)"},
      {"load15_per_core", "", "15-minute load average per core"},
      {"cores", "", "online CPU cores"},
  };
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    return std::make_unique<LoadCheck>(std::move(id), o);
  };
  s.remote = true;
  return s;
}

}  // namespace xj
