#include "xj/checks/fisco_bcos_check.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>

#include "chain_options.hpp"
#include "xj/checks/json_rpc.hpp"
#include "xj/checks/kinds.hpp"
#include "xj/common/duration.hpp"

namespace xj {

namespace {

double steady_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

class FiscoBcosCheck : public Check {
 public:
  FiscoBcosCheck(std::string id, const CheckOptions& o, RpcEndpoint ep)
      : Check(std::move(id), "fisco_bcos"),
        ep_(std::move(ep)),
        group_(o.str("group")),
        node_(o.str("node")),
        max_block_interval_s_(static_cast<double>(o.duration("max_block_interval").count()) / 1e3),
        lag_warn_(o.integer("lag_warn")),
        lag_crit_(o.integer("lag_crit")),
        min_peers_(o.integer("min_peers")),
        history_(max_block_interval_s_, static_cast<int>(o.integer("frozen_runs"))) {
    const std::string v = o.str("version");
    if (v == "2") version_ = FiscoVersion::k2;
    if (v == "3") version_ = FiscoVersion::k3;
  }

  Result run(const RunContext& ctx) override;

 private:
  using Call = Expected<RpcReply, HttpClientError>;
  // The group as each version wants it; a 2.x group is a number (checked at load when the
  // version is configured; in auto mode a name rules 2.x out).
  bool group_fits_2x() const {
    return group_.empty() || group_.find_first_not_of("0123456789") == std::string::npos;
  }
  nlohmann::json params(FiscoVersion v) const {
    if (v == FiscoVersion::k2) {
      return nlohmann::json::array({group_.empty() ? 1 : std::stoi(group_.substr(0, 9))});
    }
    return nlohmann::json::array({group_.empty() ? "group0" : group_, node_});
  }
  Call call(const RunContext& ctx, const std::string& method, const nlohmann::json& p,
            double* latency = nullptr) const {
    const auto reserve =
        std::clamp(ctx.timeout / 20, std::chrono::milliseconds(5), std::chrono::milliseconds(200));
    return rpc_call(ep_, method, p, ctx.deadline - reserve, ctx.cancelled, latency);
  }
  // getBlockNumber, telling the versions apart when not configured: 2.x answers its
  // `[groupID]` call with a hex string, 3.x answers `["group0", ""]` with an integer.
  Call block_number(const RunContext& ctx, double* latency);
  Result down(const std::string& message) const;

  RpcEndpoint ep_;
  std::string group_, node_;
  std::optional<FiscoVersion> version_;
  double max_block_interval_s_;
  std::int64_t lag_warn_, lag_crit_, min_peers_;
  FiscoHistory history_;
};

Result FiscoBcosCheck::down(const std::string& message) const {
  Result r = make_result();
  r.status = Status::kCritical;
  r.summary = "FISCO BCOS node " + ep_.url + " unreachable: " + message;
  r.details = {{"url", ep_.url}, {"error", message}};
  r.metrics.push_back({"reachable", 0, "", {}, std::nullopt, Range::below(1)});
  return r;
}

FiscoBcosCheck::Call FiscoBcosCheck::block_number(const RunContext& ctx, double* latency) {
  if (version_) return call(ctx, "getBlockNumber", params(*version_), latency);
  if (group_fits_2x()) {
    auto v2 = call(ctx, "getBlockNumber", params(FiscoVersion::k2), latency);
    if (!v2) return v2;
    if (v2->result && v2->result->is_string()) {
      version_ = FiscoVersion::k2;
      return v2;
    }
  }
  auto v3 = call(ctx, "getBlockNumber", params(FiscoVersion::k3), latency);
  if (v3 && v3->result && v3->result->is_number()) version_ = FiscoVersion::k3;
  return v3;
}

Result FiscoBcosCheck::run(const RunContext& ctx) {
  if (ctx.expired()) return unknown(ep_.url + ": no time left before the first call");
  double latency = 0;
  auto bn = block_number(ctx, &latency);
  if (!bn) {
    if (!node_down(bn.failure())) return unknown(bn.error());
    return down(bn.error());
  }
  if (bn->error || !version_) {
    Result r = make_result();
    r.status = Status::kCritical;
    r.summary = "FISCO BCOS node " + ep_.url + ": getBlockNumber failed: " +
                (bn->error ? bn->error->message : "answer is neither 2.x hex nor a 3.x integer");
    return r;
  }
  auto height = parse_quantity(*bn->result);
  if (!height) return unknown("FISCO BCOS node " + ep_.url + ": block number " + height.error());
  const FiscoVersion v = *version_;
  const nlohmann::json p = params(v);
  Result r = make_result();
  r.details = {{"url", ep_.url}, {"version", v == FiscoVersion::k2 ? "2.x" : "3.x"}};
  nlohmann::json errors = nlohmann::json::object();
  // Optional calls: an error is noted in details and the metric left out.
  auto result_of = [&](const std::string& method) -> std::optional<nlohmann::json> {
    auto c = call(ctx, method, p);
    if (!c) {
      errors[method] = c.error();
    } else if (c->error) {
      errors[method] = c->error->message;
    } else {
      return *c->result;
    }
    return std::nullopt;
  };
  auto add = [&](const char* name, double value, const char* unit,
                 std::optional<Range> warn = std::nullopt,
                 std::optional<Range> crit = std::nullopt) {
    r.metrics.push_back({name, value, unit, {}, std::move(warn), std::move(crit)});
  };
  add("reachable", 1, "", std::nullopt, Range::below(1));
  add("latency_ms", latency, "ms");
  add("block_number", static_cast<double>(*height), "");
  std::vector<std::string> problems;

  FiscoSample sample;
  sample.t_s = steady_seconds();
  sample.height = *height;
  if (auto view = result_of("getPbftView")) {
    if (auto q = parse_quantity(*view)) sample.view = *q;
  }
  if (auto sync_json = result_of("getSyncStatus")) {
    if (auto sync = parse_fisco_sync(*sync_json)) {
      const double lag = static_cast<double>(sync->lag());
      add("sync_lag_blocks", lag, "", Range::above(static_cast<double>(lag_warn_ - 1)),
          Range::above(static_cast<double>(lag_crit_ - 1)));
      if (lag >= static_cast<double>(lag_warn_)) {
        problems.push_back(num(lag) + " blocks behind the highest known (" +
                           num(static_cast<double>(sync->known_highest)) + ")");
      }
      std::optional<Range> peers_warn;
      if (min_peers_ > 0) peers_warn = Range::below(static_cast<double>(min_peers_));
      add("peers", static_cast<double>(sync->peers), "", peers_warn);
      if (peers_warn && peers_warn->alerts(static_cast<double>(sync->peers))) {
        problems.push_back("only " + std::to_string(sync->peers) + " peers");
      }
      sample.pending = sync->tx_pool;
      // The head's hash for the collector's chain view (forks): only when it belongs to the
      // height reported, since a block may have been sealed between the two calls.
      if (!sync->latest_hash.empty() && sync->height == *height) r.details["block_hash"] = sync->latest_hash;
    } else {
      errors["getSyncStatus"] = sync.error();
    }
  }
  if (auto cons_json = result_of("getConsensusStatus")) {
    if (auto cons = parse_fisco_consensus(*cons_json, v)) {
      if (!sample.view) sample.view = cons->view;
      add("consensus_nodes", static_cast<double>(cons->nodes), "");
      add("consensus_connected", static_cast<double>(cons->alive), "", std::nullopt,
          Range::below(static_cast<double>(cons->required)));
      add("quorum_required", static_cast<double>(cons->required), "");
      if (cons->quorum_lost()) {
        problems.push_back("quorum lost: " + std::to_string(cons->alive) + " of " +
                           std::to_string(cons->nodes) + " consensus nodes connected, " +
                           std::to_string(cons->required) + " required");
      }
      if (cons->cfg_err) problems.push_back("consensus configuration error (cfgErr)");
      if (cons->leader_failed || cons->timeout) problems.push_back("view change under way");
      r.details["cfg_err"] = cons->cfg_err;
      r.details["view_change"] = cons->leader_failed || cons->timeout;
    } else {
      errors["getConsensusStatus"] = cons.error();
    }
  }
  if (auto pending = result_of("getPendingTxSize")) {
    if (auto q = parse_quantity(*pending)) sample.pending = *q;
  }
  add("pending_tx", static_cast<double>(sample.pending), "");
  if (auto total_json = result_of("getTotalTransactionCount")) {
    if (auto total = parse_fisco_tx_count(*total_json)) {
      sample.total_tx = total->total;
      add("total_tx", static_cast<double>(total->total), "");
      add("failed_tx", static_cast<double>(total->failed), "");
    }
  }
  if (sample.view) add("pbft_view", static_cast<double>(*sample.view), "");

  const FiscoVerdict verdict = history_.add(sample);
  add("height_flat_s", verdict.height_flat_s, "s");
  if (verdict.tps) add("tps", *verdict.tps, "tx/s");
  if (verdict.stalled_with_pending) {
    problems.push_back("stalled: height flat for " + num(verdict.pending_flat_s) + " s with " +
                       std::to_string(sample.pending) +
                       " transactions pending (max_block_interval " +
                       format_duration(std::chrono::milliseconds(
                           static_cast<std::int64_t>(max_block_interval_s_ * 1000))) +
                       ")");
  }
  if (verdict.frozen) problems.push_back("stalled: height and PBFT view both frozen");
  if (!errors.empty()) r.details["errors"] = errors;

  r.status = r.metrics_status();
  const bool critical_rule = verdict.stalled_with_pending || verdict.frozen;
  const bool cfg_err = r.details.value("cfg_err", false);
  if (critical_rule || cfg_err) r.status = Status::kCritical;
  if (r.details.value("view_change", false)) r.status = worst(r.status, Status::kWarning);
  std::string text = "FISCO BCOS " + std::string(v == FiscoVersion::k2 ? "2.x" : "3.x") + " node " +
                     ep_.url + ": block " + std::to_string(*height);
  if (sample.view) text += ", view " + std::to_string(*sample.view);
  text += ", " + std::to_string(sample.pending) + " pending";
  if (verdict.tps) {
    char buf[32];
    std::snprintf(buf, sizeof buf, ", %.1f tx/s", *verdict.tps);
    text += buf;
  }
  for (const auto& pr : problems) text += "; " + pr;
  r.summary = text;
  return r;
}

}  // namespace

CheckSpec fisco_bcos_check_spec() {
  CheckSpec s;
  s.kind = "fisco_bcos";
  s.description =
      "A FISCO BCOS 2.x or 3.x node over JSON-RPC (the version is detected unless `version` "
      "says it: 2.x numbers are hex, 3.x numbers are integers and its sync and consensus "
      "status are JSON inside a string). Reports height, PBFT view, lag behind the highest "
      "block the node knows of, peers, consensus nodes connected against the quorum "
      "(`nodeNum - max_faulty_leader`, or `minRequiredQuorum`), pending and total transactions "
      "and TPS from the total's change between runs. PBFT makes no empty blocks, so a flat "
      "height on an idle chain whose view keeps rising is healthy. Critical: unreachable; "
      "height flat while transactions are pending for longer than `max_block_interval`; height "
      "and view both unchanged over `frozen_runs` runs; quorum lost; `cfgErr`; lag of "
      "`lag_crit` blocks. Warning: lag of `lag_warn` blocks, a view change under way "
      "(`leaderFailed` / `timeout`), fewer peers than `min_peers`. The head block's hash "
      "(`latestHash`) goes into the details (`block_hash`), so the collector's chain view can "
      "tell a fork from lag.";
  s.keys = chain_endpoint_keys(
      "JSON-RPC URL: 2.x `http://127.0.0.1:8545`, 3.x `https://127.0.0.1:20200`");
  s.keys.insert(
      s.keys.end(),
      {
          {"version", KeyType::kString, "auto", "`2`, `3` or `auto` (detect)"},
          {"group", KeyType::kString, "",
           "group: 2.x group id (default 1), 3.x group name (default `group0`)"},
          {"node", KeyType::kString, "",
           "3.x node name within the group (default: the one answering)"},
          {"max_block_interval", KeyType::kDuration, "120s",
           "height flat this long while transactions are pending is critical"},
          {"frozen_runs", KeyType::kInt, "3",
           "height and view both unchanged over this many runs is critical"},
          {"lag_warn", KeyType::kInt, "10", "at least this many blocks behind is a warning"},
          {"lag_crit", KeyType::kInt, "30", "at least this many blocks behind is critical"},
          {"min_peers", KeyType::kInt, "1", "fewer peers is a warning; 0 switches it off"},
      });
  s.metrics = {
      {"reachable", "", "1 when the node answered, 0 when not (critical)"},
      {"latency_ms", "ms", "time of the getBlockNumber call"},
      {"block_number", "", "height"},
      {"pbft_view", "", "PBFT view (getPbftView, else the consensus status)"},
      {"sync_lag_blocks", "",
       "blocks behind knownHighestNumber or the highest peer (lag_warn / lag_crit)"},
      {"peers", "", "peers in the sync status (min_peers applies)"},
      {"consensus_nodes", "", "consensus (sealer) nodes"},
      {"consensus_connected", "",
       "consensus nodes connected, this one included (critical below quorum_required)"},
      {"quorum_required", "", "consensus nodes PBFT needs to commit"},
      {"pending_tx", "", "transactions in the pool (getPendingTxSize)"},
      {"total_tx", "", "transactions on the chain (getTotalTransactionCount)"},
      {"failed_tx", "", "failed transactions on the chain"},
      {"tps", "tx/s", "total_tx change per second since the previous run"},
      {"height_flat_s", "s", "seconds since the height last changed, as seen by this check"},
  };
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    RpcEndpoint ep = chain_endpoint(o);
    const std::string v = o.str("version");
    if (v != "auto" && v != "2" && v != "3") o.fail("version", "must be 2, 3 or auto");
    if (v == "2" && o.has("group") &&
        o.str("group").find_first_not_of("0123456789") != std::string::npos) {
      o.fail("group", "a 2.x group is a number");
    }
    if (v == "auto" && o.has("group") && o.str("group").empty()) o.fail("group", "is empty");
    if (o.duration("max_block_interval").count() <= 0)
      o.fail("max_block_interval", "must be more than 0");
    if (o.integer("frozen_runs") < 2) o.fail("frozen_runs", "must be at least 2");
    if (o.integer("lag_warn") < 1) o.fail("lag_warn", "must be at least 1");
    if (o.integer("lag_crit") < o.integer("lag_warn"))
      o.fail("lag_crit", "must be at least lag_warn");
    if (o.integer("min_peers") < 0) o.fail("min_peers", "must not be negative");
    return std::make_unique<FiscoBcosCheck>(std::move(id), o, std::move(ep));
  };
  s.default_id = [](const CheckOptions& o) { return "fisco_bcos:" + o.str("url"); };
  return s;
}

}  // namespace xj
