// `fisco_bcos`: a FISCO BCOS 2.x or 3.x node over JSON-RPC. The parsers of its RPC results
// (hex in 2.x, integers and JSON-in-a-string in 3.x) and the stall rules are pure and
// exposed here, so tests drive them with fixture replies and an injected clock.
#pragma once

#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "xj/common/expected.hpp"

namespace xj {

enum class FiscoVersion { k2, k3 };

// getSyncStatus of either version (3.x's string already unwrapped or not: both are taken).
struct FiscoSync {
  std::uint64_t height = 0;
  std::uint64_t known_highest = 0;  // highest block the node knows of, peers' included
  std::uint64_t tx_pool = 0;
  std::size_t peers = 0;
  bool syncing = false;
  std::string latest_hash;  // latestHash, lower-case: the hash of block `height` ("" if not sent)
  // Blocks behind the highest the node knows of (knownHighestNumber or a peer's blockNumber).
  std::uint64_t lag() const { return known_highest > height ? known_highest - height : 0; }
};
Expected<FiscoSync> parse_fisco_sync(const nlohmann::json& result);

// getConsensusStatus: 2.x `[ {nodeNum, max_faulty_leader, connectedNodes, currentView,
// cfgErr, leaderFailed, ...}, [{nodeId, view}] ]`; 3.x a string holding `{view, timeout,
// consensusNodesNum, maxFaultyQuorum, minRequiredQuorum, connectedNodeList, ...}`.
struct FiscoConsensus {
  std::optional<std::uint64_t> view;
  std::uint64_t nodes = 0;     // consensus (sealer) nodes
  std::uint64_t required = 0;  // nodes that must take part for PBFT to commit
  std::uint64_t alive = 0;     // consensus nodes this node is connected to, itself included
  bool cfg_err = false;        // 2.x: the node's consensus config is wrong
  bool leader_failed = false;  // 2.x: the leader failed; a view change is under way
  bool timeout = false;        // 3.x: the consensus timer expired; a view change is under way
  bool quorum_lost() const { return nodes > 0 && alive < required; }
};
Expected<FiscoConsensus> parse_fisco_consensus(const nlohmann::json& result, FiscoVersion v);

// getTotalTransactionCount: 2.x {blockNumber, txSum, failedTxSum} in hex; 3.x {blockNumber,
// transactionCount, failedTransactionCount} as integers.
struct FiscoTxCount {
  std::uint64_t total = 0;
  std::uint64_t failed = 0;
};
Expected<FiscoTxCount> parse_fisco_tx_count(const nlohmann::json& result);

// One run's numbers for the stall rules; `t_s` is seconds on a monotonic clock.
struct FiscoSample {
  double t_s = 0;
  std::uint64_t height = 0;
  std::optional<std::uint64_t> view;
  std::uint64_t pending = 0;
  std::optional<std::uint64_t> total_tx;
};

// What the history of runs says. PBFT makes no empty blocks, so a flat height alone is no
// stall: an idle chain keeps changing view. A stall is a flat height while transactions are
// pending for longer than max_block_interval, or height and view both unchanged over
// `frozen_runs` runs.
struct FiscoVerdict {
  double height_flat_s = 0;           // since the height last changed (0 on the first run)
  double pending_flat_s = 0;          // since transactions were first seen pending at this height
  bool stalled_with_pending = false;  // pending_flat_s > max_block_interval
  bool frozen = false;                // height and view unchanged over frozen_runs runs
  std::optional<double> tps;          // from the total transaction count since the last run
};

class FiscoHistory {
 public:
  FiscoHistory(double max_block_interval_s, int frozen_runs)
      : max_block_interval_s_(max_block_interval_s), frozen_runs_(frozen_runs) {}
  FiscoVerdict add(const FiscoSample& s);

 private:
  double max_block_interval_s_;
  int frozen_runs_;
  std::deque<FiscoSample> runs_;           // the last frozen_runs samples, oldest first
  std::optional<double> height_since_s_;   // when the current height was first seen
  std::optional<double> pending_since_s_;  // when txs were first seen pending at this height
};

}  // namespace xj
