// The cross-node chain view: chain-node results (kinds ethereum, fisco_bcos, fabric,
// chainmaker) whose labels say the same `chain` form a group, and the collector derives one
// result `chain:<name>` per group that no single node can give: the highest height, each
// node's lag behind it, nodes unreachable or silent, and a fork (two nodes at the same height
// with different head hashes). The derived result is stored through Store::ingest under the
// collector's own host id (configurable), so rules, rollups and reports treat it like any
// agent result.
//
// When: nodes sit on different agents with their own timing, so there is no common round.
// A group is evaluated whenever one of its members reports, over each member's latest result;
// a member whose latest result is older than `stale_intervals` of its own interval (the gap
// between its last two results; `interval` until two are seen) counts as silent. The derived
// result is written when its status changes, and otherwise at most once per round (the
// shortest member interval), so a group of five nodes does not write five results a minute.
// The housekeeping sweep evaluates too, so a group whose members all go silent still turns
// critical.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "xj/collector/store.hpp"
#include "xj/common/report_interval.hpp"

namespace xj {

struct ChainViewConfig {
  std::string host = "collector";  // host id the chain:<name> results are stored under
  std::int64_t lag_warn = 10;      // blocks behind the highest node: warning
  std::int64_t lag_crit = 30;      // ... critical
  int stale_intervals = 3;         // a member silent this many of its intervals is not counted
  std::chrono::milliseconds interval{60'000};  // assumed member interval until measured
};

// What the view keeps of one member: its latest result, boiled down.
struct ChainMember {
  std::string host, check, kind;
  Status status = Status::kUnknown;
  std::string summary;
  std::int64_t ts_ms = 0;           // of the latest result (the agent's clock)
  ReportInterval interval;          // how often it reports (report_interval.hpp)
  bool reachable = true;            // false: `reachable` / `healthy` metric 0, or no height while unknown
  // block_number per ledger: "" for one-ledger chains, the metric's labels as JSON for
  // Fabric channels (each channel is its own ledger).
  std::map<std::string, std::int64_t> heights;
  std::string block_hash;           // head block hash when the check reports one
  Labels labels;                    // the result's labels (its own, else its agent's)
};

// The label value that puts a result in a group: the result's own labels (details.labels,
// set when the check's labels differ from the agent's), else the agent's; "" if none.
std::string chain_of(const Result& r, const Labels& agent_labels);
bool is_chain_node_kind(const std::string& kind);
// The member as the view sees it after `r` (previous: the member's earlier state, if any).
ChainMember chain_member_from(const std::string& host, const Result& r, const Labels& agent_labels,
                              const ChainMember* previous);

// Pure: the group's derived result at `now_ms` (collector clock). Its labels
// (details.labels) are those every member shares, `chain` among them, so a chain whose nodes
// all carry `system: X` is routed and reported as part of system X.
Result evaluate_chain_group(const std::string& chain, const std::vector<ChainMember>& members,
                            std::int64_t now_ms, const ChainViewConfig& cfg);

class ChainView {
 public:
  using Clock = std::function<std::int64_t()>;  // epoch ms
  ChainView(Store& store, ChainViewConfig cfg, Clock clock);

  // After each committed agent batch: takes in its chain-node results and evaluates the
  // groups they belong to.
  void on_batch(const IngestBatch& batch);
  // Periodically: re-evaluates every group (members going silent). Returns results written.
  std::size_t sweep();

  // Called after each derived result is committed (the alert pipeline evaluates it).
  void set_on_recorded(std::function<void(const IngestBatch&)> f) { on_recorded_ = std::move(f); }

  static constexpr const char* kKind = "chain";

 private:
  struct Group {
    std::map<std::string, ChainMember> members;  // by host + "\n" + check
    std::optional<Status> written_status;
    std::int64_t written_ms = 0;
  };
  // Evaluates the group and writes its result when due; true when one was written.
  bool maybe_emit(const std::string& chain, Group& g, std::int64_t now);

  Store& store_;
  ChainViewConfig cfg_;
  Clock clock_;
  std::mutex mu_;
  std::map<std::string, Group> groups_;
  std::function<void(const IngestBatch&)> on_recorded_;
};

}  // namespace xj
