// The collector's cross-node chain view end to end: two real Ethereum nodes (anvil from npm),
// each checked by its own real xunjian-agent with `chain: evidence`, shipping to a real
// collector. When one node stops mining (evm_setIntervalMining 0) the collector's
// chain:evidence result, read through the API like any check, reports that node's lag and
// goes warning, then critical. Issue 5, acceptance "two anvil nodes in one chain group".
//
// Two anvil nodes are two independent chains, so whenever they stand at the same height their
// head hashes differ and the view rightly calls that a fork. Once one node has stopped they are
// never at the same height again, and lag is all that is left to judge.
#include <catch2/catch.hpp>

#include "../alerts/robot_receiver.hpp"
#include "../fixtures/chain/anvil_node.hpp"
#include "fleet.hpp"

using namespace xj::itest;
using xj::alerts::test::RobotReceiver;

namespace {

struct Observation {
  std::string status;
  double lag = -1;    // the stopped node's lag_blocks
  double forks = -1;
  std::string summary;
};

std::optional<Observation> observe(const CollectorProc& c, const std::string& stopped_host) {
  auto r = c.get("/api/v1/checks?host=collector&kind=chain");
  if (r.status != 200) return std::nullopt;
  const auto answer = r.json();
  for (const auto& check : answer["checks"]) {
    if (check["check"] != "chain:evidence") continue;
    Observation o;
    o.status = check["status"].get<std::string>();
    o.summary = check["summary"].get<std::string>();
    for (const auto& m : check["metrics"]) {
      if (m["name"] == "lag_blocks" && m["labels"].value("host", "") == stopped_host) {
        o.lag = m["value"].get<double>();
      }
      if (m["name"] == "forks") o.forks = m["value"].get<double>();
    }
    return o;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("a node that stops mining lags behind its chain group, and the collector's chain result "
          "goes warning then critical",
          "[integration][chain]") {
  auto dir = scratch_dir("chain-group");
  xj::test::AnvilNode node_a, node_b;
  // Two anvil nodes are two independent chains: whenever they stand at the same height their
  // blocks differ, which the view rightly calls a fork (a critical alert that would hide the
  // lag's). So node B stops mining before anything watches it, and A gets ahead first: from
  // then on their heights never meet and the only story is B's growing lag.
  auto height = [](xj::test::AnvilNode& n) -> std::uint64_t {
    auto r = n.call("eth_blockNumber", nlohmann::json::array());
    REQUIRE(r);
    REQUIRE(r->result);
    return std::stoull(r->result->get<std::string>(), nullptr, 16);
  };
  auto stop = node_b.call("evm_setIntervalMining", nlohmann::json::array({0}));
  REQUIRE(stop);
  REQUIRE(!stop->error);
  const std::uint64_t b_height = height(node_b);
  REQUIRE(wait_until(10s, [&] { return height(node_a) > b_height; }));
  // The alert rules see chain:evidence like any check: a WeCom robot stand-in
  // (tests/fixtures/robot_receiver.py, enforcing the robot's protocol) receives its alerts.
  RobotReceiver rx(dir / "rx");
  ::setenv("XJ_TEST_WECOM_KEY", "wecom-key", 1);
  // Small lag thresholds keep the test short: anvil makes a block a second.
  CollectorProc collector(dir / "collector", "1s", std::nullopt,
                          "chains:\n  lag_warn: 3\n  lag_crit: 8\n  interval: 1s\n"
                          "alerts:\n"
                          "  retry: {initial: 200ms, max: 1s}\n"
                          "  channels:\n"
                          "    - name: ops-group\n"
                          "      type: wecom\n"
                          "      url: " + rx.base() + "/cgi-bin/webhook/send\n"
                          "      key_env: XJ_TEST_WECOM_KEY\n");
  collector.start();

  std::vector<std::unique_ptr<AgentProc>> agents;
  for (auto [id, url] : {std::pair{"chain-a", node_a.url()}, std::pair{"chain-b", node_b.url()}}) {
    AgentOptions o;
    o.id = id;
    o.collector_url = collector.url();
    o.token_file = dir / (std::string(id) + ".token");
    o.checks = "  - kind: ethereum\n    url: " + url + "\n    chain: evidence\n";
    collector.agent_token(o.id, o.token_file);
    agents.push_back(std::make_unique<AgentProc>(dir / id, o));
    agents.back()->start();
  }
  auto logs = [&] {
    return "collector log:\n" + slurp(collector.log()) + "\nagent chain-b log:\n" + slurp(dir / "chain-b" / "agent.log");
  };

  // Both nodes reporting in the group.
  bool grouped = wait_until(20s, [&] {
    auto o = observe(collector, "chain-b");
    return o && o->lag >= 0 && o->summary.find("chain evidence: 2 nodes") == 0;
  });
  INFO(logs());
  REQUIRE(grouped);

  std::vector<Observation> seen;
  bool critical = wait_until(30s, [&] {
    auto o = observe(collector, "chain-b");
    if (!o) return false;
    seen.push_back(*o);
    return o->status == "critical" && o->lag >= 8;
  });
  std::string trace;
  for (const auto& o : seen) trace += o.status + " lag " + std::to_string(o.lag) + ": " + o.summary + "\n";
  INFO("observed:\n" << trace);
  REQUIRE(critical);
  // On the way there: a lag of 3 to 7 blocks was a warning, and no fork was claimed (the
  // heights never met).
  bool warned = false;
  for (const auto& o : seen) {
    if (o.lag >= 3 && o.lag < 8) {
      CHECK(o.status == "warning");
      warned = warned || o.status == "warning";
    }
    CHECK(o.forks == 0);
  }
  CHECK(warned);
  CHECK_THAT(seen.back().summary, Catch::Contains("chain-b/ethereum:" + node_b.url() + " "));
  CHECK_THAT(seen.back().summary, Catch::Contains("blocks behind"));

  // The derived result went through the normal path: status changes of host "collector" and
  // a stored series of the stopped node's lag.
  auto host = collector.get_json("/api/v1/hosts/collector");
  bool changed_to_warning = false, changed_to_critical = false;
  for (const auto& c : host["changes"]) {
    if (c["check"] != "chain:evidence") continue;
    changed_to_warning = changed_to_warning || c["to"] == "warning";
    changed_to_critical = changed_to_critical || c["to"] == "critical";
  }
  CHECK(changed_to_warning);
  CHECK(changed_to_critical);
  // The collector's own host has no agent, and serve exempts it from liveness: after well
  // over 3 missed 1 s heartbeats it still has no host:alive at all.
  const auto own = collector.get_json("/api/v1/checks?host=collector");
  REQUIRE(own["checks"].size() >= 1);  // chain:evidence
  for (const auto& c : own["checks"]) CHECK(c["check"] != "host:alive");
  // ... and a critical alert about the lag reached the robot, under the collector's host and
  // the system its nodes share (the agents' label).
  std::string alert;
  const bool alerted = wait_until(15s, [&] {
    for (const auto& m : rx.accepted("wecom")) {
      const std::string text = m["content"];
      if (text.find("chain:evidence") != std::string::npos && text.find("【严重】") != std::string::npos &&
          text.find("max_lag_blocks") != std::string::npos) {
        alert = text;
        return true;
      }
    }
    return false;
  });
  std::string messages;
  for (const auto& m : rx.accepted("wecom")) messages += m["content"].get<std::string>() + "\n---\n";
  INFO("robot got:\n" << messages);
  REQUIRE(alerted);
  CHECK_THAT(alert, Catch::Contains("主机：collector"));
  CHECK_THAT(alert, Catch::Contains("系统：集成测试平台"));
  CHECK_THAT(alert, Catch::Contains("blocks behind"));
  CHECK(rx.rejected().empty());
  // The view writes a result at once when its verdict changes, between its rounds: such an early
  // result must not shorten the interval "no data" waits for (CI's failure of 2026-12-02 was a
  // no-data alert on chain:evidence after 0 s of quiet).
  for (const auto& m : rx.accepted("wecom")) {
    CHECK_THAT(m["content"].get<std::string>(), !Catch::Contains("【无数据】"));
  }

  auto series = collector.get_json("/api/v1/series?host=collector&check=chain:evidence&metric=lag_blocks"
                                   "&label.host=chain-b&label.check=ethereum:" + node_b.url() + "&step=0");
  REQUIRE(series["series"].size() == 1);
  CHECK(series["series"][0]["points"].size() >= 3);

  for (auto& a : agents) CHECK(a->stop() == 0);
}
