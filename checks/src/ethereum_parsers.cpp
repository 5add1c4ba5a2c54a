#include <optional>

#include "xj/checks/ethereum_check.hpp"
#include "xj/checks/json_rpc.hpp"

namespace xj {

double block_timestamp_seconds(std::uint64_t raw) {
  const double v = static_cast<double>(raw);
  if (v >= 1e17) return v / 1e9;  // nanoseconds (Quorum Raft)
  if (v >= 1e14) return v / 1e6;  // microseconds
  if (v >= 1e11) return v / 1e3;  // milliseconds
  return v;
}

Expected<EthSyncing> parse_eth_syncing(const nlohmann::json& result) {
  EthSyncing s;
  if (result.is_boolean()) {
    // `true` alone is what some clients send while they have no numbers yet.
    s.syncing = result.get<bool>();
    return s;
  }
  if (!result.is_object()) return make_error("eth_syncing: unexpected " + result.dump());
  s.syncing = true;
  for (auto [key, out] : {std::pair{"currentBlock", &s.current}, {"highestBlock", &s.highest}}) {
    auto it = result.find(key);
    if (it == result.end()) return make_error(std::string("eth_syncing: no ") + key);
    auto q = parse_quantity(*it);
    if (!q) return make_error(std::string("eth_syncing ") + key + ": " + q.error());
    *out = *q;
  }
  return s;
}

Expected<EthBlock> parse_eth_block(const nlohmann::json& result) {
  if (!result.is_object()) return make_error("latest block: unexpected " + result.dump());
  EthBlock b;
  auto number = result.find("number");
  auto ts = result.find("timestamp");
  if (number == result.end() || ts == result.end()) {
    return make_error("latest block has no number or timestamp");
  }
  auto n = parse_quantity(*number);
  if (!n) return make_error("block number: " + n.error());
  auto t = parse_quantity(*ts);
  if (!t) return make_error("block timestamp: " + t.error());
  b.number = *n;
  b.timestamp_s = block_timestamp_seconds(*t);
  if (auto hash = result.find("hash"); hash != result.end() && hash->is_string()) {
    b.hash = hash->get<std::string>();
  }
  if (auto txs = result.find("transactions"); txs != result.end() && txs->is_array()) {
    b.tx_count = txs->size();
  }
  return b;
}

std::optional<double> tps_over_blocks(const std::vector<EthBlock>& blocks) {
  if (blocks.size() < 2) return std::nullopt;
  const double span = blocks.back().timestamp_s - blocks.front().timestamp_s;
  if (span <= 0) return std::nullopt;
  std::size_t txs = 0;
  for (std::size_t i = 1; i < blocks.size(); ++i) txs += blocks[i].tx_count;
  return static_cast<double>(txs) / span;
}

}  // namespace xj
