#include <spdlog/spdlog.h>

#include "xj/collector/collector_metrics.hpp"
#include "xj/collector/ssh_targets.hpp"
#include "xj/common/duration.hpp"

namespace xj {

using Clock = std::chrono::steady_clock;

struct SshPoller::TargetState {
  explicit TargetState(SshTarget t) : target(std::move(t)) {}
  SshTarget target;
  Clock::time_point next_due = Clock::now();
  bool busy = false;              // queued or in a round; guarded by the poller's mutex
  std::int64_t next_seq = 0;      // 0: not yet looked up in the store
};

SshPoller::SshPoller(Store& store, SshConfig config, AfterIngest after, CollectorMetrics* metrics)
    : store_(store), workers_(config.workers), after_(std::move(after)), metrics_(metrics) {
  for (auto& t : config.targets) targets_.push_back(std::make_unique<TargetState>(std::move(t)));
}

SshPoller::~SshPoller() { stop(); }

void SshPoller::start() {
  if (targets_.empty() || !threads_.empty()) return;
  stopping_ = false;
  const std::size_t n = std::min(workers_, targets_.size());
  for (std::size_t i = 0; i < n; ++i) threads_.emplace_back([this] { worker_loop(); });
  threads_.emplace_back([this] { schedule_loop(); });
}

void SshPoller::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void SshPoller::schedule_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto now = Clock::now();
    auto next = now + std::chrono::seconds(1);
    for (std::size_t i = 0; i < targets_.size(); ++i) {
      TargetState& s = *targets_[i];
      if (s.busy) continue;
      if (s.next_due <= now) {
        s.busy = true;
        s.next_due = now + s.target.interval;
        queue_.push_back(i);
        cv_.notify_all();
      }
      next = std::min(next, s.next_due);
    }
    cv_.wait_until(lock, next, [&] { return stopping_; });
  }
}

void SshPoller::worker_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    const std::size_t i = queue_.front();
    queue_.erase(queue_.begin());
    lock.unlock();
    auto outcome = run_round(i);
    if (!outcome) {
      spdlog::error("event=ssh_round_not_stored target={} error=\"{}\"", targets_[i]->target.id,
                    outcome.error());
    }
    lock.lock();
    targets_[i]->busy = false;
    cv_.notify_all();  // the scheduler may be waiting for this target
  }
}

Expected<IngestOutcome> SshPoller::run_round(std::size_t i) {
  TargetState& s = *targets_.at(i);
  const SshTarget& t = s.target;
  SshHost& host = *t.host;
  const SshOptions& o = host.options();

  IngestBatch batch;
  batch.agent = {t.id, o.host, std::string("ssh ") + XJ_VERSION, t.labels};
  if (s.next_seq == 0) {
    // The first round after a start continues after the highest seq stored for this host, so
    // a restarted collector's results are never taken for duplicates of the last run's.
    IngestBatch probe{batch.agent, {}, {}, now_epoch_ms(), false};
    auto stored = store_.ingest(probe);
    if (!stored) return make_error("cannot read the stored seqs: " + stored.error());
    s.next_seq = stored->ack_seq + 1;
  }

  Result session;
  session.check = kSshSessionCheck;
  session.kind = "ssh";
  session.ts_ms = now_epoch_ms();
  const auto started = Clock::now();
  auto opened = host.open_session();
  session.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  session.details = {{"host", o.host}, {"port", o.port}, {"user", o.user}};
  std::vector<Result> results;
  if (!opened) {
    const SshError& e = opened.failure();
    static const char* kFailure[] = {"unreachable", "host_key", "auth", "local"};
    session.status = e.failure == SshFailure::kLocal ? Status::kUnknown : Status::kCritical;
    session.summary = e.message;
    session.details["failure"] = kFailure[static_cast<int>(e.failure)];
    session.metrics.push_back({"up", 0, "", {}, std::nullopt, Range::below(1)});
    for (const auto& c : t.checks) {
      Result r = unknown_result(c.check->id(), c.check->kind(),
                                "not measured: the SSH session to " + t.id + " failed");
      r.ts_ms = session.ts_ms;
      results.push_back(std::move(r));
    }
    batch.contact = false;
    spdlog::warn("event=ssh_session_failed target={} failure={} error=\"{}\"", t.id,
                 kFailure[static_cast<int>(e.failure)], e.message);
  } else {
    const SshSessionInfo& info = *opened;
    session.status = info.host_key_known ? Status::kOk : Status::kWarning;
    session.summary = "connected to " + o.user + "@" + o.host + ":" + std::to_string(o.port) +
                      " by " + info.auth_method + " in " + format_duration(info.connect_time) +
                      ", host key " + info.host_key_type + " " + info.host_key_fingerprint +
                      (info.host_key_known ? "" : " (NOT in known_hosts; accepted because "
                                                  "strict_host_key is off)");
    session.details["host_key"] = {{"type", info.host_key_type},
                                   {"fingerprint", info.host_key_fingerprint},
                                   {"known", info.host_key_known}};
    session.metrics.push_back({"up", 1, "", {}, std::nullopt, Range::below(1)});
    session.metrics.push_back({"connect_ms", static_cast<double>(info.connect_time.count()), "ms",
                               {}, std::nullopt, std::nullopt});
    for (const auto& c : t.checks) results.push_back(run_guarded(*c.check, RunContext(c.timeout)));
    host.close_session();
    batch.contact = true;
  }
  if (metrics_) metrics_->count_ssh_round(t.id, opened ? "connected" : session.details["failure"].get<std::string>());

  batch.received_ms = now_epoch_ms();
  batch.results.push_back({s.next_seq++, std::move(session)});
  for (auto& r : results) batch.results.push_back({s.next_seq++, std::move(r)});
  auto outcome = store_.ingest(batch);
  if (!outcome) return make_error(outcome.error());
  if (after_) after_(batch, *outcome);
  return outcome;
}

}  // namespace xj
