#include "xj/agent/daemon.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <iostream>
#include <map>
#include <set>

#include "detail/log_text.hpp"
#include "xj/agent/agent_metrics.hpp"
#include "xj/agent/check_runner.hpp"
#include "xj/agent/config.hpp"
#include "xj/agent/scheduler.hpp"
#include "xj/agent/self_monitor.hpp"
#include "xj/agent/shipper_loop.hpp"
#include "xj/agent/spool.hpp"
#include "xj/common/config_error.hpp"
#include "xj/common/duration.hpp"
#include "xj/common/logging.hpp"

namespace xj {
namespace {

using detail::log_value;

// How long stragglers (checks that ignore their deadline) may keep their thread after every
// result is in before the agent exits without them.
constexpr std::chrono::seconds kStragglerGrace{2};
// Group commit of results: the longest a delivered result waits before its transaction, and
// the most results one transaction takes.
constexpr std::chrono::milliseconds kCommitDelay{100};
constexpr std::size_t kCommitBatch = 256;

bool collector_link_changed(const CollectorLink& a, const CollectorLink& b) {
  return a.url != b.url || a.token != b.token || a.ca_file != b.ca_file ||
         a.cert_file != b.cert_file || a.key_file != b.key_file || a.batch_size != b.batch_size ||
         a.batch_age != b.batch_age || a.heartbeat != b.heartbeat || a.timeout != b.timeout;
}

class Daemon {
 public:
  Daemon(AgentConfig cfg, AgentConfigOverrides overrides, std::unique_ptr<Spool> spool,
         std::unique_ptr<AgentMetrics> metrics)
      : cfg_(std::move(cfg)),
        overrides_(std::move(overrides)),
        spool_(std::move(spool)),
        metrics_(std::move(metrics)),
        runner_(io_, cfg_.threads),
        scheduler_(
            io_, runner_, cfg_.state_dir,
            {[this](const ScheduledCheck& sc, Result r, bool timed_out) {
               on_result(sc, std::move(r), timed_out);
             },
             [this](const ScheduledCheck& sc, std::uint64_t streak) { on_skipped(sc, streak); }}),
        monitor_(io_, scheduler_, metrics_.get(), cfg_.limits, {}),
        signals_(io_, SIGHUP, SIGTERM, SIGINT) {}

  int run() {
    spdlog::info(
        "event=agent_started version={} agent={} config={} checks={} spool={} "
        "spool_depth={} metrics={}",
        XJ_VERSION, log_value(cfg_.id), log_value(cfg_.file), cfg_.checks.size(),
        log_value(spool_->path().string()), spool_->depth(), metrics_address());
    metrics_->set_spool(spool_->depth(), spool_->dropped());
    apply_checks();
    apply_shipper();
    monitor_.start();
    wait_for_signal();
    io_.run();
    // Every result is in (bounded by the timeouts); give runs that overran a moment more.
    const auto grace_end = std::chrono::steady_clock::now() + kStragglerGrace;
    while (scheduler_.unreleased() > 0 && std::chrono::steady_clock::now() < grace_end) {
      io_.restart();
      io_.run_for(std::chrono::milliseconds(50));
    }
    if (scheduler_.unreleased() > 0) {
      // Joining the pool would wait on a check that ignores its deadline, possibly forever.
      spdlog::warn(
          "event=agent_stopped runs_still_going={} note=\"exiting without waiting for "
          "checks that overran their timeout\"",
          scheduler_.unreleased());
      commit_results();
      spool_.reset();
      spdlog::default_logger()->flush();
      std::_Exit(0);
    }
    commit_results();
    spdlog::info("event=agent_stopped spool_depth={}", spool_->depth());
    return 0;
  }

 private:
  std::string metrics_address() const {
    if (metrics_->port() == 0) return "off";
    auto host = cfg_.metrics_listen.substr(0, cfg_.metrics_listen.rfind(':'));
    return host + ":" + std::to_string(metrics_->port());
  }

  // (Re)starts shipping with the current collector settings; none configured = keep spooling.
  void apply_shipper() {
    shipper_.reset();
    if (cfg_.collector.url.empty()) {
      spdlog::warn(
          "event=no_collector note=\"no collector section: results are kept in the spool only\"");
      return;
    }
    shipper_ = std::make_unique<ShipperLoop>(*spool_, cfg_, metrics_.get());
    shipper_->start();
  }

  void apply_checks() {
    std::set<std::string> ids;
    for (const auto& sc : cfg_.checks) {
      ids.insert(sc.check->id());
      metrics_->set_interval(sc.check->id(), sc.check->kind(),
                             std::chrono::duration<double>(sc.interval).count());
    }
    metrics_->retain_checks(ids);
    std::erase_if(last_status_, [&](const auto& kv) { return !ids.count(kv.first); });
    scheduler_.start(cfg_.checks, cfg_.labels);
  }

  void on_result(const ScheduledCheck& sc, Result r, bool timed_out) {
    const std::string& id = sc.check->id();
    metrics_->observe(id, sc.check->kind(), r, timed_out);
    spdlog::debug("event=check_result check={} kind={} status={} duration_ms={} summary={}",
                  log_value(id), sc.check->kind(), to_string(r.status), r.duration_ms,
                  log_value(r.summary));
    auto it = last_status_.find(id);
    if (it == last_status_.end() || it->second != r.status) {
      spdlog::info("event=status_change check={} from={} to={} summary={}", log_value(id),
                   it == last_status_.end() ? "none" : to_string(it->second), to_string(r.status),
                   log_value(r.summary));
      last_status_[id] = r.status;
    }
    unspooled_.push_back(std::move(r));
    if (unspooled_.size() >= kCommitBatch) return commit_results();
    if (commit_armed_) return;
    commit_armed_ = true;
    commit_timer_.expires_after(kCommitDelay);
    commit_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) commit_results();
    });
  }

  // Group commit: the results of one round (see scheduler.hpp) come within milliseconds of
  // each other and go to the spool in one transaction, one fsync, at most kCommitDelay after
  // the first of them; stopping commits what is waiting. If the batch fails, each result is
  // tried alone, so one that cannot be stored does not take the others with it.
  void commit_results() {
    commit_armed_ = false;
    commit_timer_.cancel();
    if (unspooled_.empty()) return;
    std::vector<Result> batch = std::exchange(unspooled_, {});
    if (auto s = spool_->append_batch(batch); s) {
      metrics_->spool_committed();
    } else {
      for (const Result& r : batch) {
        if (auto one = spool_->append(r); one) {
          metrics_->spool_committed();
        } else {
          metrics_->spool_write_failed();
          spdlog::error("event=spool_write_failed check={} error={}", log_value(r.check),
                        log_value(one.error()));
        }
      }
    }
    if (shipper_) shipper_->notify();
    metrics_->set_spool(spool_->depth(), spool_->dropped());
  }

  void on_skipped(const ScheduledCheck& sc, std::uint64_t streak) {
    metrics_->skipped(sc.check->id(), sc.check->kind());
    if (streak == 1) {
      spdlog::warn(
          "event=check_skipped check={} interval={} timeout={} note=\"previous run still "
          "going; skipping until it returns\"",
          log_value(sc.check->id()), format_duration(sc.interval), format_duration(sc.timeout));
    }
  }

  void wait_for_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      if (signo == SIGHUP) {
        if (!stopping_) reload();
        wait_for_signal();
        return;
      }
      shutdown(signo);
    });
  }

  void reload() {
    // First the log file: logrotate (or an administrator) may have moved it away.
    if (auto err = reopen_log_file(); !err.empty()) {
      spdlog::error("event=log_reopen_failed error={}", log_value(err));
    }
    spdlog::info("event=reload config={}", log_value(cfg_.file));
    AgentConfig next;
    try {
      next = load_agent_config(cfg_.file, overrides_);
    } catch (const std::exception& e) {
      spdlog::error("event=reload_failed error={} action=\"keeping the running config\"",
                    log_value(e.what()));
      return;
    }
    auto restart_only = [&](const char* key, const std::string& old, const std::string& now) {
      if (old != now) {
        spdlog::warn(
            "event=reload_partial key={} running={} configured={} note=\"takes effect "
            "after a restart\"",
            key, log_value(old), log_value(now));
      }
    };
    restart_only("state_dir", cfg_.state_dir.string(), next.state_dir.string());
    restart_only("metrics_listen", cfg_.metrics_listen, next.metrics_listen);
    restart_only("threads", std::to_string(cfg_.threads), std::to_string(next.threads));
    next.state_dir = cfg_.state_dir;
    next.metrics_listen = cfg_.metrics_listen;
    next.threads = cfg_.threads;
    if (auto err = setup_logging(next.log_level, next.log_file); !err.empty()) {
      spdlog::error("event=log_file_failed error={} action=\"keeping the current log\"",
                    log_value(err));
    }
    monitor_.set_limits(next.limits);
    const bool link_changed = collector_link_changed(cfg_.collector, next.collector) ||
                              cfg_.id != next.id || cfg_.labels != next.labels;
    cfg_ = std::move(next);
    apply_checks();
    if (link_changed) apply_shipper();
    spdlog::info("event=config_reloaded agent={} checks={}", log_value(cfg_.id),
                 cfg_.checks.size());
  }

  void shutdown(int signo) {
    if (stopping_) return;
    stopping_ = true;
    spdlog::info("event=agent_stopping signal={} runs_in_progress={}",
                 signo == SIGINT ? "SIGINT" : "SIGTERM", scheduler_.undelivered());
    monitor_.stop();
    scheduler_.stop([this] {
      commit_results();
      shipper_.reset();  // stops; whatever is unsent stays in the spool for the next start
      signals_.cancel();
      io_.stop();
    });
    wait_for_signal();  // a second SIGTERM is absorbed; the timeouts bound the wait anyway
  }

  AgentConfig cfg_;
  AgentConfigOverrides overrides_;
  boost::asio::io_context io_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<AgentMetrics> metrics_;
  CheckRunner runner_;  // after io_: its threads post to io_ until joined
  Scheduler scheduler_;
  SelfMonitor monitor_;
  boost::asio::signal_set signals_;
  std::unique_ptr<ShipperLoop> shipper_;
  std::map<std::string, Status> last_status_;
  std::vector<Result> unspooled_;  // delivered, waiting for the group commit
  boost::asio::steady_timer commit_timer_{io_};
  bool commit_armed_ = false;
  bool stopping_ = false;
};

}  // namespace

int run_agent(const std::string& config_path, const AgentConfigOverrides& overrides) {
  AgentConfig cfg;
  try {
    cfg = load_agent_config(config_path, overrides);
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {  // a loader bug must still say which file
    std::cerr << config_path << ": " << e.what() << "\n";
    return 2;
  }
  if (auto err = setup_logging(cfg.log_level, cfg.log_file); !err.empty()) {
    std::cerr << cfg.file << ": agent.log_file: " << err << "\n";
    return 1;
  }
  SpoolOptions spool_options;
  spool_options.max_bytes = cfg.spool_max_bytes;
  spool_options.max_rows = cfg.spool_max_rows;
  auto spool = Spool::open(cfg.state_dir, spool_options);
  if (!spool) {
    spdlog::critical("event=agent_failed error={}", log_value(spool.error()));
    return 1;
  }
  auto metrics = AgentMetrics::start(cfg.metrics_listen);
  if (!metrics) {
    spdlog::critical("event=agent_failed error={}", log_value(metrics.error()));
    return 1;
  }
  // civetweb writes to scrapers that may have gone; a dead socket must not kill the agent.
  std::signal(SIGPIPE, SIG_IGN);
  Daemon daemon(std::move(cfg), overrides, std::move(spool).value(), std::move(metrics).value());
  return daemon.run();
}

}  // namespace xj
