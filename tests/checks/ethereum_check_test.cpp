// The ethereum check: the RPC parsers on reply shapes of several clients, then a real node
// (anvil from npm, see tests/fixtures/chain/anvil_node.hpp) mining, stopped and paused.
#include "xj/checks/ethereum_check.hpp"

#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "../fixtures/chain/anvil_node.hpp"
#include "xj/checks/json_rpc.hpp"
#include "xj/checks/registry.hpp"

using namespace xj;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::unique_ptr<Check> make(const std::string& yaml) {
  return load_check(YAML::Load(yaml), "t.yaml", "checks[0]", CheckEnv{}).check;
}

Result run(Check& c, std::chrono::milliseconds timeout = 5s) {
  RunContext ctx(timeout);
  return run_guarded(c, ctx);
}

const Metric* metric(const Result& r, const std::string& name) {
  for (const auto& m : r.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("quantities are read from hex strings, JSON integers and decimal strings", "[ethereum]") {
  CHECK(*parse_quantity(json("0x1a")) == 26);
  CHECK(*parse_quantity(json("0x0")) == 0);
  CHECK(*parse_quantity(json(25)) == 25);
  CHECK(*parse_quantity(json("25")) == 25);
  CHECK(!parse_quantity(json("0x")));
  CHECK(!parse_quantity(json("0xzz")));
  CHECK(!parse_quantity(json(-1)));
  CHECK(!parse_quantity(json(nullptr)));
}

TEST_CASE("JSON-RPC replies give a result or an error, and Method not found is recognised",
          "[ethereum]") {
  auto ok = parse_rpc_reply(R"({"jsonrpc":"2.0","id":1,"result":"0x10"})");
  REQUIRE(ok);
  CHECK(*ok->result == "0x10");
  auto err = parse_rpc_reply(
      R"({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}})");
  REQUIRE(err);
  REQUIRE(err->error);
  CHECK(method_not_found(*err->error));
  // Some clients use another code but say so in the message.
  CHECK(method_not_found({-32000, "the method net_peerCount does not exist/is not available"}));
  CHECK_FALSE(method_not_found({-32000, "header not found"}));
  CHECK_FALSE(method_not_found({-32602, "invalid argument 0"}));
  CHECK(!parse_rpc_reply("<html>bad gateway</html>"));
  CHECK(!parse_rpc_reply(R"({"jsonrpc":"2.0","id":1})"));
}

TEST_CASE("block timestamps in nanoseconds (Quorum Raft) and milliseconds become seconds",
          "[ethereum]") {
  CHECK(block_timestamp_seconds(1767225600) == 1767225600.0);
  CHECK(block_timestamp_seconds(1767225600000ULL) == Approx(1767225600.0));
  CHECK(block_timestamp_seconds(1767225600123456789ULL) == Approx(1767225600.123456789));
  auto b = parse_eth_block(json::parse(
      R"({"number":"0x64","timestamp":"0x18867251edfa0000","transactions":["0xa","0xb"]})"));
  REQUIRE(b);
  CHECK(b->number == 100);
  CHECK(b->timestamp_s == Approx(1767225600.0).epsilon(1e-6));  // 0x1886... ns
  CHECK(b->tx_count == 2);
  CHECK(b->hash.empty());  // a node that sends no hash: no fork detection, nothing else lost
  auto hashed = parse_eth_block(json::parse(R"({"number":"0x1","timestamp":"0x5","hash":"0xabc"})"));
  REQUIRE(hashed);
  CHECK(hashed->hash == "0xabc");
}

TEST_CASE("eth_syncing is false or an object with current and highest block", "[ethereum]") {
  auto idle = parse_eth_syncing(json(false));
  REQUIRE(idle);
  CHECK_FALSE(idle->syncing);
  auto busy = parse_eth_syncing(
      json::parse(R"({"startingBlock":"0x0","currentBlock":"0x10","highestBlock":"0x40"})"));
  REQUIRE(busy);
  CHECK(busy->syncing);
  CHECK(busy->current == 16);
  CHECK(busy->highest == 64);
  CHECK(!parse_eth_syncing(json::parse(R"({"startingBlock":"0x0"})")));
}

TEST_CASE("TPS is the transactions after the first block over the blocks' time span",
          "[ethereum]") {
  CHECK(!tps_over_blocks({}));
  CHECK(!tps_over_blocks({{1, 100, 5, ""}}));
  CHECK(*tps_over_blocks({{1, 100, 50, ""}, {2, 102, 10, ""}, {3, 104, 30, ""}}) == Approx(10.0));
  CHECK(!tps_over_blocks({{1, 100, 0, ""}, {2, 100, 3, ""}}));
}

TEST_CASE("a mining node is ok, its height grows and TPS counts sent transactions",
          "[ethereum][real]") {
  test::AnvilNode node;
  auto check = make("kind: ethereum\nurl: " + node.url() + "\nmin_peers: 0\nmax_head_age: 10s\n");
  Result first = run(*check);
  INFO(first.summary);
  REQUIRE(first.status == Status::kOk);
  REQUIRE(metric(first, "block_number") != nullptr);
  CHECK(metric(first, "head_age_s")->value < 5);
  CHECK(metric(first, "listening")->value == 1);
  CHECK(metric(first, "reachable")->value == 1);
  CHECK(metric(first, "latency_ms")->value > 0);
  // anvil answers net_peerCount with "Method not found": no metric, and still ok.
  CHECK(metric(first, "peers") == nullptr);
  // The head block's hash, for the collector's fork detection: the node's own for that height.
  char height_hex[24];
  std::snprintf(height_hex, sizeof height_hex, "0x%llx",
                static_cast<unsigned long long>(metric(first, "block_number")->value));
  auto block = node.call("eth_getBlockByNumber", {height_hex, false});
  REQUIRE(block);
  REQUIRE(block->result);
  REQUIRE(first.details.contains("block_hash"));
  CHECK(first.details["block_hash"] == (*block->result)["hash"]);
  CHECK(first.details["block_hash"].get<std::string>().size() == 66);
  auto accounts = node.call("eth_accounts", json::array());
  REQUIRE(accounts);
  REQUIRE(accounts->result->size() >= 2);
  for (int i = 0; i < 4; ++i) {
    auto sent = node.call(
        "eth_sendTransaction",
        {{{"from", (*accounts->result)[0]}, {"to", (*accounts->result)[1]}, {"value", "0x1"}}});
    REQUIRE(sent);
    REQUIRE(sent->result);
  }
  std::this_thread::sleep_for(2500ms);
  Result second = run(*check);
  INFO(second.summary);
  CHECK(second.status == Status::kOk);
  CHECK(metric(second, "block_number")->value >= metric(first, "block_number")->value + 2);
  REQUIRE(metric(second, "tps") != nullptr);
  CHECK(metric(second, "tps")->value > 0);
  CHECK(second.summary.find("tx/s") != std::string::npos);
}

TEST_CASE("a node that stopped mining turns head-age critical and recovers when it mines again",
          "[ethereum][real]") {
  test::AnvilNode node;
  auto check = make("kind: ethereum\nurl: " + node.url() + "\nmin_peers: 0\nmax_head_age: 2s\n");
  REQUIRE(run(*check).status == Status::kOk);
  REQUIRE(node.call("evm_setIntervalMining", {0}));
  std::this_thread::sleep_for(3500ms);
  Result stalled = run(*check);
  INFO(stalled.summary);
  CHECK(stalled.status == Status::kCritical);
  CHECK(metric(stalled, "head_age_s")->value > 2);
  CHECK(stalled.summary.find("no new block for longer than 2s") != std::string::npos);
  REQUIRE(node.call("evm_setIntervalMining", {1}));
  std::this_thread::sleep_for(1500ms);
  Result again = run(*check);
  INFO(again.summary);
  CHECK(again.status == Status::kOk);
}

TEST_CASE("a paused node (SIGSTOP) is critical within the timeout and ok after SIGCONT",
          "[ethereum][real]") {
  test::AnvilNode node;
  auto check = make("kind: ethereum\nurl: " + node.url() + "\nmin_peers: 0\nmax_head_age: 5s\n");
  REQUIRE(run(*check).status == Status::kOk);
  node.pause();
  const auto started = std::chrono::steady_clock::now();
  Result paused = run(*check, 1500ms);
  const auto took = std::chrono::steady_clock::now() - started;
  node.resume();
  INFO(paused.summary);
  CHECK(took < 2500ms);
  CHECK(paused.status == Status::kCritical);
  CHECK(paused.summary.find("unreachable") != std::string::npos);
  CHECK(metric(paused, "reachable")->value == 0);
  std::this_thread::sleep_for(1500ms);
  Result resumed = run(*check);
  INFO(resumed.summary);
  CHECK(resumed.status == Status::kOk);
}

TEST_CASE("a node that does not listen on its port is critical", "[ethereum][real]") {
  auto check =
      make("kind: ethereum\nurl: http://127.0.0.1:" + std::to_string(test::closed_port()) + "\n");
  Result r = run(*check);
  INFO(r.summary);
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.find("unreachable") != std::string::npos);
}

TEST_CASE("ethereum config errors name the key", "[ethereum]") {
  CHECK_THROWS_WITH(make("kind: ethereum\nurl: ftp://x\n"), Catch::Contains("url"));
  CHECK_THROWS_WITH(make("kind: ethereum\nurl: http://x\nmin_peers: -1\n"),
                    Catch::Contains("min_peers"));
  CHECK_THROWS_WITH(make("kind: ethereum\nurl: http://x\nkey_file: /k\n"),
                    Catch::Contains("needs cert_file"));
}
