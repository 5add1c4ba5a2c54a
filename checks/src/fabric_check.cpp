// `fabric`: a Hyperledger Fabric peer's or orderer's operations service: /healthz and the
// Prometheus /metrics (ledger height per channel, gossip peers, etcdraft nodes).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "chain_options.hpp"
#include "xj/checks/kinds.hpp"
#include "xj/checks/prometheus_text.hpp"
#include "xj/checks/utf8.hpp"

namespace xj {

namespace {

class FabricCheck : public Check {
 public:
  FabricCheck(std::string id, const CheckOptions& o, RpcEndpoint ep)
      : Check(std::move(id), "fabric"),
        ep_(std::move(ep)),
        read_metrics_(o.boolean("metrics")),
        min_peers_(o.integer("min_peers")) {
    base_ = ep_.url;
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
  }

  Result run(const RunContext& ctx) override;

 private:
  // Adds per-channel metrics from /metrics; returns problems (empty when all is well).
  std::vector<std::string> add_metrics(Result& r, const std::vector<PromSample>& samples,
                                       Status& status) const;

  RpcEndpoint ep_;
  std::string base_;
  bool read_metrics_;
  std::int64_t min_peers_;
};

std::vector<std::string> FabricCheck::add_metrics(Result& r, const std::vector<PromSample>& samples,
                                                  Status& status) const {
  std::vector<std::string> problems;
  auto per_channel = [&](const char* prom, const char* metric, std::optional<Range> warn = {}) {
    for (const PromSample* s : find_samples(samples, prom)) {
      const auto ch = s->labels.find("channel");
      Labels labels;
      if (ch != s->labels.end()) labels["channel"] = ch->second;
      r.metrics.push_back({metric, s->value, "", labels, warn, std::nullopt});
    }
  };
  per_channel("ledger_blockchain_height", "block_number");
  std::optional<Range> peers_warn;
  if (min_peers_ > 0) peers_warn = Range::below(static_cast<double>(min_peers_));
  per_channel("gossip_membership_total_peers_known", "peers_known", peers_warn);
  per_channel("consensus_etcdraft_is_leader", "raft_is_leader");
  // Raft: every node active is healthy; fewer is a warning; fewer than a majority of the
  // cluster means the channel cannot order blocks.
  for (const PromSample* size : find_samples(samples, "consensus_etcdraft_cluster_size")) {
    const std::string channel = size->labels.count("channel") ? size->labels.at("channel") : "";
    for (const PromSample* active : find_samples(samples, "consensus_etcdraft_active_nodes")) {
      const std::string ac = active->labels.count("channel") ? active->labels.at("channel") : "";
      if (ac != channel) continue;
      const double quorum = std::floor(size->value / 2) + 1;
      r.metrics.push_back({"raft_active_nodes",
                           active->value,
                           "",
                           {{"channel", channel}},
                           Range::below(size->value),
                           Range::below(quorum)});
      r.metrics.push_back(
          {"raft_cluster_size", size->value, "", {{"channel", channel}}, std::nullopt, {}});
      char buf[160];
      std::snprintf(buf, sizeof buf, "channel %s: %.0f of %.0f raft nodes active%s",
                    channel.c_str(), active->value, size->value,
                    active->value < quorum ? " (quorum lost)" : "");
      if (active->value < size->value) problems.push_back(buf);
    }
  }
  for (const auto& m : r.metrics) {
    if (m.name == "peers_known" && m.warn && m.warn->alerts(m.value)) {
      problems.push_back("channel " + m.labels.at("channel") + ": only " +
                         std::to_string(static_cast<long>(m.value)) + " peers known");
    }
  }
  status = worst(status, r.metrics_status());
  return problems;
}

Result FabricCheck::run(const RunContext& ctx) {
  if (ctx.expired()) return unknown(base_ + ": no time left");
  Result r = make_result();
  r.details = {{"url", base_}};
  auto health = chain_get(ep_, base_ + "/healthz", ctx.deadline, ctx.timeout, ctx.cancelled);
  if (!health) {
    r.status = node_down(health.failure()) ? Status::kCritical : Status::kUnknown;
    r.summary = "fabric node " + base_ + " unreachable: " + health.error();
    r.metrics.push_back({"healthy", 0, "", {}, std::nullopt, Range::below(1)});
    return r;
  }
  std::vector<std::string> problems;
  Status status = Status::kOk;
  const nlohmann::json body = nlohmann::json::parse(health->body, nullptr, false);
  const bool ok = health->status == 200;
  r.metrics.push_back({"healthy", ok ? 1.0 : 0.0, "", {}, std::nullopt, Range::below(1)});
  if (!ok) {
    status = Status::kCritical;
    std::string reasons;
    if (body.is_object() && body.contains("failed_checks") && body["failed_checks"].is_array()) {
      for (const auto& f : body["failed_checks"]) {
        reasons += (reasons.empty() ? "" : ", ") + f.value("component", std::string("?")) + ": " +
                   f.value("reason", std::string("?"));
      }
      r.details["failed_checks"] = body["failed_checks"];
    }
    problems.push_back("healthz " + std::to_string(health->status) +
                       (reasons.empty() ? " '" + utf8_clip(health->body, 80) + "'"
                                        : " failed checks: " + reasons));
  }
  if (read_metrics_) {
    auto m = chain_get(ep_, base_ + "/metrics", ctx.deadline, ctx.timeout, ctx.cancelled);
    if (!m || m->status != 200) {
      // The health answer stands; metrics often need a client certificate that is missing.
      status = worst(status, Status::kWarning);
      problems.push_back("metrics unreadable: " +
                         (m ? "status " + std::to_string(m->status) : m.error()));
    } else if (auto samples = parse_prometheus_text(m->body); !samples) {
      status = worst(status, Status::kWarning);
      problems.push_back(samples.error());
    } else {
      for (auto& p : add_metrics(r, *samples, status)) problems.push_back(std::move(p));
    }
  }
  r.status = status;
  std::string text = "fabric node " + base_ + ": " + (ok ? "healthy" : "unhealthy");
  for (const auto& m : r.metrics) {
    if (m.name == "block_number") {
      text += ", " + m.labels.at("channel") + " at " + std::to_string(static_cast<long>(m.value));
    }
  }
  for (const auto& p : problems) text += "; " + p;
  r.summary = text;
  return r;
}

}  // namespace

CheckSpec fabric_check_spec() {
  CheckSpec s;
  s.kind = "fabric";
  s.description =
      "A Hyperledger Fabric peer or orderer through its operations service (peer 9443, orderer "
      "8443). `/healthz` answering 503 is critical with the `failed_checks` reasons. From "
      "`/metrics` (Prometheus text; often needs the client certificate): ledger height per "
      "channel, gossip peers known, Raft leader and active nodes against the cluster size (fewer "
      "active is a warning, fewer than a majority critical). Unreadable metrics are a warning.";
  s.keys = chain_endpoint_keys("operations service base URL, e.g. `https://peer0:9443`");
  s.keys.insert(s.keys.end(), {
                                  {"metrics", KeyType::kBool, "true", "also read /metrics"},
                                  {"min_peers", KeyType::kInt, "0",
                                   "fewer gossip peers known on a channel is a warning; 0: off"},
                              });
  s.metrics = {
      {"healthy", "", "1 when /healthz answers 200, else 0 (critical)"},
      {"block_number", "", "ledger_blockchain_height per channel (label `channel`)"},
      {"peers_known", "", "gossip_membership_total_peers_known per channel"},
      {"raft_is_leader", "", "consensus_etcdraft_is_leader per channel (orderers)"},
      {"raft_active_nodes", "", "consensus_etcdraft_active_nodes per channel"},
      {"raft_cluster_size", "", "consensus_etcdraft_cluster_size per channel"},
  };
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    RpcEndpoint ep = chain_endpoint(o);
    if (o.integer("min_peers") < 0) o.fail("min_peers", "must not be negative");
    return std::make_unique<FabricCheck>(std::move(id), o, std::move(ep));
  };
  s.default_id = [](const CheckOptions& o) { return "fabric:" + o.str("url"); };
  return s;
}

}  // namespace xj
