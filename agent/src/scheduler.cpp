#include "xj/agent/scheduler.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <random>

#include "xj/agent/check_runner.hpp"

namespace xj {

using Clock = std::chrono::steady_clock;

struct Scheduler::Impl : std::enable_shared_from_this<Impl> {
  struct Entry {
    Entry(boost::asio::io_context& io, ScheduledCheck check) : timer(io), sc(std::move(check)) {}
    boost::asio::steady_timer timer;
    ScheduledCheck sc;
    nlohmann::json labels;  // null: same as the agent's, nothing to add
    bool active = true;
    std::uint64_t generation = 0;  // a wait that completes after a re-arm is stale
    std::optional<Clock::time_point> last_start;
    std::uint64_t skip_streak = 0;
    CheckRunStats stats;
  };
  using EntryPtr = std::shared_ptr<Entry>;

  Impl(boost::asio::io_context& io_, CheckRunner& runner_, std::filesystem::path dir, Hooks h,
       SchedulerOptions o)
      : io(io_),
        runner(runner_),
        state_dir(std::move(dir)),
        hooks(std::move(h)),
        options(o),
        rng(o.seed ? *o.seed : std::random_device{}()) {}

  boost::asio::io_context& io;
  CheckRunner& runner;
  std::filesystem::path state_dir;
  Hooks hooks;
  SchedulerOptions options;
  std::mt19937_64 rng;
  std::vector<EntryPtr> entries;
  std::map<std::string, int> busy;  // check id -> runs holding a thread, across start() calls
  std::size_t undelivered = 0;
  std::size_t unreleased = 0;
  std::function<void()> on_stopped;
  bool dead = false;  // the Scheduler is gone: late completions are ignored

  std::chrono::milliseconds period(const Entry& e) const { return e.sc.interval * e.stats.backoff; }

  void arm(const EntryPtr& e, Clock::time_point at) {
    e->timer.expires_at(at);
    const std::uint64_t gen = ++e->generation;
    e->timer.async_wait([self = shared_from_this(), e, gen](const boost::system::error_code& ec) {
      if (ec || !e->active || self->dead || gen != e->generation) return;
      self->tick(e);
    });
  }

  void tick(const EntryPtr& e) {
    const auto now = Clock::now();
    const auto due = e->timer.expiry();
    e->last_start = due;
    // Start to start; after a stall (suspend, overloaded box) resync instead of bursting.
    auto next = due + period(*e);
    if (next <= now) next = now + period(*e);
    arm(e, next);
    if (busy.count(e->sc.check->id()) > 0) {
      ++e->stats.skipped;
      ++e->skip_streak;
      if (hooks.skipped) hooks.skipped(e->sc, e->skip_streak);
      return;
    }
    e->skip_streak = 0;
    submit(e, round_of(due));
  }

  // Checks started together share their due time to the tick, so it names their round.
  static std::uint64_t round_of(Clock::time_point due) {
    return static_cast<std::uint64_t>(due.time_since_epoch().count()) | 1;
  }

  void submit(const EntryPtr& e, std::uint64_t round) {
    const std::string id = e->sc.check->id();
    ++busy[id];
    ++undelivered;
    ++unreleased;
    auto self = shared_from_this();
    runner.submit(
        e->sc.check, e->sc.timeout, state_dir,
        [self, e](Result r, bool timed_out) { self->deliver(e, std::move(r), timed_out); },
        [self, id]() {
          if (--self->busy[id] <= 0) self->busy.erase(id);
          --self->unreleased;
        },
        round);
  }

  void deliver(const EntryPtr& e, Result r, bool timed_out) {
    --undelivered;
    if (dead) return;
    CheckRunStats& s = e->stats;
    ++s.runs;
    if (r.status == Status::kUnknown) ++s.failures;
    if (timed_out) ++s.timeouts;
    const auto d = static_cast<double>(r.duration_ms);
    s.avg_duration_ms = s.runs == 1 ? d : 0.7 * s.avg_duration_ms + 0.3 * d;
    if (!e->labels.is_null()) {
      if (!r.details.is_object()) r.details = nlohmann::json::object();
      r.details["labels"] = e->labels;
    }
    if (hooks.result) hooks.result(e->sc, std::move(r), timed_out);
    maybe_stopped();
  }

  void maybe_stopped() {
    if (on_stopped && undelivered == 0) {
      boost::asio::post(io, std::exchange(on_stopped, nullptr));
    }
  }

  void deactivate_all() {
    for (auto& e : entries) {
      e->active = false;
      e->timer.cancel();
    }
    entries.clear();
  }
};

Scheduler::Scheduler(boost::asio::io_context& io, CheckRunner& runner,
                     std::filesystem::path state_dir, Hooks hooks, SchedulerOptions options)
    : impl_(std::make_shared<Impl>(io, runner, std::move(state_dir), std::move(hooks), options)) {}

Scheduler::~Scheduler() {
  impl_->deactivate_all();
  impl_->dead = true;
  impl_->hooks = {};
  impl_->on_stopped = nullptr;
}

void Scheduler::start(std::vector<ScheduledCheck> checks, const Labels& agent_labels) {
  impl_->deactivate_all();
  impl_->on_stopped = nullptr;
  const auto now = Clock::now();
  std::map<std::chrono::milliseconds::rep, std::int64_t> phase;  // interval -> splay, ms
  for (auto& sc : checks) {
    auto e = std::make_shared<Impl::Entry>(impl_->io, std::move(sc));
    if (e->sc.labels != agent_labels) e->labels = e->sc.labels;
    e->stats.id = e->sc.check->id();
    e->stats.kind = e->sc.check->kind();
    e->stats.interval = e->sc.interval;
    auto [it, fresh] = phase.try_emplace(e->sc.interval.count(), 0);
    if (fresh) {
      const auto splay_max = std::min(e->sc.interval, impl_->options.max_splay).count();
      std::uniform_int_distribution<std::int64_t> splay(0,
                                                        std::max<std::int64_t>(splay_max - 1, 0));
      it->second = splay(impl_->rng);
    }
    impl_->entries.push_back(e);
    impl_->arm(e, now + std::chrono::milliseconds(it->second));
  }
}

void Scheduler::stop(std::function<void()> on_stopped) {
  impl_->deactivate_all();
  impl_->on_stopped = std::move(on_stopped);
  impl_->maybe_stopped();
}

bool Scheduler::set_backoff(const std::string& id, int factor) {
  factor = std::clamp(factor, 1, 8);
  for (auto& e : impl_->entries) {
    if (e->sc.check->id() != id) continue;
    if (e->stats.backoff == factor) return true;
    e->stats.backoff = factor;
    // Re-arm from the last start so the new interval applies to the pending tick too; before
    // the first run the splay stands.
    if (e->last_start) {
      impl_->arm(e, std::max(*e->last_start + impl_->period(*e), Clock::now()));
    }
    return true;
  }
  return false;
}

std::vector<CheckRunStats> Scheduler::stats() const {
  std::vector<CheckRunStats> out;
  for (const auto& e : impl_->entries) out.push_back(e->stats);
  return out;
}

std::size_t Scheduler::undelivered() const { return impl_->undelivered; }
std::size_t Scheduler::unreleased() const { return impl_->unreleased; }

}  // namespace xj
