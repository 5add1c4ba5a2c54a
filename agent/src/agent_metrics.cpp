#include "xj/agent/agent_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace xj {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;

struct AgentMetrics::Families {
  explicit Families(prometheus::Registry& r)
      : status(BuildGauge()
                   .Name("xunjian_check_status")
                   .Help("Last status of the check: 0 ok, 1 warning, 2 critical, 3 unknown")
                   .Register(r)),
        duration(BuildGauge()
                     .Name("xunjian_check_duration_seconds")
                     .Help("Duration of the check's last run")
                     .Register(r)),
        interval(BuildGauge()
                     .Name("xunjian_check_interval_seconds")
                     .Help("Effective interval of the check, self-limit backoff included")
                     .Register(r)),
        runs(BuildCounter().Name("xunjian_check_runs_total").Help("Completed runs").Register(r)),
        failures(BuildCounter()
                     .Name("xunjian_check_failures_total")
                     .Help("Runs that could not measure (status unknown), timeouts included")
                     .Register(r)),
        timeouts(BuildCounter()
                     .Name("xunjian_check_timeouts_total")
                     .Help("Runs that did not finish within their timeout")
                     .Register(r)),
        skipped(BuildCounter()
                    .Name("xunjian_check_skipped_total")
                    .Help("Scheduled runs skipped because the previous run was still going")
                    .Register(r)),
        spool_depth(BuildGauge()
                        .Name("xunjian_spool_depth")
                        .Help("Results in the spool not yet acknowledged by the collector")
                        .Register(r)
                        .Add({})),
        spool_dropped(BuildCounter()
                          .Name("xunjian_spool_dropped_total")
                          .Help("Results deleted unshipped because the spool was full")
                          .Register(r)
                          .Add({})),
        spool_errors(BuildCounter()
                         .Name("xunjian_spool_write_errors_total")
                         .Help("Results that could not be written to the spool")
                         .Register(r)
                         .Add({})),
        spool_commits(BuildCounter()
                          .Name("xunjian_spool_commits_total")
                          .Help("Transactions that stored results in the spool: one per round of "
                                "checks, each with its fsync")
                          .Register(r)
                          .Add({})),
        shipped(BuildCounter()
                    .Name("xunjian_ship_results_total")
                    .Help("Results acknowledged by the collector and removed from the spool")
                    .Register(r)
                    .Add({})),
        ship_failures(BuildCounter()
                          .Name("xunjian_ship_failures_total")
                          .Help("Attempts to ship to the collector that failed and will be retried")
                          .Register(r)
                          .Add({})),
        quarantined(BuildCounter()
                        .Name("xunjian_ship_quarantined_total")
                        .Help("Results the collector refused, kept in the spool's quarantine")
                        .Register(r)
                        .Add({})),
        rss(BuildGauge()
                .Name("xunjian_agent_rss_bytes")
                .Help("Resident memory of the agent process")
                .Register(r)
                .Add({})),
        cpu(BuildCounter()
                .Name("xunjian_agent_cpu_seconds_total")
                .Help("CPU time (user + system) used by the agent process")
                .Register(r)
                .Add({})),
        limit(BuildCounter()
                  .Name("xunjian_agent_limit_exceeded_total")
                  .Help("Self-monitor samples (every 10 s) that found the agent over a limit")
                  .Register(r)) {}

  Family<Gauge>& status;
  Family<Gauge>& duration;
  Family<Gauge>& interval;
  Family<Counter>& runs;
  Family<Counter>& failures;
  Family<Counter>& timeouts;
  Family<Counter>& skipped;
  Gauge& spool_depth;
  Counter& spool_dropped;
  Counter& spool_errors;
  Counter& spool_commits;
  Counter& shipped;
  Counter& ship_failures;
  Counter& quarantined;
  Gauge& rss;
  Counter& cpu;
  Family<Counter>& limit;
};

struct AgentMetrics::CheckSeries {
  CheckSeries(Families& f, const prometheus::Labels& l)
      : labels(l),
        status(f.status.Add(l)),
        duration(f.duration.Add(l)),
        interval(f.interval.Add(l)),
        runs(f.runs.Add(l)),
        failures(f.failures.Add(l)),
        timeouts(f.timeouts.Add(l)),
        skipped(f.skipped.Add(l)) {}

  void remove(Families& f) {
    f.status.Remove(&status);
    f.duration.Remove(&duration);
    f.interval.Remove(&interval);
    f.runs.Remove(&runs);
    f.failures.Remove(&failures);
    f.timeouts.Remove(&timeouts);
    f.skipped.Remove(&skipped);
  }

  prometheus::Labels labels;
  Gauge& status;
  Gauge& duration;
  Gauge& interval;
  Counter& runs;
  Counter& failures;
  Counter& timeouts;
  Counter& skipped;
};

AgentMetrics::AgentMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      f_(std::make_unique<Families>(*registry_)) {}

AgentMetrics::~AgentMetrics() {
  // Stop serving before the metrics a scrape could be reading go away.
  exposer_.reset();
}

Expected<std::unique_ptr<AgentMetrics>> AgentMetrics::start(const std::string& listen) {
  std::unique_ptr<AgentMetrics> m(new AgentMetrics());
  if (listen.empty()) return m;
  try {
    // One civetweb worker: scrapes are rare and each thread costs memory on a tiny budget.
    m->exposer_ = std::make_unique<prometheus::Exposer>(listen, 1);
  } catch (const std::exception& e) {
    // civetweb says only "possible problem binding to port"; name the likely causes.
    return make_error("metrics: cannot listen on '" + listen +
                      "' (port already in use, or not a local host:port): " + e.what());
  }
  m->exposer_->RegisterCollectable(m->registry_);
  auto ports = m->exposer_->GetListeningPorts();
  if (ports.empty()) return make_error("metrics: no listening port for '" + listen + "'");
  m->port_ = ports.front();
  return m;
}

AgentMetrics::CheckSeries& AgentMetrics::series(const std::string& check, const std::string& kind) {
  auto it = checks_.find(check);
  if (it == checks_.end() || it->second->labels.at("kind") != kind) {
    if (it != checks_.end()) it->second->remove(*f_);
    auto s =
        std::make_unique<CheckSeries>(*f_, prometheus::Labels{{"check", check}, {"kind", kind}});
    it = checks_.insert_or_assign(check, std::move(s)).first;
  }
  return *it->second;
}

void AgentMetrics::observe(const std::string& check, const std::string& kind, const Result& r,
                           bool timed_out) {
  auto& s = series(check, kind);
  s.status.Set(code_of(r.status));
  s.duration.Set(static_cast<double>(r.duration_ms) / 1000.0);
  s.runs.Increment();
  if (r.status == Status::kUnknown) s.failures.Increment();
  if (timed_out) s.timeouts.Increment();
}

void AgentMetrics::skipped(const std::string& check, const std::string& kind) {
  series(check, kind).skipped.Increment();
}

void AgentMetrics::set_interval(const std::string& check, const std::string& kind, double seconds) {
  series(check, kind).interval.Set(seconds);
}

void AgentMetrics::retain_checks(const std::set<std::string>& checks) {
  for (auto it = checks_.begin(); it != checks_.end();) {
    if (checks.count(it->first)) {
      ++it;
    } else {
      it->second->remove(*f_);
      it = checks_.erase(it);
    }
  }
}

void AgentMetrics::set_spool(std::uint64_t depth, std::uint64_t dropped_total) {
  f_->spool_depth.Set(static_cast<double>(depth));
  if (dropped_total > dropped_seen_) {
    f_->spool_dropped.Increment(static_cast<double>(dropped_total - dropped_seen_));
    dropped_seen_ = dropped_total;
  }
}

void AgentMetrics::spool_write_failed() { f_->spool_errors.Increment(); }
void AgentMetrics::spool_committed() { f_->spool_commits.Increment(); }

void AgentMetrics::shipped(std::size_t results) { f_->shipped.Increment(static_cast<double>(results)); }
void AgentMetrics::ship_failed() { f_->ship_failures.Increment(); }
void AgentMetrics::quarantined() { f_->quarantined.Increment(); }

void AgentMetrics::set_process(std::uint64_t rss_bytes, double cpu_seconds_total) {
  f_->rss.Set(static_cast<double>(rss_bytes));
  if (cpu_seconds_total > cpu_seen_) {
    f_->cpu.Increment(cpu_seconds_total - cpu_seen_);
    cpu_seen_ = cpu_seconds_total;
  }
}

void AgentMetrics::limit_exceeded(const std::string& resource) {
  f_->limit.Add({{"resource", resource}}).Increment();
}

}  // namespace xj
