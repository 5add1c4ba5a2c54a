// The chain view's group evaluation (pure), and ChainView over a real SQLite store: the
// derived chain:<name> result is stored like any result, under the collector's host id.
#include <catch2/catch.hpp>

#include "store_test_util.hpp"
#include "xj/collector/chain_view.hpp"
#include "xj/collector/liveness.hpp"

using namespace xj;
using namespace xj::test;

namespace {

constexpr std::int64_t kSec = 1000;

ChainMember node(const std::string& host, std::int64_t height, std::int64_t ts, std::string hash = "",
                 std::int64_t interval = 10 * kSec) {
  ChainMember m;
  m.host = host;
  m.check = "ethereum:http://" + host + ":8545";
  m.kind = "ethereum";
  m.status = Status::kOk;
  m.ts_ms = ts;
  m.interval.add_gap(interval);
  m.heights[""] = height;
  m.block_hash = std::move(hash);
  return m;
}

ChainMember down_node(const std::string& host, std::int64_t ts) {
  ChainMember m = node(host, 0, ts);
  m.heights.clear();
  m.reachable = false;
  m.status = Status::kCritical;
  m.summary = "ethereum node unreachable: connection refused";
  return m;
}

const Metric* find_metric(const Result& r, const std::string& name, const Labels& labels = {}) {
  for (const auto& m : r.metrics) {
    if (m.name == name && (labels.empty() || m.labels == labels)) return &m;
  }
  return nullptr;
}

double lag_of(const Result& r, const ChainMember& m) {
  const Metric* lag = find_metric(r, "lag_blocks", {{"host", m.host}, {"check", m.check}});
  REQUIRE(lag != nullptr);
  return lag->value;
}

// An ethereum result as an agent ships it.
Result eth_result(const std::string& url, std::int64_t height, std::int64_t ts, Labels labels = {}) {
  Result r;
  r.check = "ethereum:" + url;
  r.kind = "ethereum";
  r.status = Status::kOk;
  r.summary = "ethereum node " + url;
  r.ts_ms = ts;
  r.metrics.push_back({"reachable", 1, "", {}, std::nullopt, Range::below(1)});
  r.metrics.push_back({"block_number", static_cast<double>(height), "", {}, std::nullopt, std::nullopt});
  r.details = {{"url", url}, {"block_hash", "0xh" + std::to_string(height)}};
  if (!labels.empty()) r.details["labels"] = labels;
  return r;
}

IngestBatch agent_batch(const std::string& agent, Labels agent_labels, std::vector<Result> results) {
  IngestBatch b;
  b.agent = AgentInfo{agent, agent, "0.1.0", std::move(agent_labels)};
  std::int64_t seq = 1;
  for (auto& r : results) b.results.push_back({seq++, std::move(r)});
  return b;
}

}  // namespace

TEST_CASE("a chain group reports the highest height and each node's lag behind it", "[chain-view]") {
  ChainViewConfig cfg;
  const auto a = node("a", 1000, kT0), b = node("b", 997, kT0), c = node("c", 1000, kT0);
  Result r = evaluate_chain_group("evidence", {a, b, c}, kT0 + kSec, cfg);
  CHECK(r.check == "chain:evidence");
  CHECK(r.kind == "chain");
  CHECK(r.status == Status::kOk);
  CHECK(find_metric(r, "height")->value == 1000);
  CHECK(lag_of(r, a) == 0);
  CHECK(lag_of(r, b) == 3);
  CHECK(find_metric(r, "max_lag_blocks")->value == 3);
  CHECK(find_metric(r, "nodes")->value == 3);
  CHECK(r.details["labels"]["chain"] == "evidence");
  CHECK(r.summary == "chain evidence: 3 nodes, height 1000, max lag 3");
}

TEST_CASE("a node 10 blocks behind makes the group a warning and 30 blocks critical, naming it", "[chain-view]") {
  ChainViewConfig cfg;  // lag_warn 10, lag_crit 30 as FISCO's tools judge
  const auto a = node("a", 1000, kT0);
  CHECK(evaluate_chain_group("x", {a, node("b", 991, kT0)}, kT0, cfg).status == Status::kOk);
  Result warn = evaluate_chain_group("x", {a, node("b", 990, kT0)}, kT0, cfg);
  CHECK(warn.status == Status::kWarning);
  CHECK_THAT(warn.summary, Catch::Contains("b/ethereum:http://b:8545 10 blocks behind"));
  CHECK(evaluate_chain_group("x", {a, node("b", 971, kT0)}, kT0, cfg).status == Status::kWarning);
  Result crit = evaluate_chain_group("x", {a, node("b", 970, kT0)}, kT0, cfg);
  CHECK(crit.status == Status::kCritical);
  CHECK(find_metric(crit, "max_lag_blocks")->crit->alerts(30));
  CHECK_FALSE(find_metric(crit, "max_lag_blocks")->crit->alerts(29));

  cfg.lag_warn = 2;
  cfg.lag_crit = 5;
  CHECK(evaluate_chain_group("x", {a, node("b", 998, kT0)}, kT0, cfg).status == Status::kWarning);
  CHECK(evaluate_chain_group("x", {a, node("b", 995, kT0)}, kT0, cfg).status == Status::kCritical);
}

TEST_CASE("unreachable nodes are a warning while the reachable ones are a majority, else critical", "[chain-view]") {
  ChainViewConfig cfg;
  const auto a = node("a", 50, kT0), b = node("b", 50, kT0), c = node("c", 50, kT0), d = node("d", 50, kT0);
  Result one = evaluate_chain_group("x", {a, b, down_node("c", kT0)}, kT0, cfg);
  CHECK(one.status == Status::kWarning);
  CHECK(find_metric(one, "nodes_unreachable")->value == 1);
  CHECK(find_metric(one, "nodes_reporting")->value == 2);
  CHECK_THAT(one.summary, Catch::Contains("c/ethereum:http://c:8545 unreachable"));
  CHECK_THAT(one.summary, Catch::StartsWith("chain x: 3 nodes (2 reporting), height 50"));
  // Two of four reachable is no majority.
  CHECK(evaluate_chain_group("x", {a, b, down_node("c", kT0), down_node("d", kT0)}, kT0, cfg).status ==
        Status::kCritical);
  CHECK(evaluate_chain_group("x", {a, b, c, down_node("d", kT0)}, kT0, cfg).status == Status::kWarning);
  CHECK(evaluate_chain_group("x", {down_node("a", kT0)}, kT0, cfg).status == Status::kCritical);
  (void)d;
}

TEST_CASE("different head hashes at the same height are a fork, and critical", "[chain-view]") {
  ChainViewConfig cfg;
  Result same = evaluate_chain_group("x", {node("a", 7, kT0, "0xaaa"), node("b", 7, kT0, "0xaaa")}, kT0, cfg);
  CHECK(same.status == Status::kOk);
  CHECK(find_metric(same, "forks")->value == 0);

  Result fork = evaluate_chain_group(
      "x", {node("a", 7, kT0, "0xaaa"), node("b", 7, kT0, "0xbbb"), node("c", 7, kT0, "0xaaa")}, kT0, cfg);
  CHECK(fork.status == Status::kCritical);
  CHECK(find_metric(fork, "forks")->value == 1);
  CHECK_THAT(fork.summary, Catch::Contains("fork at height 7: 0xaaa on a/ethereum:http://a:8545, "
                                           "c/ethereum:http://c:8545; 0xbbb on b/ethereum:http://b:8545"));
  REQUIRE(fork.details["forks"].size() == 1);
  CHECK(fork.details["forks"][0]["height"] == 7);

  // Different heights say nothing about a fork (only head hashes are known); nor does a node
  // that sends no hash.
  CHECK(evaluate_chain_group("x", {node("a", 7, kT0, "0xaaa"), node("b", 8, kT0, "0xbbb")}, kT0, cfg).status ==
        Status::kOk);
  CHECK(evaluate_chain_group("x", {node("a", 7, kT0, "0xaaa"), node("b", 7, kT0, "")}, kT0, cfg).status ==
        Status::kOk);
}

TEST_CASE("a member silent for 3 of its intervals is not judged on its old height", "[chain-view]") {
  ChainViewConfig cfg;
  // b reports every 10 s; its latest result is 31 s old: silent. Its old height 900 would be
  // a lag of 100, but it is not counted; it counts as a node we cannot see.
  const auto a = node("a", 1000, kT0 + 31 * kSec), b = node("b", 900, kT0);
  Result r = evaluate_chain_group("x", {a, b, node("c", 1000, kT0 + 31 * kSec)}, kT0 + 31 * kSec, cfg);
  CHECK(r.status == Status::kWarning);
  CHECK(find_metric(r, "nodes_silent")->value == 1);
  CHECK(find_metric(r, "max_lag_blocks")->value == 0);
  CHECK(find_metric(r, "lag_blocks", {{"host", "b"}, {"check", b.check}}) == nullptr);
  CHECK_THAT(r.summary, Catch::Contains("b/ethereum:http://b:8545 silent for 31s"));
  // 30 s old is still fresh: lag 100, critical.
  CHECK(evaluate_chain_group("x", {a, b}, kT0 + 30 * kSec, cfg).status == Status::kCritical);
  // Until two results are seen, the configured interval stands in.
  auto fresh = node("b", 900, kT0, "", 0);
  cfg.interval = std::chrono::seconds(60);
  const auto a_now = node("a", 1000, kT0 + 179 * kSec);
  CHECK(find_metric(evaluate_chain_group("x", {a_now, fresh}, kT0 + 179 * kSec, cfg), "nodes_silent")->value == 0);
  CHECK(find_metric(evaluate_chain_group("x", {a_now, fresh}, kT0 + 181 * kSec, cfg), "nodes_silent")->value == 1);
}

TEST_CASE("the group result carries the labels all its members share, and its chain", "[chain-view]") {
  ChainViewConfig cfg;
  auto a = node("a", 5, kT0), b = node("b", 5, kT0);
  a.labels = {{"chain", "ev"}, {"system", "存证平台"}, {"role", "sealer"}};
  b.labels = {{"chain", "ev"}, {"system", "存证平台"}, {"role", "observer"}};
  Result r = evaluate_chain_group("ev", {a, b}, kT0, cfg);
  CHECK(r.details["labels"] == nlohmann::json{{"chain", "ev"}, {"system", "存证平台"}});
}

TEST_CASE("Fabric channels are separate ledgers, compared channel by channel", "[chain-view]") {
  ChainViewConfig cfg;
  ChainMember p0 = node("p0", 0, kT0), p1 = node("p1", 0, kT0);
  p0.kind = p1.kind = "fabric";
  p0.heights = {{R"({"channel":"big"})", 5000}, {R"({"channel":"small"})", 40}};
  p1.heights = {{R"({"channel":"big"})", 5000}, {R"({"channel":"small"})", 28}};
  Result r = evaluate_chain_group("fab", {p0, p1}, kT0, cfg);
  CHECK(lag_of(r, p1) == 12);
  CHECK(lag_of(r, p0) == 0);
  CHECK(r.status == Status::kWarning);
  CHECK(find_metric(r, "height", {{"channel", "small"}})->value == 40);
  CHECK_THAT(r.summary, Catch::Contains("height 40 (channel small)"));
}

TEST_CASE("a member is read from its result: height, hash, reachability and its interval", "[chain-view]") {
  Result r = eth_result("http://n1:8545", 42, kT0 + 5 * kSec);
  ChainMember first = chain_member_from("web-01", r, {{"system", "平台"}}, nullptr);
  CHECK(first.heights.at("") == 42);
  CHECK(first.block_hash == "0xh42");
  CHECK(first.reachable);
  CHECK(first.interval.ms() == 0);
  ChainMember prev = first;
  prev.ts_ms = kT0;
  ChainMember second = chain_member_from("web-01", r, {}, &prev);
  CHECK(second.interval.ms() == 5 * kSec);
  // A result 1 s after that (an early run) does not make the member a 1 s reporter.
  Result early = eth_result("http://n1:8545", 43, kT0 + 6 * kSec);
  CHECK(chain_member_from("web-01", early, {}, &second).interval.ms() == 5 * kSec);
  CHECK(first.labels == Labels{{"system", "平台"}});  // no labels of its own: the agent's

  Result down = unknown_result("ethereum:x", "ethereum", "x");
  down.status = Status::kCritical;
  down.metrics.push_back({"reachable", 0, "", {}, std::nullopt, Range::below(1)});
  CHECK_FALSE(chain_member_from("web-01", down, {}, nullptr).reachable);
  CHECK_FALSE(chain_member_from("web-01", unknown_result("ethereum:x", "ethereum", "bad config"), {}, nullptr).reachable);

  // The chain comes from the result's own labels, else the agent's.
  CHECK(chain_of(eth_result("u", 1, 0, {{"chain", "evidence"}}), {{"chain", "other"}}) == "evidence");
  CHECK(chain_of(eth_result("u", 1, 0), {{"chain", "other"}}) == "other");
  CHECK(chain_of(eth_result("u", 1, 0, {{"role", "db"}}), {{"chain", "other"}}).empty());
  CHECK(chain_of(eth_result("u", 1, 0), {}).empty());
}

TEST_CASE("the chain view stores chain:<name> under the collector's host, once per round or on a change",
          "[chain-view]") {
  TestClock clock;
  auto dir = store_dir("chain_view");
  auto store = open_store(dir / "c.db", options_with(clock));
  ChainViewConfig cfg;
  std::vector<IngestBatch> recorded;
  ChainView view(*store, cfg, [&clock] { return clock.now.load(); });
  view.set_on_recorded([&](const IngestBatch& b) { recorded.push_back(b); });

  const Labels ev{{"chain", "evidence"}};
  auto feed = [&](const std::string& agent, const std::string& url, std::int64_t height) {
    IngestBatch b = agent_batch(agent, {}, {eth_result(url, height, clock.now.load(), ev)});
    ingest_ok(*store, b);
    view.on_batch(b);
  };
  // Results of other kinds and of chain nodes without a chain label are not members.
  IngestBatch other = agent_batch("web-01", {{"chain", "evidence"}}, {result("disk:/", Status::kOk, kT0)});
  other.results.push_back({2, eth_result("http://lonely:8545", 1, kT0)});
  other.results.back().result.details["labels"] = Labels{{"role", "db"}};
  view.on_batch(other);
  CHECK(recorded.empty());

  feed("web-01", "http://n1:8545", 100);
  REQUIRE(recorded.size() == 1);
  CHECK(recorded[0].agent.id == "collector");
  // The alert rules get the chain's labels; the store's host row gets none.
  CHECK(recorded[0].agent.labels.at("chain") == "evidence");
  CHECK(store->host("collector")->agent.labels.empty());
  CHECK_FALSE(recorded[0].contact);
  feed("web-02", "http://n2:8545", 100);
  CHECK(recorded.size() == 1);  // same status within the round: nothing new written

  // web-02 falls 40 blocks behind: a change is written at once.
  clock.now += 10 * kSec;
  feed("web-01", "http://n1:8545", 140);
  REQUIRE(recorded.size() == 2);
  CHECK(recorded[1].results[0].result.status == Status::kCritical);
  CheckFilter f;
  f.host = "collector";
  auto rows = store->checks(f);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].check == "chain:evidence");
  CHECK(rows[0].kind == "chain");
  CHECK(rows[0].status == Status::kCritical);
  CHECK_THAT(rows[0].summary, Catch::Contains("web-02/ethereum:http://n2:8545 40 blocks behind"));
  auto host = store->host("collector");
  REQUIRE(host);
  CHECK(host->last_contact_ms == 0);  // not an agent: liveness leaves it alone

  // web-01 (every 10 s) goes silent; web-02's interval is not known yet (60 s assumed): the
  // sweep writes the group's verdict once per round, so chain:evidence never looks dead itself.
  clock.now += 31 * kSec;
  CHECK(view.sweep() == 1);
  CHECK_THAT(recorded.back().results[0].result.summary, Catch::Contains("silent for"));
  CHECK(recorded.back().results[0].result.status == Status::kCritical);
  CHECK(view.sweep() == 0);
  clock.now += 10 * kSec;
  CHECK(view.sweep() == 1);
}

TEST_CASE("liveness never declares the collector's own host down, only silent agents", "[chain-view]") {
  TestClock clock;
  auto dir = store_dir("chain_liveness");
  auto store = open_store(dir / "c.db", options_with(clock));
  ChainView view(*store, ChainViewConfig{}, [&clock] { return clock.now.load(); });
  Liveness liveness(*store, std::chrono::seconds(1), 3, [&clock] { return clock.now.load(); });
  liveness.exempt(ChainViewConfig{}.host);  // as serve does: the chain view's host has no agent
  IngestBatch b = agent_batch("web-01", {}, {eth_result("http://n1:8545", 5, kT0, {{"chain", "ev"}})});
  b.received_ms = kT0;
  ingest_ok(*store, b);
  view.on_batch(b);  // writes chain:ev under "collector", which never made contact
  REQUIRE(store->host("collector"));
  clock.now += 10'000;
  CHECK(liveness.sweep() == 1);
  CheckFilter f;
  f.host = "collector";
  for (const auto& c : store->checks(f)) CHECK(c.check != "host:alive");
  f.host = "web-01";
  bool web_down = false;
  for (const auto& c : store->checks(f)) web_down = web_down || (c.check == "host:alive" && c.status == Status::kCritical);
  CHECK(web_down);
}
