// The agent→collector pipeline end to end with the real binaries: results reach the API,
// nothing is lost or doubled when the collector is SIGKILLed mid-ingest, an unreachable
// collector is survived by spooling and backfilling in order, and the spool cap leaves a gap
// record the API shows. Issue 3, acceptance 1, 2, 3 and 5.
#include <catch2/catch.hpp>
#include <random>

#include "fleet.hpp"

using namespace xj::itest;

namespace {

// The host's entry in GET /api/v1/hosts, or null.
nlohmann::json host_entry(const CollectorProc& c, const std::string& id) {
  auto r = c.get("/api/v1/hosts");
  if (r.status != 200) return nullptr;
  const auto j = r.json();
  for (const auto& h : j["hosts"]) {
    if (h["id"] == id) return h;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("results of a running agent appear through the collector's API within two intervals",
          "[integration]") {
  auto dir = scratch_dir("pipeline-first");
  CollectorProc collector(dir / "collector");
  collector.start();
  AgentOptions o;
  o.collector_url = collector.url();
  o.token_file = dir / "agent.token";
  o.interval = "2s";
  collector.agent_token(o.id, o.token_file);
  AgentProc agent(dir / "agent", o);

  const auto started = std::chrono::steady_clock::now();
  agent.start();
  bool seen = wait_until(4s, [&] {
    return collector.check_status(o.id, "cpu") != "" && collector.check_status(o.id, "memory") != "" &&
           collector.check_status(o.id, "load") != "";
  });
  INFO("agent log:\n" << slurp(agent.log()) << "\ncollector log:\n" << slurp(collector.log()));
  REQUIRE(seen);
  CHECK(std::chrono::steady_clock::now() - started <= 4s);

  auto host = host_entry(collector, o.id);
  REQUIRE(host.is_object());
  CHECK(host["labels"]["system"] == "集成测试平台");
  // cpu, memory, load and the collector's own host:alive, whatever their status on this box.
  int counted = 0;
  for (const auto& [status, n] : host["checks"].items()) counted += n.get<int>();
  CHECK(counted == 4);
  const auto checks = collector.get_json("/api/v1/checks?host=" + o.id)["checks"];
  bool memory_has_metric = false;
  for (const auto& c : checks) {
    if (c["check"] != "memory") continue;
    for (const auto& m : c["metrics"]) {
      if (m["name"] == "available_pct") {
        memory_has_metric = m["value"].get<double>() > 0 && m["value"].get<double>() <= 100;
      }
    }
  }
  CHECK(memory_has_metric);
  CHECK(agent.stop() == 0);
}

TEST_CASE("every result is stored exactly once while the collector is SIGKILLed again and again",
          "[integration]") {
  auto dir = scratch_dir("pipeline-sigkill");
  CollectorProc collector(dir / "collector");
  collector.start();
  AgentOptions o;
  o.collector_url = collector.url();
  o.token_file = dir / "agent.token";
  o.checks =
      "  - kind: cpu\n  - kind: memory\n  - kind: load\n"
      "  - {kind: port, host: 127.0.0.1, port: " + std::to_string(collector.port()) + "}\n"
      "  - {kind: http, url: '" + collector.url() + "/healthz'}\n";
  collector.agent_token(o.id, o.token_file);
  AgentProc agent(dir / "agent", o);
  agent.start();

  // Kill at random moments, so some kills land inside a commit and some between posts.
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pause_ms(300, 1500);
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    collector.kill(SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng) / 3));
    collector.start();
  }
  std::this_thread::sleep_for(1s);
  REQUIRE(agent.stop() == 0);
  const std::int64_t produced = agent.last_seq();
  REQUIRE(produced >= 20);

  // What the agent still holds (sent but never acknowledged, or not sent yet) goes with its
  // next run; wait until every seq it had given out is stored.
  agent.start();
  bool complete = wait_until(30s, [&] { return collector.seqs(o.id, produced).distinct == produced; });
  REQUIRE(agent.stop() == 0);
  auto s = collector.seqs(o.id, produced);
  auto all = collector.seqs(o.id);
  INFO("agent gave out 1.." << produced << " before its restart; stored " << s.rows << " rows, "
                            << s.distinct << " distinct, seq " << s.min << ".." << s.max
                            << "\ncollector log:\n" << slurp(collector.log()).substr(0, 20000));
  CHECK(complete);
  CHECK(s.min == 1);
  CHECK(s.max == produced);
  CHECK(s.distinct == produced);  // no seq missing
  CHECK(s.rows == produced);      // none stored twice
  CHECK(all.rows == all.distinct);
  CHECK(collector.out_of_order(o.id) == 0);
}

TEST_CASE("with the collector unreachable the agent spools, the host goes down, then backfills "
          "in order and comes back up",
          "[integration]") {
  auto dir = scratch_dir("pipeline-outage");
  CollectorProc collector(dir / "collector", "1s");
  collector.start();
  Relay relay(collector.port());
  AgentOptions o;
  o.collector_url = "http://127.0.0.1:" + std::to_string(relay.port());
  o.token_file = dir / "agent.token";
  collector.agent_token(o.id, o.token_file);
  AgentProc agent(dir / "agent", o);
  agent.start();
  REQUIRE(wait_until(10s, [&] { return collector.check_status(o.id, "cpu") != ""; }));
  REQUIRE(wait_until(5s, [&] { return collector.check_status(o.id, "host:alive") == "ok"; }));

  relay.set_up(false);
  const auto before = collector.seqs(o.id);
  // Three missed heartbeats of 1 s: the collector marks the host down on its own.
  bool down = wait_until(10s, [&] { return collector.check_status(o.id, "host:alive") == "critical"; });
  INFO("collector log:\n" << slurp(collector.log()).substr(0, 20000));
  REQUIRE(down);
  auto host = host_entry(collector, o.id);
  REQUIRE(host.is_object());
  CHECK(host["status"] == "critical");
  // Meanwhile the agent keeps checking and keeps what it cannot send.
  REQUIRE(wait_until(10s, [&] { return agent.spooled() >= 9; }));
  CHECK(collector.seqs(o.id).max == before.max);

  relay.set_up(true);
  // Back-off after failures is at most a few seconds here; then the backlog goes in order.
  // Everything given out before the spool was seen empty is stored (the spool deletes only
  // what the collector acknowledged); later results may still be on their way at the stop.
  std::int64_t upto = 0;
  bool drained = wait_until(40s, [&] {
    upto = agent.last_seq();
    return agent.spooled() == 0;
  });
  INFO("agent log:\n" << slurp(agent.log()).substr(0, 20000));
  REQUIRE(drained);
  REQUIRE(wait_until(10s, [&] { return collector.check_status(o.id, "host:alive") == "ok"; }));
  REQUIRE(agent.stop() == 0);
  auto s = collector.seqs(o.id, upto);
  CHECK(s.min == 1);
  CHECK(s.max == upto);
  CHECK(s.rows == upto);
  CHECK(collector.out_of_order(o.id) == 0);

  // The outage is on record, through the API, as host:alive going critical and back to ok.
  std::vector<std::string> alive;
  const auto host_now = collector.get_json("/api/v1/hosts/" + o.id);
  for (const auto& c : host_now["changes"]) {
    if (c["check"] == "host:alive") alive.push_back(c["to"].get<std::string>());
  }
  auto crit = std::find(alive.begin(), alive.end(), "critical");
  REQUIRE(crit != alive.end());
  CHECK(std::find(crit, alive.end(), "ok") != alive.end());
}

TEST_CASE("when the spool cap is reached the oldest results go and a gap record reaches the API",
          "[integration]") {
  auto dir = scratch_dir("pipeline-gap");
  CollectorProc collector(dir / "collector");
  collector.start();
  Relay relay(collector.port());
  relay.set_up(false);  // the collector is unreachable from the start
  AgentOptions o;
  o.collector_url = "http://127.0.0.1:" + std::to_string(relay.port());
  o.token_file = dir / "agent.token";
  o.extra_agent_keys = "  spool_max_rows: 10\n";
  collector.agent_token(o.id, o.token_file);
  AgentProc agent(dir / "agent", o);
  agent.start();
  // Three checks a second against a cap of 10 rows: the cap is passed within ~4 s.
  REQUIRE(wait_until(15s, [&] { return agent.last_seq() >= 20; }));
  // The cap trims in its own transaction right after an append, so a reader may catch the
  // spool one append (at most three results here) over it.
  INFO("spooled " << agent.spooled());
  CHECK(agent.spooled() <= 10 + 3);

  relay.set_up(true);
  bool gap_seen = false;
  nlohmann::json gaps;
  wait_until(40s, [&] {
    auto r = collector.get("/api/v1/hosts/" + o.id);
    if (r.status != 200) return false;
    gaps = r.json()["gaps"];
    gap_seen = gaps.is_array() && !gaps.empty();
    return gap_seen;
  });
  INFO("agent log:\n" << slurp(agent.log()).substr(0, 20000) << "\ngaps: " << gaps.dump());
  REQUIRE(gap_seen);
  std::int64_t dropped = 0;
  for (const auto& gap : gaps) dropped += gap["count"].get<std::int64_t>();
  // Every seq given out so far is stored or accounted for by a gap, and none twice.
  const std::int64_t upto = agent.last_seq();
  bool complete = wait_until(20s, [&] { return collector.seqs(o.id, upto).distinct + dropped == upto; });
  REQUIRE(agent.stop() == 0);
  auto s = collector.seqs(o.id, upto);
  INFO("seq 1.." << upto << ": stored " << s.rows << " (" << s.distinct << " distinct), dropped "
                 << dropped);
  CHECK(complete);
  CHECK(s.rows == s.distinct);
  // The cap dropped the oldest: the gaps cover 1..K without holes, and storage starts at K+1.
  std::int64_t first = INT64_MAX, last = 0;
  for (const auto& gap : gaps) {
    first = std::min(first, gap["from_seq"].get<std::int64_t>());
    last = std::max(last, gap["to_seq"].get<std::int64_t>());
  }
  CHECK(first == 1);
  CHECK(dropped == last);
  CHECK(dropped >= 10);
  CHECK(s.min == last + 1);
}

TEST_CASE("over TLS the agent ships to a collector whose certificate its ca_file vouches for, "
          "and keeps everything when it does not",
          "[integration]") {
  auto dir = scratch_dir("pipeline-tls");
  auto tls = make_tls_cert(dir);
  CollectorProc collector(dir / "collector", "1s", tls);
  collector.start();

  SECTION("trusted through ca_file: results arrive") {
    AgentOptions o;
    o.collector_url = collector.url();
    o.token_file = dir / "agent.token";
    o.ca_file = tls.cert;
    collector.agent_token(o.id, o.token_file);
    AgentProc agent(dir / "agent", o);
    agent.start();
    bool seen = wait_until(10s, [&] { return collector.check_status(o.id, "cpu") != ""; });
    INFO("agent log:\n" << slurp(agent.log()).substr(0, 20000));
    CHECK(seen);
    CHECK(agent.stop() == 0);
  }
  SECTION("not trusted (system CAs only): nothing is sent, nothing is lost") {
    AgentOptions o;
    o.collector_url = collector.url();
    o.token_file = dir / "agent.token";
    collector.agent_token(o.id, o.token_file);
    AgentProc agent(dir / "agent", o);
    agent.start();
    REQUIRE(wait_until(10s, [&] { return agent.last_seq() >= 6; }));
    const std::string log = slurp(agent.log());
    INFO(log.substr(0, 20000));
    CHECK(log.find("event=ship_failed") != std::string::npos);
    CHECK(log.find("certificate") != std::string::npos);
    CHECK(collector.seqs(o.id).rows == 0);
    CHECK(agent.spooled() == agent.last_seq());
    CHECK(agent.stop() == 0);
  }
}
