// The chainmaker check against tests/fixtures/chain/metrics_node.py serving /metrics as a
// ChainMaker monitor port does (ChainMaker cannot run here).
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "metrics_node.hpp"

using namespace xj;
using namespace xj::test;
using namespace std::chrono_literals;

namespace {

std::string metrics(int blocks, int pool, int txs, int rpc) {
  return "# TYPE chainmaker_committer_metric_block_counter counter\n"
         "chainmaker_committer_metric_block_counter{chainId=\"chain1\"} " +
         std::to_string(blocks) +
         "\n"
         "chainmaker_committer_metric_tx_counter{chainId=\"chain1\"} " +
         std::to_string(txs) +
         "\n"
         "chainmaker_txpool_metric_tx_pool_size{chainId=\"chain1\",poolType=\"normal\"} " +
         std::to_string(pool) +
         "\n"
         "chainmaker_txpool_metric_tx_pool_size{chainId=\"chain1\",poolType=\"config\"} 0\n"
         "chainmaker_rpcserver_metric_rpc_recv_counter{service=\"api.RpcNode\",method="
         "\"SendRequest\"} " +
         std::to_string(rpc) + "\n";
}

}  // namespace

TEST_CASE("a committing chainmaker node reports blocks, pool, TPS and RPC rate",
          "[chainmaker][real]") {
  MetricsNode node;
  node.set("/metrics", 200, metrics(100, 3, 5000, 10));
  auto check = make_check("kind: chainmaker\nurl: " + node.url("/metrics") + "\n");
  Result first = run_check(*check);
  INFO(first.summary);
  CHECK(first.status == Status::kOk);
  CHECK(find_metric(first, "block_counter", "chain1")->value == 100);
  CHECK(find_metric(first, "tx_pool_size", "chain1")->value == 3);
  node.set("/metrics", 200, metrics(110, 0, 5500, 60));
  std::this_thread::sleep_for(500ms);
  Result second = run_check(*check);
  INFO(second.summary);
  CHECK(second.status == Status::kOk);
  REQUIRE(find_metric(second, "tps", "chain1") != nullptr);
  CHECK(find_metric(second, "tps", "chain1")->value > 400);
  CHECK(find_metric(second, "tps", "chain1")->value < 1100);
  REQUIRE(find_metric(second, "rpc_requests_per_s") != nullptr);
  CHECK(find_metric(second, "rpc_requests_per_s")->value > 40);
}

TEST_CASE("no block while transactions are pending beyond max_block_interval is critical",
          "[chainmaker][real]") {
  MetricsNode node;
  node.set("/metrics", 200, metrics(100, 8, 5000, 0));
  auto check =
      make_check("kind: chainmaker\nurl: " + node.url("/metrics") + "\nmax_block_interval: 1s\n");
  CHECK(run_check(*check).status == Status::kOk);
  std::this_thread::sleep_for(1200ms);
  Result r = run_check(*check);
  INFO(r.summary);
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.find("chain chain1 stalled: no block for 1 s with 8 transactions pending") !=
        std::string::npos);
  // An idle chain (nothing pending) is not stalled however long it waits.
  node.set("/metrics", 200, metrics(100, 0, 5000, 0));
  CHECK(run_check(*check).status == Status::kOk);
}

TEST_CASE("chainmaker metrics without a block counter, or bad text, are not ok",
          "[chainmaker][real]") {
  MetricsNode node;
  node.set("/metrics", 200, "go_goroutines 12\n");
  auto check = make_check("kind: chainmaker\nurl: " + node.url("/metrics") + "\n");
  Result none = run_check(*check);
  CHECK(none.status == Status::kCritical);
  CHECK(none.summary.find("no chainmaker_committer_metric_block_counter") != std::string::npos);
  node.set("/metrics", 200, "broken{ 1\n");
  CHECK(run_check(*check).status == Status::kUnknown);
  node.set("/metrics", 200, metrics(1, 0, 0, 0));
  auto other =
      make_check("kind: chainmaker\nurl: " + node.url("/metrics") + "\nchain_id: chain9\n");
  CHECK(run_check(*other).status == Status::kCritical);
}
