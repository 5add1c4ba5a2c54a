#include "xj/checks/ethereum_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "chain_options.hpp"
#include "xj/checks/json_rpc.hpp"
#include "xj/checks/kinds.hpp"
#include "xj/common/duration.hpp"

namespace xj {

namespace {

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

class EthereumCheck : public Check {
 public:
  EthereumCheck(std::string id, const CheckOptions& o, RpcEndpoint ep)
      : Check(std::move(id), "ethereum"),
        ep_(std::move(ep)),
        max_head_age_s_(static_cast<double>(o.duration("max_head_age").count()) / 1000.0),
        min_peers_(o.integer("min_peers")),
        tps_blocks_(static_cast<std::uint64_t>(o.integer("tps_blocks"))) {
    if (o.has("head_age_warn")) {
      head_age_warn_ = Range::above(static_cast<double>(o.duration("head_age_warn").count()) / 1e3);
    }
  }

  Result run(const RunContext& ctx) override;

 private:
  using Call = Expected<RpcReply, HttpClientError>;
  Call call(const RunContext& ctx, const std::string& method, const nlohmann::json& params,
            double* latency = nullptr) const {
    // End a little before the run's deadline so that our message naming the method is the one
    // reported, not the scheduler's generic timeout.
    const auto reserve =
        std::clamp(ctx.timeout / 20, std::chrono::milliseconds(5), std::chrono::milliseconds(200));
    return rpc_call(ep_, method, params, ctx.deadline - reserve, ctx.cancelled, latency);
  }
  Result down(const HttpClientError& e) const;
  // Transactions per second over the blocks since the previous run (at most tps_blocks).
  std::optional<double> tps(const RunContext& ctx, const EthBlock& head);

  RpcEndpoint ep_;
  double max_head_age_s_;
  std::optional<Range> head_age_warn_;
  std::int64_t min_peers_;
  std::uint64_t tps_blocks_;
  std::optional<std::uint64_t> prev_height_;  // head seen by the previous successful run
};

Result EthereumCheck::down(const HttpClientError& e) const {
  Result r = make_result();
  r.status = node_down(e) ? Status::kCritical : Status::kUnknown;
  r.summary = "ethereum node " + ep_.url + " unreachable: " + e.message;
  r.details = {{"url", ep_.url}, {"error", e.message}};
  r.metrics.push_back({"reachable", 0, "", {}, std::nullopt, Range::below(1)});
  return r;
}

std::optional<double> EthereumCheck::tps(const RunContext& ctx, const EthBlock& head) {
  std::uint64_t from = head.number - std::min(head.number, tps_blocks_);
  if (prev_height_ && *prev_height_ <= head.number) {
    if (*prev_height_ == head.number) return 0.0;  // no block since the last run
    from = std::max(from, *prev_height_);
  }
  std::vector<EthBlock> blocks;
  for (std::uint64_t n = from; n < head.number; ++n) {
    char hex[24];
    std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(n));
    auto b = call(ctx, "eth_getBlockByNumber", {hex, false});
    if (!b || !b->result) return std::nullopt;  // TPS is a bonus: no number rather than a failure
    auto parsed = parse_eth_block(*b->result);
    if (!parsed) return std::nullopt;
    blocks.push_back(*parsed);
  }
  blocks.push_back(head);
  return tps_over_blocks(blocks);
}

Result EthereumCheck::run(const RunContext& ctx) {
  if (ctx.expired()) return unknown(ep_.url + ": no time left before the first call");
  double latency = 0;
  auto number = call(ctx, "eth_blockNumber", nlohmann::json::array(), &latency);
  if (!number) return down(number.failure());
  Result r = make_result();
  r.details = {{"url", ep_.url}};
  if (number->error) {
    r.status = Status::kCritical;
    r.summary = "ethereum node " + ep_.url + ": eth_blockNumber failed: " + number->error->message;
    return r;
  }
  auto latest = call(ctx, "eth_getBlockByNumber", {"latest", false});
  if (!latest) return down(latest.failure());
  if (latest->error || !latest->result || latest->result->is_null()) {
    r.status = Status::kCritical;
    r.summary = "ethereum node " + ep_.url + ": no latest block" +
                (latest->error ? ": " + latest->error->message : std::string());
    return r;
  }
  auto head = parse_eth_block(*latest->result);
  if (!head) return unknown("ethereum node " + ep_.url + ": " + head.error());
  const double age = std::max(0.0, now_seconds() - head->timestamp_s);
  r.metrics.push_back({"reachable", 1, "", {}, std::nullopt, Range::below(1)});
  r.metrics.push_back({"latency_ms", latency, "ms", {}, std::nullopt, std::nullopt});
  r.metrics.push_back(
      {"block_number", static_cast<double>(head->number), "", {}, std::nullopt, std::nullopt});
  r.metrics.push_back({"head_age_s", age, "s", {}, head_age_warn_, Range::above(max_head_age_s_)});
  std::vector<std::string> problems;
  char buf[160];
  std::snprintf(buf, sizeof buf, "block %llu, head %.0f s old",
                static_cast<unsigned long long>(head->number), age);
  std::string text = buf;
  if (age > max_head_age_s_) {
    problems.push_back("no new block for longer than " +
                       format_duration(std::chrono::milliseconds(
                           static_cast<std::int64_t>(max_head_age_s_ * 1000))));
  }

  if (auto s = call(ctx, "eth_syncing", nlohmann::json::array()); s && s->result) {
    if (auto sync = parse_eth_syncing(*s->result)) {
      r.metrics.push_back({"syncing", sync->syncing ? 1.0 : 0.0, "", {}, Range::above(0), {}});
      if (sync->syncing) {
        const double lag = sync->highest > sync->current
                               ? static_cast<double>(sync->highest - sync->current)
                               : 0.0;
        r.metrics.push_back({"sync_lag_blocks", lag, "", {}, std::nullopt, std::nullopt});
        std::snprintf(buf, sizeof buf, "syncing (%llu of %llu)",
                      static_cast<unsigned long long>(sync->current),
                      static_cast<unsigned long long>(sync->highest));
        problems.push_back(buf);
      }
    }
  } else if (!s) {
    return down(s.failure());
  }
  // A node that does not implement a method ("Method not found") gives no metric for it.
  if (auto p = call(ctx, "net_peerCount", nlohmann::json::array()); p && p->result) {
    if (auto peers = parse_quantity(*p->result)) {
      std::optional<Range> warn;
      if (min_peers_ > 0) warn = Range::below(static_cast<double>(min_peers_));
      r.metrics.push_back({"peers", static_cast<double>(*peers), "", {}, warn, std::nullopt});
      text += ", " + std::to_string(*peers) + " peers";
      if (warn && warn->alerts(static_cast<double>(*peers))) {
        problems.push_back("fewer than " + std::to_string(min_peers_) + " peers");
      }
    }
  } else if (p && p->error && !method_not_found(*p->error)) {
    r.details["net_peerCount_error"] = p->error->message;
  }
  if (auto l = call(ctx, "net_listening", nlohmann::json::array());
      l && l->result && l->result->is_boolean()) {
    const bool listening = l->result->get<bool>();
    r.metrics.push_back({"listening", listening ? 1.0 : 0.0, "", {}, Range::below(1), {}});
    if (!listening) problems.push_back("not listening for peers");
  }
  if (auto t = tps(ctx, *head)) {
    r.metrics.push_back({"tps", *t, "tx/s", {}, std::nullopt, std::nullopt});
    std::snprintf(buf, sizeof buf, ", %.1f tx/s", *t);
    text += buf;
  }
  prev_height_ = head->number;
  std::snprintf(buf, sizeof buf, ", %.0f ms", latency);
  text += buf;
  r.status = r.metrics_status();
  r.summary = "ethereum node " + ep_.url + ": " + text;
  for (const auto& p : problems) r.summary += "; " + p;
  r.details["block_timestamp_s"] = head->timestamp_s;
  // The collector's chain view compares the head hashes of nodes at the same height (forks).
  if (!head->hash.empty()) r.details["block_hash"] = head->hash;
  return r;
}

}  // namespace

CheckSpec ethereum_check_spec() {
  CheckSpec s;
  s.kind = "ethereum";
  s.description =
      "An Ethereum-compatible node (geth, besu, Quorum, anvil, ...) over JSON-RPC on HTTP(S): "
      "reachable and latency of `eth_blockNumber`, the latest block's number and age (timestamps "
      "in seconds, or milli-/micro-/nanoseconds as Quorum Raft sends, are told apart by size), "
      "`eth_syncing`, `net_peerCount` (hex or integer) and `net_listening`; a method the node "
      "does not implement gives no metric rather than a failure. TPS is the transactions of the "
      "blocks since the previous run (at most `tps_blocks` of them) over their time span. "
      "Unreachable, or a head older than `max_head_age`, is critical; syncing, fewer peers "
      "than `min_peers` or not listening is a warning. The head block's hash is in the result's "
      "details (`block_hash`), so the collector's chain view can tell a fork from lag.";
  s.keys = chain_endpoint_keys("JSON-RPC URL, e.g. `http://127.0.0.1:8545`");
  s.keys.insert(
      s.keys.end(),
      {
          {"max_head_age", KeyType::kDuration, "2m",
           "latest block older than this is critical (the chain has stopped)"},
          {"head_age_warn", KeyType::kDuration, "", "latest block older than this is a warning"},
          {"min_peers", KeyType::kInt, "1", "fewer peers is a warning; 0 switches it off"},
          {"tps_blocks", KeyType::kInt, "10", "at most this many blocks are read for TPS per run"},
      });
  s.metrics = {
      {"reachable", "", "1 when the node answered, 0 when not (critical)"},
      {"latency_ms", "ms", "time of the eth_blockNumber call"},
      {"block_number", "", "number of the latest block"},
      {"head_age_s", "s", "age of the latest block (max_head_age / head_age_warn apply)"},
      {"syncing", "", "1 while eth_syncing reports a sync (warning)"},
      {"sync_lag_blocks", "", "while syncing: highestBlock - currentBlock"},
      {"peers", "", "net_peerCount (min_peers applies); absent when the node answers 'Method not found'"},
      {"listening", "", "net_listening as 1/0 (0 is a warning); absent when the node answers 'Method not found'"},
      {"tps", "tx/s", "transactions per second over the blocks since the previous run"},
  };
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    RpcEndpoint ep = chain_endpoint(o);
    if (o.duration("max_head_age").count() <= 0) o.fail("max_head_age", "must be more than 0");
    if (o.integer("min_peers") < 0) o.fail("min_peers", "must not be negative");
    if (o.integer("tps_blocks") < 1 || o.integer("tps_blocks") > 1000) {
      o.fail("tps_blocks", "must be between 1 and 1000");
    }
    return std::make_unique<EthereumCheck>(std::move(id), o, std::move(ep));
  };
  s.default_id = [](const CheckOptions& o) { return "ethereum:" + o.str("url"); };
  return s;
}

}  // namespace xj
