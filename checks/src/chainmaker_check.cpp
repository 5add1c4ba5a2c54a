// `chainmaker`: a ChainMaker (长安链) node through the Prometheus /metrics of its monitor
// port. Its RPC is gRPC with mutual TLS, so /metrics is the way in for an agent.
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>

#include "chain_options.hpp"
#include "xj/checks/fisco_bcos_check.hpp"
#include "xj/checks/kinds.hpp"
#include "xj/checks/prometheus_text.hpp"
#include "xj/common/duration.hpp"

namespace xj {

namespace {

// Per chainId, summed over the other labels.
std::map<std::string, double> by_chain(const std::vector<PromSample>& samples,
                                       std::string_view name) {
  std::map<std::string, double> out;
  for (const PromSample* s : find_samples(samples, name)) {
    const auto it = s->labels.find("chainId");
    out[it == s->labels.end() ? "" : it->second] += s->value;
  }
  return out;
}

double steady_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

class ChainMakerCheck : public Check {
 public:
  ChainMakerCheck(std::string id, const CheckOptions& o, RpcEndpoint ep)
      : Check(std::move(id), "chainmaker"),
        ep_(std::move(ep)),
        chain_id_(o.str("chain_id")),
        max_block_interval_s_(static_cast<double>(o.duration("max_block_interval").count()) / 1e3) {
  }

  Result run(const RunContext& ctx) override;

 private:
  RpcEndpoint ep_;
  std::string chain_id_;
  double max_block_interval_s_;
  std::map<std::string, FiscoHistory> history_;        // per chainId; the same stall rule as PBFT
  std::optional<std::pair<double, double>> prev_rpc_;  // (time, requests) at the last run
};

Result ChainMakerCheck::run(const RunContext& ctx) {
  if (ctx.expired()) return unknown(ep_.url + ": no time left");
  Result r = make_result();
  r.details = {{"url", ep_.url}};
  auto m = chain_get(ep_, ep_.url, ctx.deadline, ctx.timeout, ctx.cancelled);
  if (!m || m->status != 200) {
    r.status = (!m && !node_down(m.failure())) ? Status::kUnknown : Status::kCritical;
    r.summary = "chainmaker node " + ep_.url +
                " unreachable: " + (m ? "status " + std::to_string(m->status) : m.error());
    r.metrics.push_back({"reachable", 0, "", {}, std::nullopt, Range::below(1)});
    return r;
  }
  auto samples = parse_prometheus_text(m->body);
  if (!samples) return unknown("chainmaker node " + ep_.url + ": " + samples.error());
  r.metrics.push_back({"reachable", 1, "", {}, std::nullopt, Range::below(1)});
  const double now = steady_seconds();
  const auto blocks = by_chain(*samples, "chainmaker_committer_metric_block_counter");
  const auto pool = by_chain(*samples, "chainmaker_txpool_metric_tx_pool_size");
  const auto txs = by_chain(*samples, "chainmaker_committer_metric_tx_counter");
  std::vector<std::string> problems;
  std::string text;
  for (const auto& [chain, count] : blocks) {
    if (!chain_id_.empty() && chain != chain_id_) continue;
    const Labels labels{{"chainId", chain}};
    FiscoSample sample;
    sample.t_s = now;
    sample.height = static_cast<std::uint64_t>(count);
    if (auto p = pool.find(chain); p != pool.end())
      sample.pending = static_cast<std::uint64_t>(p->second);
    if (auto t = txs.find(chain); t != txs.end())
      sample.total_tx = static_cast<std::uint64_t>(t->second);
    auto [it, _] = history_.try_emplace(chain, max_block_interval_s_, 3);
    const FiscoVerdict v = it->second.add(sample);
    r.metrics.push_back({"block_counter", count, "", labels, std::nullopt, std::nullopt});
    r.metrics.push_back({"tx_pool_size", static_cast<double>(sample.pending), "", labels, {}, {}});
    r.metrics.push_back({"block_flat_s", v.height_flat_s, "s", labels, {}, {}});
    if (v.tps) r.metrics.push_back({"tps", *v.tps, "tx/s", labels, {}, {}});
    text += (text.empty() ? "" : ", ") + chain + " at " + std::to_string(sample.height) + " (" +
            std::to_string(sample.pending) + " pending)";
    if (v.stalled_with_pending) {
      char buf[200];
      std::snprintf(
          buf, sizeof buf, "chain %s stalled: no block for %.0f s with %llu transactions pending",
          chain.c_str(), v.pending_flat_s, static_cast<unsigned long long>(sample.pending));
      problems.push_back(buf);
    }
  }
  if (blocks.empty() || (!chain_id_.empty() && !blocks.count(chain_id_))) {
    problems.push_back("no chainmaker_committer_metric_block_counter" +
                       (chain_id_.empty() ? std::string() : " for chainId " + chain_id_));
  }
  // Requests the RPC server received (its counters; histogram parts excluded).
  double requests = 0;
  bool any_rpc = false;
  for (const auto& s : *samples) {
    if (s.name.rfind("chainmaker_rpcserver_", 0) != 0) continue;
    if (s.name.size() < 8 || s.name.compare(s.name.size() - 8, 8, "_counter") != 0) continue;
    requests += s.value;
    any_rpc = true;
  }
  if (any_rpc) {
    if (prev_rpc_ && now > prev_rpc_->first && requests >= prev_rpc_->second) {
      r.metrics.push_back({"rpc_requests_per_s",
                           (requests - prev_rpc_->second) / (now - prev_rpc_->first),
                           "req/s",
                           {},
                           std::nullopt,
                           std::nullopt});
    }
    prev_rpc_ = std::make_pair(now, requests);
  }
  r.status = problems.empty() ? Status::kOk : Status::kCritical;
  r.summary = "chainmaker node " + ep_.url + ": " + (text.empty() ? "no chain" : text);
  for (const auto& p : problems) r.summary += "; " + p;
  return r;
}

}  // namespace

CheckSpec chainmaker_check_spec() {
  CheckSpec s;
  s.kind = "chainmaker";
  s.description =
      "A ChainMaker (长安链) node through the Prometheus `/metrics` of its monitor port (14321 "
      "for node 1); its RPC is gRPC with mutual TLS. Per `chainId`: "
      "`chainmaker_committer_metric_block_counter` (in older versions a per-process count, not "
      "the ledger height, so only its movement is judged), the tx pool size and TPS from "
      "`chainmaker_committer_metric_tx_counter`; the rate of RPC requests received from the "
      "`chainmaker_rpcserver_*_counter` counters (the node exports no error counter). No block "
      "while transactions are pending for longer than `max_block_interval` is critical, and so "
      "is an unreachable node or missing block counter.";
  s.keys = chain_endpoint_keys("metrics URL, e.g. `http://127.0.0.1:14321/metrics`");
  s.keys.insert(s.keys.end(),
                {
                    {"chain_id", KeyType::kString, "", "only this chainId; default: every chain"},
                    {"max_block_interval", KeyType::kDuration, "120s",
                     "no block this long while transactions are pending is critical"},
                });
  s.metrics = {
      {"reachable", "", "1 when /metrics answered, else 0 (critical)"},
      {"block_counter", "", "blocks committed, per chainId"},
      {"tx_pool_size", "", "transactions in the pool, per chainId"},
      {"block_flat_s", "s", "seconds since the block counter last moved, as seen by this check"},
      {"tps", "tx/s", "committed transactions per second since the previous run"},
      {"rpc_requests_per_s", "req/s", "RPC requests received per second since the previous run"},
  };
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    RpcEndpoint ep = chain_endpoint(o);
    if (o.duration("max_block_interval").count() <= 0) {
      o.fail("max_block_interval", "must be more than 0");
    }
    return std::make_unique<ChainMakerCheck>(std::move(id), o, std::move(ep));
  };
  s.default_id = [](const CheckOptions& o) { return "chainmaker:" + o.str("url"); };
  return s;
}

}  // namespace xj
