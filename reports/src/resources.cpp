// Per host: CPU busy (cpu usage_pct) and memory used (100 - memory available_pct) judged by
// their period averages, disks (disk used_pct per mount) by their use at the period's end;
// peaks are shown beside. A disk's growth is the least-squares slope of its daily last values;
// while it grows, days to full = (100 - fitted value at the last day) / slope.
#include <algorithm>
#include <cmath>
#include <map>

#include "detail/resources.hpp"

namespace xj::reports::detail {
namespace {

constexpr double kDayMs = 86'400'000.0;

struct Acc {
  double sum = 0, min = 0, max = 0, last = 0;
  std::int64_t count = 0, last_day = -1;
  std::vector<double> day_x, day_last;
  void add(const MetricDay& d) {
    if (count == 0 || d.min < min) min = d.min;
    if (count == 0 || d.max > max) max = d.max;
    sum += d.sum;
    count += d.count;
    if (d.day_ms > last_day) {
      last_day = d.day_ms;
      last = d.last;
    }
    day_x.push_back(static_cast<double>(d.day_ms));
    day_last.push_back(d.last);
  }
};

ResourceStat judge(std::optional<double> avg, std::optional<double> peak, std::optional<double> last,
                   std::optional<double> judged, double standard) {
  ResourceStat s;
  s.avg = avg;
  s.peak = peak;
  s.last = last;
  s.standard = standard;
  s.verdict = !judged ? Verdict::kNoData : *judged > standard ? Verdict::kAbnormal : Verdict::kNormal;
  return s;
}

std::string label(const Labels& l, const std::string& key) {
  auto it = l.find(key);
  return it == l.end() ? "" : it->second;
}

}  // namespace

std::optional<LinearFit> least_squares(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  if (n < 3 || y.size() != n) return std::nullopt;
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
  }
  if (sxx == 0) return std::nullopt;
  LinearFit f;
  f.slope = sxy / sxx;
  f.fitted_last = my + f.slope * (x[n - 1] - mx);
  return f;
}

const std::vector<std::string>& resource_kinds() {
  static const std::vector<std::string> k{"cpu", "memory", "disk"};
  return k;
}
const std::vector<std::string>& resource_metrics() {
  static const std::vector<std::string> m{"usage_pct", "available_pct", "used_pct"};
  return m;
}

std::vector<HostResources> compute_resources(const std::vector<MetricDay>& rows,
                                             const Standards& st) {
  // host -> series key -> accumulated days (rows come ordered by host, check, labels, day)
  struct Series {
    std::string check, metric, mount;
    Acc acc;
  };
  std::map<std::string, std::map<std::string, Series>> by_host;
  for (const auto& d : rows) {
    const bool cpu = d.kind == "cpu" && d.metric == "usage_pct";
    const bool mem = d.kind == "memory" && d.metric == "available_pct";
    const bool disk = d.kind == "disk" && d.metric == "used_pct";
    if (!cpu && !mem && !disk) continue;
    const std::string mount = label(d.labels, "mount");
    Series& s = by_host[d.host][d.kind + "\x1f" + d.check + "\x1f" + mount];
    s.check = d.check;
    s.metric = d.kind;
    s.mount = mount;
    s.acc.add(d);
  }
  std::vector<HostResources> out;
  for (auto& [host, series] : by_host) {
    HostResources hr;
    hr.host = host;
    hr.cpu.standard = st.cpu_pct;
    hr.memory.standard = st.memory_pct;
    bool have_cpu = false, have_mem = false;
    for (auto& [key, s] : series) {
      const Acc& a = s.acc;
      if (a.count == 0) continue;
      const double avg = a.sum / static_cast<double>(a.count);
      if (s.metric == "cpu" && !have_cpu) {
        hr.cpu = judge(avg, a.max, a.last, avg, st.cpu_pct);
        have_cpu = true;
      } else if (s.metric == "memory" && !have_mem) {
        hr.memory = judge(100 - avg, 100 - a.min, 100 - a.last, 100 - avg, st.memory_pct);
        have_mem = true;
      } else if (s.metric == "disk") {
        DiskStat ds;
        ds.check = s.check;
        ds.mount = s.mount;
        ds.used = judge(avg, a.max, a.last, a.last, st.disk_pct);
        ds.daily_last = a.day_last;
        std::vector<double> x;
        for (double ms : a.day_x) x.push_back(std::round((ms - a.day_x.front()) / kDayMs));
        if (auto fit = least_squares(x, a.day_last)) {
          ds.growth_pct_per_day = fit->slope;
          if (fit->slope > 1e-9) ds.days_to_full = std::max(0.0, (100 - fit->fitted_last) / fit->slope);
        }
        hr.disks.push_back(std::move(ds));
      }
    }
    out.push_back(std::move(hr));
  }
  return out;
}

}  // namespace xj::reports::detail
