#include "xj/collector/liveness.hpp"

#include <spdlog/spdlog.h>

#include <ctime>

#include "xj/common/duration.hpp"

namespace xj {

std::string format_local_time(std::int64_t epoch_ms) {
  std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z", &tm);
  return buf;
}

Liveness::Liveness(Store& store, std::chrono::milliseconds heartbeat, int missed, Clock clock)
    : store_(store), heartbeat_(heartbeat), missed_(missed), clock_(std::move(clock)), started_ms_(clock_()) {
  for (const auto& c : store_.checks(CheckFilter{})) {
    if (c.check == kCheckId) state_[c.host] = c.status;
  }
}

void Liveness::record(const AgentInfo& agent, Status status, const std::string& summary,
                      double silent_s) {
  Result r;
  r.check = kCheckId;
  r.kind = "alive";
  r.status = status;
  r.summary = summary;
  r.ts_ms = clock_();
  r.metrics.push_back({"silent_s", silent_s, "s", {}, std::nullopt, std::nullopt});
  IngestBatch batch;
  batch.agent = agent;
  batch.results.push_back({0, std::move(r)});
  batch.received_ms = clock_();
  batch.contact = false;
  auto outcome = store_.ingest(batch);
  if (!outcome) {
    spdlog::error("event=liveness_store_failed host={} error=\"{}\"", agent.id, outcome.error());
    return;
  }
  state_[agent.id] = status;
  if (on_recorded_) on_recorded_(batch);
  spdlog::info("event=host_{} host={} summary=\"{}\"", status == Status::kOk ? "up" : "down", agent.id,
               summary);
}

void Liveness::on_contact(const AgentInfo& agent) {
  std::lock_guard lock(mu_);
  auto it = state_.find(agent.id);
  if (it != state_.end() && it->second == Status::kOk) return;
  record(agent, Status::kOk,
         it == state_.end() ? "first contact from the agent" : "the agent is in contact again", 0);
}

std::size_t Liveness::sweep() {
  std::lock_guard lock(mu_);
  const std::int64_t now = clock_();
  const std::int64_t limit = heartbeat_.count() * missed_;
  std::size_t down = 0;
  if (now - started_ms_ <= limit) return 0;
  for (const auto& h : store_.hosts()) {
    // The collector's own results (chain:<name> under chains.host) have no agent to hear from.
    if (exempt_.count(h.agent.id) != 0) continue;
    // A host known only from collector-made results (an agentless target never reached) has
    // no contact at all: its silence counts from when it was first recorded.
    const bool never = h.last_contact_ms == 0;
    const std::int64_t since = never ? h.first_seen_ms : h.last_contact_ms;
    std::int64_t silent = now - since;
    if (silent <= limit) continue;
    auto it = state_.find(h.agent.id);
    if (it != state_.end() && it->second == Status::kCritical) continue;
    record(h.agent, Status::kCritical,
           (never ? "never in contact since it was first recorded at " : "no contact since ") +
               format_local_time(since) + " (" +
               format_duration(std::chrono::milliseconds(silent / 1000 * 1000)) + ", " +
               std::to_string(missed_) + " heartbeats of " + format_duration(heartbeat_) + " missed)",
           static_cast<double>(silent) / 1000.0);
    ++down;
  }
  return down;
}

}  // namespace xj
