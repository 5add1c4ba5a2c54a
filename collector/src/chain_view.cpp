#include "xj/collector/chain_view.hpp"

#include <spdlog/spdlog.h>

#include <set>

namespace xj {

ChainView::ChainView(Store& store, ChainViewConfig cfg, Clock clock)
    : store_(store), cfg_(std::move(cfg)), clock_(std::move(clock)) {}

void ChainView::on_batch(const IngestBatch& batch) {
  std::lock_guard lock(mu_);
  std::set<std::string> touched;
  for (const auto& sr : batch.results) {
    const Result& r = sr.result;
    if (!is_chain_node_kind(r.kind)) continue;
    const std::string chain = chain_of(r, batch.agent.labels);
    if (chain.empty()) continue;
    Group& g = groups_[chain];
    const std::string key = batch.agent.id + "\n" + r.check;
    auto it = g.members.find(key);
    // A backfilled result older than the member's latest one is history, not the present.
    if (it != g.members.end() && r.ts_ms <= it->second.ts_ms) continue;
    ChainMember m = chain_member_from(batch.agent.id, r, batch.agent.labels,
                                      it == g.members.end() ? nullptr : &it->second);
    // A check that moved to another chain leaves its old group.
    for (auto& [name, other] : groups_) {
      if (name != chain) other.members.erase(key);
    }
    g.members[key] = std::move(m);
    touched.insert(chain);
  }
  const std::int64_t now = clock_();
  for (const auto& chain : touched) maybe_emit(chain, groups_[chain], now);
}

std::size_t ChainView::sweep() {
  std::lock_guard lock(mu_);
  const std::int64_t now = clock_();
  std::size_t written = 0;
  for (auto& [chain, g] : groups_) {
    if (maybe_emit(chain, g, now)) ++written;
  }
  return written;
}

bool ChainView::maybe_emit(const std::string& chain, Group& g, std::int64_t now) {
  if (g.members.empty()) return false;
  std::vector<ChainMember> members;
  std::int64_t round = 0;
  for (const auto& [key, m] : g.members) {
    members.push_back(m);
    const std::int64_t interval = m.interval.ms() > 0 ? m.interval.ms() : cfg_.interval.count();
    round = round == 0 ? interval : std::min(round, interval);
  }
  Result r = evaluate_chain_group(chain, members, now, cfg_);
  // One result per round, or at once when the verdict changes. The 10 % slack keeps a member
  // that reports every round from just missing the round because of jitter.
  const bool changed = !g.written_status || *g.written_status != r.status;
  if (!changed && now - g.written_ms < round - round / 10) return false;

  IngestBatch batch;
  batch.agent.id = cfg_.host;
  batch.agent.hostname = cfg_.host;
  batch.agent.version = XJ_VERSION;
  batch.results.push_back({0, std::move(r)});
  batch.received_ms = now;
  batch.contact = false;
  auto outcome = store_.ingest(batch);
  if (!outcome) {
    spdlog::error("event=chain_view_store_failed chain={} error=\"{}\"", chain, outcome.error());
    return false;
  }
  const Result& stored = batch.results.front().result;
  if (changed) {
    spdlog::info("event=chain_status chain={} status={} summary=\"{}\"", chain, to_string(stored.status),
                 stored.summary);
  }
  g.written_status = stored.status;
  g.written_ms = now;
  if (on_recorded_) {
    // The alert rules take a subject's labels from its batch (routing, the message's system).
    // The store is given none: the collector's host row must not take one chain's labels.
    for (auto& [k, v] : stored.details["labels"].items()) batch.agent.labels[k] = v.get<std::string>();
    on_recorded_(batch);
  }
  return true;
}

}  // namespace xj
