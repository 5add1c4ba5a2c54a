// `ethereum`: an Ethereum-compatible node over JSON-RPC (geth, besu, Quorum, anvil, ...).
// The pure parsers of RPC results are here so tests can feed them odd shapes directly.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "xj/common/expected.hpp"

namespace xj {

// A block timestamp in seconds. Ethereum sends seconds; Quorum with Raft sends nanoseconds,
// and some chains milliseconds. A count of seconds stays below 1e11 until the year 5138, so
// anything larger is taken as milli-, micro- or nanoseconds by its magnitude.
double block_timestamp_seconds(std::uint64_t raw);

// What eth_syncing says: `false`, or {startingBlock, currentBlock, highestBlock}.
struct EthSyncing {
  bool syncing = false;
  std::uint64_t current = 0;
  std::uint64_t highest = 0;
};
Expected<EthSyncing> parse_eth_syncing(const nlohmann::json& result);

// The parts of eth_getBlockByNumber's block we use.
struct EthBlock {
  std::uint64_t number = 0;
  double timestamp_s = 0;    // after unit detection
  std::size_t tx_count = 0;  // length of `transactions` (hashes or objects)
  std::string hash;          // the block's hash ("" when the node sends none)
};
Expected<EthBlock> parse_eth_block(const nlohmann::json& result);

// Transactions per second over consecutive blocks in ascending order: the transactions of
// every block after the first, divided by the time from the first block to the last. Null
// when fewer than two blocks or no time passed between them.
std::optional<double> tps_over_blocks(const std::vector<EthBlock>& blocks);

}  // namespace xj
