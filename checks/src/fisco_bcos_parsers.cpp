#include <algorithm>
#include <cctype>

#include "xj/checks/fisco_bcos_check.hpp"
#include "xj/checks/json_rpc.hpp"

namespace xj {

namespace {

// A quantity under `key`, absent or unreadable as nullopt.
std::optional<std::uint64_t> quantity_at(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  auto q = parse_quantity(*it);
  if (!q) return std::nullopt;
  return *q;
}

bool bool_at(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) return it->get<std::string>() == "true";
  return false;
}

}  // namespace

Expected<FiscoSync> parse_fisco_sync(const nlohmann::json& result) {
  auto doc = unwrap_json_string(result);
  if (!doc) return make_error("getSyncStatus: " + doc.error());
  const nlohmann::json& j = *doc;
  if (!j.is_object()) return make_error("getSyncStatus: not an object: " + j.dump());
  FiscoSync s;
  auto height = quantity_at(j, "blockNumber");
  if (!height) return make_error("getSyncStatus: no blockNumber");
  s.height = *height;
  s.known_highest = quantity_at(j, "knownHighestNumber").value_or(s.height);
  s.tx_pool = quantity_at(j, "txPoolSize").value_or(0);
  s.syncing = bool_at(j, "isSyncing");
  if (auto h = j.find("latestHash"); h != j.end() && h->is_string()) {
    s.latest_hash = h->get<std::string>();
    for (auto& ch : s.latest_hash) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  if (auto peers = j.find("peers"); peers != j.end() && peers->is_array()) {
    s.peers = peers->size();
    for (const auto& p : *peers) {
      if (!p.is_object()) continue;
      if (auto n = quantity_at(p, "blockNumber")) s.known_highest = std::max(s.known_highest, *n);
    }
  }
  return s;
}

Expected<FiscoConsensus> parse_fisco_consensus(const nlohmann::json& result, FiscoVersion v) {
  auto doc = unwrap_json_string(result);
  if (!doc) return make_error("getConsensusStatus: " + doc.error());
  FiscoConsensus c;
  if (v == FiscoVersion::k2) {
    const nlohmann::json* status = &*doc;
    if (doc->is_array()) {
      if (doc->empty()) return make_error("getConsensusStatus: empty array");
      status = &(*doc)[0];
    }
    if (!status->is_object()) return make_error("getConsensusStatus: not an object");
    auto n = quantity_at(*status, "nodeNum");
    auto f = quantity_at(*status, "max_faulty_leader");
    if (!n || !f) return make_error("getConsensusStatus: no nodeNum / max_faulty_leader");
    c.nodes = *n;
    c.required = *n > *f ? *n - *f : *n;
    // 2.x counts the other consensus nodes it is connected to; add the node itself.
    c.alive = std::min(c.nodes, quantity_at(*status, "connectedNodes").value_or(0) + 1);
    c.view = quantity_at(*status, "currentView");
    c.cfg_err = bool_at(*status, "cfgErr");
    c.leader_failed = bool_at(*status, "leaderFailed");
    return c;
  }
  const nlohmann::json& j = *doc;
  if (!j.is_object()) return make_error("getConsensusStatus: not an object");
  auto n = quantity_at(j, "consensusNodesNum");
  if (!n) return make_error("getConsensusStatus: no consensusNodesNum");
  c.nodes = *n;
  if (auto q = quantity_at(j, "minRequiredQuorum")) {
    c.required = *q;
  } else if (auto f = quantity_at(j, "maxFaultyQuorum")) {
    c.required = *n > *f ? *n - *f : *n;
  } else {
    return make_error("getConsensusStatus: no minRequiredQuorum / maxFaultyQuorum");
  }
  // 3.x's connectedNodeList is a count (older builds: a list) that includes the node itself.
  std::uint64_t connected = 0;
  if (auto it = j.find("connectedNodeList"); it != j.end()) {
    if (it->is_array()) {
      connected = it->size();
    } else if (auto q = parse_quantity(*it)) {
      connected = *q;
    }
  }
  c.alive = std::min(c.nodes, connected);
  c.view = quantity_at(j, "view");
  c.timeout = bool_at(j, "timeout");
  return c;
}

Expected<FiscoTxCount> parse_fisco_tx_count(const nlohmann::json& result) {
  auto doc = unwrap_json_string(result);
  if (!doc || !doc->is_object()) return make_error("getTotalTransactionCount: not an object");
  FiscoTxCount t;
  auto total = quantity_at(*doc, "txSum");
  if (!total) total = quantity_at(*doc, "transactionCount");
  if (!total) return make_error("getTotalTransactionCount: no txSum / transactionCount");
  t.total = *total;
  auto failed = quantity_at(*doc, "failedTxSum");
  if (!failed) failed = quantity_at(*doc, "failedTransactionCount");
  t.failed = failed.value_or(0);
  return t;
}

FiscoVerdict FiscoHistory::add(const FiscoSample& s) {
  FiscoVerdict v;
  if (!runs_.empty()) {
    const FiscoSample& prev = runs_.back();
    if (s.height != prev.height) {
      height_since_s_ = s.t_s;
      pending_since_s_.reset();
    }
    if (prev.total_tx && s.total_tx && *s.total_tx >= *prev.total_tx && s.t_s > prev.t_s) {
      v.tps = static_cast<double>(*s.total_tx - *prev.total_tx) / (s.t_s - prev.t_s);
    }
  } else {
    height_since_s_ = s.t_s;
  }
  if (s.pending == 0) {
    pending_since_s_.reset();
  } else if (!pending_since_s_) {
    pending_since_s_ = s.t_s;
  }
  v.height_flat_s = s.t_s - *height_since_s_;
  if (pending_since_s_) {
    v.pending_flat_s = s.t_s - *pending_since_s_;
    v.stalled_with_pending = v.pending_flat_s > max_block_interval_s_;
  }
  runs_.push_back(s);
  while (runs_.size() > static_cast<std::size_t>(frozen_runs_)) runs_.pop_front();
  if (runs_.size() == static_cast<std::size_t>(frozen_runs_) && s.view) {
    v.frozen = std::all_of(runs_.begin(), runs_.end(), [&](const FiscoSample& r) {
      return r.height == s.height && r.view == s.view;
    });
  }
  return v;
}

}  // namespace xj
