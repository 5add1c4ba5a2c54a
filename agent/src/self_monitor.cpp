#include "xj/agent/self_monitor.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <charconv>

#include "detail/log_text.hpp"
#include "xj/agent/agent_metrics.hpp"
#include "xj/checks/io_util.hpp"
#include "xj/checks/process_check.hpp"
#include "xj/common/duration.hpp"

namespace xj {

using Clock = std::chrono::steady_clock;

Expected<std::uint64_t> parse_vm_rss(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.substr(0, 6) != "VmRSS:") continue;
    std::string_view rest = line.substr(6);
    rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    std::string_view unit(end, static_cast<std::size_t>(rest.data() + rest.size() - end));
    unit.remove_prefix(std::min(unit.find_first_not_of(" \t"), unit.size()));
    if (ec != std::errc() || end == rest.data() || unit != "kB") {
      return make_error("unexpected VmRSS line: '" + std::string(line) + "'");
    }
    return value * 1024;
  }
  return make_error("no VmRSS line (a kernel thread, or not a status file)");
}

// The process check's parser of the same file (the comm read up to the last ')').
Expected<CpuTicks> parse_stat_cpu_ticks(std::string_view text) {
  auto st = parse_proc_stat(text);
  if (!st) return Error{st.error()};
  return CpuTicks{st->utime_ticks, st->stime_ticks};
}

void CpuWindow::add(Clock::time_point t, double cpu_seconds) {
  samples_.emplace_back(t, cpu_seconds);
  // Keep one sample at or before the window's start, so the average spans the whole window.
  while (samples_.size() > 2 && samples_[1].first <= t - window_) samples_.pop_front();
}

double CpuWindow::average_pct() const {
  if (samples_.size() < 2) return 0;
  const auto& [t0, c0] = samples_.front();
  const auto& [t1, c1] = samples_.back();
  const double wall = std::chrono::duration<double>(t1 - t0).count();
  if (wall <= 0) return 0;
  return 100.0 * (c1 - c0) / wall;
}

std::optional<std::string> pick_backoff(const std::vector<CheckRunStats>& checks, int max_factor) {
  const CheckRunStats* best = nullptr;
  for (const auto& c : checks) {
    if (c.backoff >= max_factor) continue;
    if (!best || c.avg_duration_ms > best->avg_duration_ms) best = &c;
  }
  if (!best) return std::nullopt;
  return best->id;
}

std::optional<std::string> pick_restore(const std::vector<CheckRunStats>& checks) {
  const CheckRunStats* best = nullptr;
  for (const auto& c : checks) {
    if (c.backoff <= 1) continue;
    if (!best || c.backoff > best->backoff ||
        (c.backoff == best->backoff && c.avg_duration_ms < best->avg_duration_ms)) {
      best = &c;
    }
  }
  if (!best) return std::nullopt;
  return best->id;
}

LimitDecision SelfLimiter::evaluate(Clock::time_point now, const SelfUsage& usage,
                                    const std::vector<CheckRunStats>& checks) {
  LimitDecision d;
  if (usage.rss_bytes > limits_.max_rss_bytes) d.exceeded.push_back("rss");
  if (usage.cpu_pct > limits_.max_cpu_pct) d.exceeded.push_back("cpu");
  auto factor_of = [&](const std::string& id) {
    for (const auto& c : checks) {
      if (c.id == id) return c.backoff;
    }
    return 1;
  };
  if (!d.exceeded.empty()) {
    d.episode_started = !over_;
    over_ = true;
    calm_since_.reset();
    if (!last_backoff_ || now - *last_backoff_ >= options_.backoff_every) {
      if (auto id = pick_backoff(checks, options_.max_factor)) {
        d.backoff = {{*id, std::min(factor_of(*id) * 2, options_.max_factor)}};
        last_backoff_ = now;
      }
    }
    return d;
  }
  d.episode_ended = over_;
  over_ = false;
  if (!calm_since_) calm_since_ = now;
  if (now - *calm_since_ >= options_.restore_after) {
    if (auto id = pick_restore(checks)) {
      d.restore = {{*id, factor_of(*id) / 2}};
      calm_since_ = now;  // the next step waits another full period
    }
  }
  return d;
}

struct SelfMonitor::Impl : std::enable_shared_from_this<Impl> {
  Impl(boost::asio::io_context& io, Scheduler& s, AgentMetrics* m, AgentLimits limits, Options o)
      : timer(io),
        scheduler(s),
        metrics(m),
        limiter(limits, o.limiter),
        options(std::move(o)),
        limits(limits) {}

  boost::asio::steady_timer timer;
  Scheduler& scheduler;
  AgentMetrics* metrics;
  SelfLimiter limiter;
  Options options;
  AgentLimits limits;
  CpuWindow cpu;
  const std::filesystem::path status_path = options.proc_self / "status";
  const std::filesystem::path stat_path = options.proc_self / "stat";
  bool running = false;
  bool read_error_logged = false;

  void arm() {
    timer.expires_after(options.period);
    // A wait that already completed when stop() ran is not cancelled: hence the weak_ptr.
    timer.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || !self->running) return;
      self->tick();
      self->arm();
    });
  }

  Expected<SelfUsage> sample() {
    auto status = read_text_file(status_path);
    if (!status) return Error{status.error()};
    auto rss = parse_vm_rss(*status);
    if (!rss) return make_error(status_path.string() + ": " + rss.error());
    auto stat = read_text_file(stat_path);
    if (!stat) return Error{stat.error()};
    auto ticks = parse_stat_cpu_ticks(*stat);
    if (!ticks) return make_error(stat_path.string() + ": " + ticks.error());
    static const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
    const double cpu_seconds = static_cast<double>(ticks->utime + ticks->stime) / hz;
    cpu.add(Clock::now(), cpu_seconds);
    if (metrics) metrics->set_process(*rss, cpu_seconds);
    return SelfUsage{*rss, cpu.average_pct()};
  }

  void tick() {
    auto usage = sample();
    if (!usage) {
      if (!read_error_logged)
        spdlog::warn("event=self_monitor_error error={}", detail::log_value(usage.error()));
      read_error_logged = true;
      return;
    }
    read_error_logged = false;
    LimitDecision d = limiter.evaluate(Clock::now(), *usage, scheduler.stats());
    for (const auto& res : d.exceeded) {
      if (metrics) metrics->limit_exceeded(res);
    }
    if (d.episode_started) {
      spdlog::warn(
          "event=self_limit_exceeded rss_bytes={} max_rss_bytes={} cpu_pct={:.2f} "
          "max_cpu_pct={:.2f} action=\"backing off the most expensive check\"",
          usage->rss_bytes, limits.max_rss_bytes, usage->cpu_pct, limits.max_cpu_pct);
    }
    if (d.episode_ended) {
      spdlog::info("event=self_limit_ok rss_bytes={} cpu_pct={:.2f}", usage->rss_bytes,
                   usage->cpu_pct);
    }
    if (d.backoff) apply(d.backoff->first, d.backoff->second, "self_limit_backoff");
    if (d.restore) apply(d.restore->first, d.restore->second, "self_limit_restore");
  }

  void apply(const std::string& id, int factor, const char* event) {
    if (!scheduler.set_backoff(id, factor)) return;
    for (const auto& s : scheduler.stats()) {
      if (s.id != id) continue;
      const auto interval = s.interval * factor;
      const bool backing_off = std::string_view(event) == "self_limit_backoff";
      spdlog::log(backing_off ? spdlog::level::warn : spdlog::level::info,
                  "event={} check={} factor={} interval={} avg_duration_ms={:.0f}", event, id,
                  factor, format_duration(interval), s.avg_duration_ms);
      if (metrics) {
        metrics->set_interval(id, s.kind, std::chrono::duration<double>(interval).count());
      }
    }
  }
};

SelfMonitor::SelfMonitor(boost::asio::io_context& io, Scheduler& scheduler, AgentMetrics* metrics,
                         AgentLimits limits, Options options)
    : impl_(std::make_shared<Impl>(io, scheduler, metrics, limits, std::move(options))) {}

SelfMonitor::~SelfMonitor() { stop(); }

void SelfMonitor::start() {
  impl_->running = true;
  impl_->tick();
  impl_->arm();
}

void SelfMonitor::stop() {
  impl_->running = false;
  impl_->timer.cancel();
}

void SelfMonitor::set_limits(AgentLimits limits) {
  impl_->limits = limits;
  impl_->limiter.set_limits(limits);
}

Expected<SelfUsage> SelfMonitor::sample() { return impl_->sample(); }

}  // namespace xj
