// The fisco_bcos check: parsers on 2.x and 3.x reply shapes, the stall rules with an
// injected clock, then the check end to end against tests/fixtures/chain/fisco_node.py.
// That script stands in for a real node because FISCO BCOS cannot run here; it answers with
// the documented response shapes, scripted per test.
#include "xj/checks/fisco_bcos_check.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "../fixtures/chain/script_server.hpp"
#include "../fixtures/http/test_server.hpp"
#include "xj/checks/json_rpc.hpp"
#include "xj/checks/registry.hpp"

using namespace xj;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct FiscoNode {
  test::ScriptServer server{"tests/fixtures/chain/fisco_node.py"};
  void set(const json& fields) {
    RpcEndpoint ep;
    ep.url = server.url();
    auto r = rpc_call(ep, "xj_set", json::array({fields}), std::chrono::steady_clock::now() + 2s,
                      nullptr);
    REQUIRE(r);
  }
  std::string url() const { return server.url(); }
};

std::unique_ptr<Check> make(const std::string& yaml) {
  return load_check(YAML::Load(yaml), "t.yaml", "checks[0]", CheckEnv{}).check;
}

Result run(Check& c) {
  RunContext ctx(5s);
  return run_guarded(c, ctx);
}

const Metric* metric(const Result& r, const std::string& name) {
  for (const auto& m : r.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

bool says(const Result& r, const std::string& text) {
  return r.summary.find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("a 2.x sync status mixes integers and strings and its lag counts the peers", "[fisco]") {
  auto s = parse_fisco_sync(json::parse(R"({"blockNumber":100,"isSyncing":true,
      "knownHighestNumber":104,"txPoolSize":"7","latestHash":"0xABcd01","peers":[{"blockNumber":"0x6e","nodeId":"a"},
      {"blockNumber":101,"nodeId":"b"}]})"));
  REQUIRE(s);
  CHECK(s->latest_hash == "0xabcd01");
  CHECK(s->height == 100);
  CHECK(s->tx_pool == 7);
  CHECK(s->peers == 2);
  CHECK(s->lag() == 10);  // peer a is at 0x6e = 110
  CHECK(s->syncing);
  CHECK(!parse_fisco_sync(json::parse(R"({"isSyncing":false})")));
}

TEST_CASE("3.x status strings are parsed twice", "[fisco]") {
  const json sync =
      json(R"({"blockNumber":20,"knownHighestNumber":50,"txPoolSize":"0","peers":[]})");
  auto s = parse_fisco_sync(sync);
  REQUIRE(s);
  CHECK(s->lag() == 30);
  const json cons = json(
      R"({"blockNumber":20,"view":77,"timeout":false,"consensusNodesNum":4,"maxFaultyQuorum":1,)"
      R"("minRequiredQuorum":3,"connectedNodeList":4,"leaderIndex":1})");
  auto c = parse_fisco_consensus(cons, FiscoVersion::k3);
  REQUIRE(c);
  CHECK(*c->view == 77);
  CHECK(c->required == 3);
  CHECK(c->alive == 4);
  CHECK_FALSE(c->quorum_lost());
  CHECK(!parse_fisco_sync(json("{not json")));
}

TEST_CASE("2.x quorum is nodeNum minus max_faulty_leader against the connected nodes plus itself",
          "[fisco]") {
  auto status = [](int connected) {
    return json::array({{{"nodeNum", 4},
                         {"max_faulty_leader", 1},
                         {"connectedNodes", connected},
                         {"currentView", "0x10"},
                         {"cfgErr", false},
                         {"leaderFailed", false}},
                        json::array()});
  };
  auto healthy = parse_fisco_consensus(status(3), FiscoVersion::k2);
  REQUIRE(healthy);
  CHECK(healthy->required == 3);
  CHECK(healthy->alive == 4);
  CHECK(*healthy->view == 16);
  CHECK_FALSE(parse_fisco_consensus(status(2), FiscoVersion::k2)->quorum_lost());
  CHECK(parse_fisco_consensus(status(1), FiscoVersion::k2)->quorum_lost());
}

TEST_CASE("total transaction counts are read in both versions' field names", "[fisco]") {
  auto v2 = parse_fisco_tx_count(
      json::parse(R"({"blockNumber":"0x1","txSum":"0x20","failedTxSum":"0x1"})"));
  REQUIRE(v2);
  CHECK(v2->total == 32);
  CHECK(v2->failed == 1);
  auto v3 = parse_fisco_tx_count(
      json::parse(R"({"blockNumber":1,"transactionCount":40,"failedTransactionCount":0})"));
  REQUIRE(v3);
  CHECK(v3->total == 40);
}

TEST_CASE("history: pending transactions on a flat height stall only after max_block_interval",
          "[fisco]") {
  FiscoHistory h(120, 3);
  CHECK_FALSE(h.add({0, 10, 5, 0, 100}).stalled_with_pending);
  CHECK_FALSE(h.add({60, 10, 6, 3, 100}).stalled_with_pending);   // pending since t=60
  CHECK_FALSE(h.add({170, 10, 7, 3, 100}).stalled_with_pending);  // 110 s
  auto v = h.add({190, 10, 8, 3, 100});                           // 130 s
  CHECK(v.stalled_with_pending);
  CHECK(v.pending_flat_s == Approx(130));
  CHECK(v.height_flat_s == Approx(190));
  // A new block clears it.
  CHECK_FALSE(h.add({200, 11, 8, 3, 103}).stalled_with_pending);
}

TEST_CASE("history: an idle chain with a rising view is healthy, a frozen one is not", "[fisco]") {
  FiscoHistory idle(120, 3);
  for (int i = 0; i < 10; ++i) {
    auto v = idle.add({i * 60.0, 10, static_cast<std::uint64_t>(100 + i), 0, 100});
    CHECK_FALSE(v.frozen);
    CHECK_FALSE(v.stalled_with_pending);
  }
  FiscoHistory frozen(120, 3);
  CHECK_FALSE(frozen.add({0, 10, 100, 0, 100}).frozen);
  CHECK_FALSE(frozen.add({60, 10, 100, 0, 100}).frozen);
  CHECK(frozen.add({120, 10, 100, 0, 100}).frozen);
  CHECK_FALSE(frozen.add({180, 10, 101, 0, 100}).frozen);
}

TEST_CASE("history: TPS is the total transaction count's change per second", "[fisco]") {
  FiscoHistory h(120, 3);
  CHECK(!h.add({0, 10, 1, 0, 1000}).tps);
  CHECK(*h.add({10, 12, 2, 0, 1500}).tps == Approx(50));
}

TEST_CASE("a 2.x node is detected and reports height, view, peers, quorum and TPS",
          "[fisco][real]") {
  FiscoNode node;
  auto check = make("kind: fisco_bcos\nurl: " + node.url() + "\n");
  Result first = run(*check);
  INFO(first.summary);
  REQUIRE(first.status == Status::kOk);
  CHECK(first.details["version"] == "2.x");
  std::string head_hash = "0x";  // the stand-in's latestHash: "0x" + "cd" * 32
  for (int i = 0; i < 32; ++i) head_hash += "cd";
  CHECK(first.details["block_hash"] == head_hash);
  CHECK(metric(first, "block_number")->value == 100);
  CHECK(metric(first, "pbft_view")->value == 500);
  CHECK(metric(first, "peers")->value == 3);
  CHECK(metric(first, "consensus_connected")->value == 4);
  CHECK(metric(first, "quorum_required")->value == 3);
  CHECK(metric(first, "total_tx")->value == 1000);
  node.set({{"height", 110}, {"view", 510}, {"total_tx", 1100}});
  std::this_thread::sleep_for(500ms);
  Result second = run(*check);
  INFO(second.summary);
  CHECK(second.status == Status::kOk);
  REQUIRE(metric(second, "tps") != nullptr);
  CHECK(metric(second, "tps")->value > 100);
  CHECK(metric(second, "tps")->value < 220);
}

TEST_CASE("a 3.x node with string-encoded status is detected and read", "[fisco][real]") {
  FiscoNode node;
  node.set({{"version", 3}, {"height", 42}, {"view", 9}, {"pending", 2}});
  auto check = make("kind: fisco_bcos\nurl: " + node.url() + "\n");
  Result r = run(*check);
  INFO(r.summary);
  CHECK(r.status == Status::kOk);
  CHECK(r.details["version"] == "3.x");
  CHECK(metric(r, "block_number")->value == 42);
  CHECK(metric(r, "pbft_view")->value == 9);
  CHECK(metric(r, "pending_tx")->value == 2);
  CHECK(metric(r, "consensus_connected")->value == 4);
  CHECK(r.details.find("errors") == r.details.end());
}

TEST_CASE("height flat while transactions are pending beyond max_block_interval is critical",
          "[fisco][real]") {
  FiscoNode node;
  node.set({{"pending", 25}});
  auto check = make("kind: fisco_bcos\nurl: " + node.url() + "\nmax_block_interval: 1s\n");
  node.set({{"view", 501}});
  CHECK(run(*check).status == Status::kOk);
  std::this_thread::sleep_for(1200ms);
  node.set({{"view", 502}});  // the view moves: only the pending rule can fire
  Result r = run(*check);
  INFO(r.summary);
  CHECK(r.status == Status::kCritical);
  CHECK(says(r, "height flat for 1 s with 25 transactions pending"));
  node.set({{"height", 101}});
  CHECK(run(*check).status == Status::kOk);
}

TEST_CASE("an idle chain whose view keeps rising stays ok however long the height is flat",
          "[fisco][real]") {
  FiscoNode node;
  auto check = make("kind: fisco_bcos\nurl: " + node.url() + "\nmax_block_interval: 1s\n");
  for (int i = 0; i < 4; ++i) {
    node.set({{"view", 600 + i}});
    Result r = run(*check);
    INFO(r.summary);
    CHECK(r.status == Status::kOk);
    std::this_thread::sleep_for(400ms);
  }
}

TEST_CASE("height and view frozen over three runs is critical", "[fisco][real]") {
  FiscoNode node;
  node.set({{"version", 3}});
  auto check = make("kind: fisco_bcos\nurl: " + node.url() + "\n");
  CHECK(run(*check).status == Status::kOk);
  CHECK(run(*check).status == Status::kOk);
  Result r = run(*check);
  INFO(r.summary);
  CHECK(r.status == Status::kCritical);
  CHECK(says(r, "height and PBFT view both frozen"));
}

TEST_CASE("a node 10 blocks behind is a warning and 30 behind is critical", "[fisco][real]") {
  FiscoNode node;
  auto check = make("kind: fisco_bcos\nurl: " + node.url() + "\n");
  node.set({{"known_highest", 109}});
  CHECK(run(*check).status == Status::kOk);
  node.set({{"known_highest", 110}, {"view", 501}});
  Result warn = run(*check);
  INFO(warn.summary);
  CHECK(warn.status == Status::kWarning);
  CHECK(says(warn, "10 blocks behind"));
  node.set({{"known_highest", 130}, {"view", 502}});
  Result crit = run(*check);
  INFO(crit.summary);
  CHECK(crit.status == Status::kCritical);
  CHECK(metric(crit, "sync_lag_blocks")->value == 30);
}

TEST_CASE("lost quorum is critical in both versions", "[fisco][real]") {
  FiscoNode node;
  node.set({{"connected", 1}});  // 2.x: one other node + itself = 2 of 4, 3 needed
  auto v2 = make("kind: fisco_bcos\nurl: " + node.url() + "\n");
  Result r2 = run(*v2);
  INFO(r2.summary);
  CHECK(r2.status == Status::kCritical);
  CHECK(says(r2, "quorum lost: 2 of 4 consensus nodes connected, 3 required"));
  node.set({{"version", 3}, {"connected", 2}});
  auto v3 = make("kind: fisco_bcos\nurl: " + node.url() + "\nversion: '3'\n");
  Result r3 = run(*v3);
  INFO(r3.summary);
  CHECK(r3.status == Status::kCritical);
  CHECK(says(r3, "quorum lost: 2 of 4"));
}

TEST_CASE("a consensus config error is critical and a view change a warning", "[fisco][real]") {
  FiscoNode node;
  node.set({{"cfg_err", true}});
  auto check = make("kind: fisco_bcos\nurl: " + node.url() + "\n");
  CHECK(run(*check).status == Status::kCritical);
  node.set({{"cfg_err", false}, {"view_change", true}, {"view", 505}});
  Result r = run(*check);
  INFO(r.summary);
  CHECK(r.status == Status::kWarning);
  CHECK(says(r, "view change under way"));
}

TEST_CASE("a failing optional method is recorded without failing the check", "[fisco][real]") {
  FiscoNode node;
  node.set({{"fail", {{"getTotalTransactionCount", "internal error"}}}});
  auto check = make("kind: fisco_bcos\nurl: " + node.url() + "\n");
  Result r = run(*check);
  INFO(r.summary);
  CHECK(r.status == Status::kOk);
  CHECK(metric(r, "total_tx") == nullptr);
  CHECK(r.details["errors"]["getTotalTransactionCount"] == "internal error");
}

TEST_CASE("an unreachable FISCO node is critical", "[fisco][real]") {
  auto check =
      make("kind: fisco_bcos\nurl: http://127.0.0.1:" + std::to_string(test::closed_port()) + "\n");
  Result r = run(*check);
  CHECK(r.status == Status::kCritical);
  CHECK(says(r, "unreachable"));
}

TEST_CASE("fisco_bcos config errors name the key", "[fisco]") {
  CHECK_THROWS_WITH(make("kind: fisco_bcos\nurl: http://x\nversion: '4'\n"),
                    Catch::Contains("version"));
  CHECK_THROWS_WITH(make("kind: fisco_bcos\nurl: http://x\nversion: '2'\ngroup: group0\n"),
                    Catch::Contains("2.x group is a number"));
  CHECK_THROWS_WITH(make("kind: fisco_bcos\nurl: http://x\nlag_warn: 40\n"),
                    Catch::Contains("lag_crit"));
}
