// Agentless targets in the collector: collector.yaml's ssh: section validated with file, line
// and key, and SshPoller rounds against a real sshd (tests/support/sshd.hpp) stored through
// the same Store::ingest as agent batches.
#include <catch2/catch.hpp>

#include "../support/sshd.hpp"
#include "store_test_util.hpp"
#include "xj/collector/config.hpp"
#include "xj/collector/ssh_targets.hpp"
#include "xj/common/config_error.hpp"

using namespace xj;
namespace it = xj::itest;

namespace {

struct Site {
  explicit Site(const std::string& name) : dir(it::scratch_dir(name)), sshd(dir / "sshd") {}
  it::fs::path dir;
  it::SshdServer sshd;

  // collector.yaml with one target (extra lines go under the target, indented by 6).
  std::string config(const std::string& target_extra = "", const std::string& checks =
                                                               "        - kind: memory\n"
                                                               "        - kind: load\n") const {
    const std::string path = (dir / "collector.yaml").string();
    it::write_file(path,
                   "collector:\n"
                   "  listen: 127.0.0.1:0\n"
                   "  store: " + (dir / "c.db").string() + "\n"
                   "  heartbeat: 10s\n"
                   "contract:\n"
                   "  customer: test\n"
                   "ssh:\n"
                   "  known_hosts: " + sshd.known_hosts().string() + "\n"
                   "  targets:\n"
                   "    - id: appliance-01\n"
                   "      host: 127.0.0.1\n"
                   "      port: " + std::to_string(sshd.port()) + "\n"
                   "      user: " + sshd.user() + "\n"
                   "      key_file: " + sshd.user_key().string() + "\n"
                   "      connect_timeout: 10s\n"
                   "      labels: {system: 政务外网}\n" +
                       target_extra +
                   "      checks:\n" + checks);
    return path;
  }
};

std::string error_of(const std::string& path) {
  try {
    load_collector_config(path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}

std::vector<CheckRow> checks_of(Store& store, const std::string& host) {
  CheckFilter f;
  f.host = host;
  return store.checks(f);
}

const CheckRow* find(const std::vector<CheckRow>& rows, const std::string& check) {
  for (const auto& r : rows) {
    if (r.check == check) return &r;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("ssh targets in collector.yaml are validated with file, line and key", "[ssh-targets]") {
  Site site("ssh-config");
  auto cfg = load_collector_config(site.config());
  REQUIRE(cfg.ssh.targets.size() == 1);
  CHECK(cfg.ssh.workers == 4);
  CHECK(cfg.ssh.targets[0].id == "appliance-01");
  CHECK(cfg.ssh.targets[0].checks.size() == 2);
  // 60s by default, but never more than liveness waits (heartbeat 10s × 3 missed).
  CHECK(cfg.ssh.targets[0].interval == std::chrono::seconds(30));

  CHECK_THAT(error_of(site.config("      pasword_file: /x\n")),
             Catch::StartsWith(site.config("      pasword_file: /x\n") + ":17: ssh.targets[0]: unknown key 'pasword_file'"));
  const std::string http = site.config("", "        - kind: http\n          url: http://127.0.0.1/\n");
  CHECK_THAT(error_of(http), Catch::StartsWith(http + ":18: ssh.targets[0].checks[0]: key 'kind': a 'http' check cannot run on an agentless target"));
  const std::string slow = site.config("      interval: 1h\n");
  CHECK_THAT(error_of(slow), Catch::StartsWith(slow + ":17: ssh.targets[0]: key 'interval': must be at most heartbeat × missed_heartbeats (30s)"));
  const std::string nokey = site.config("      known_hosts: /nonexistent/known_hosts\n");
  CHECK_THAT(error_of(nokey), Catch::StartsWith(nokey + ":17: ssh.targets[0]: key 'known_hosts': cannot read '/nonexistent/known_hosts'"));
  const std::string both = site.config("      password_file: " + site.sshd.user_key().string() + "\n");
  CHECK_THAT(error_of(both), Catch::Contains("key 'password_file': give key_file or password_file, not both"));
  const std::string every = site.config("", "        - kind: memory\n          interval: 5s\n");
  CHECK_THAT(error_of(every), Catch::StartsWith(every + ":19: ssh.targets[0].checks[0]: key 'interval': checks of an agentless target run every round"));
  const std::string twice = site.config("", "        - kind: memory\n        - kind: memory\n");
  CHECK_THAT(error_of(twice), Catch::Contains("ssh.targets[0].checks[1]: key 'kind': check id 'memory' is used twice"));
  const std::string threshold = site.config("", "        - kind: disk\n          warn: lots\n");
  CHECK_THAT(error_of(threshold), Catch::StartsWith(threshold + ":19: ssh.targets[0].checks[0] (disk): key 'warn'"));
}

TEST_CASE("an SSH round stores the target's results under its id, and a restarted poller continues its seqs",
          "[ssh-targets][real]") {
  Site site("ssh-round");
  auto cfg = load_collector_config(site.config(
      "", "        - kind: memory\n        - kind: load\n        - kind: disk\n          mounts: [/]\n"
          "          warn: none\n          crit: none\n"));
  SqliteStoreOptions so;
  so.durable = false;
  auto opened = open_sqlite_store((site.dir / "c.db").string(), so);
  REQUIRE(opened);
  Store& store = **opened;
  std::vector<IngestBatch> after;
  auto hook = [&](const IngestBatch& b, const IngestOutcome&) { after.push_back(b); };

  std::int64_t first_max = 0;
  {
    SshPoller poller(store, cfg.ssh, hook);
    auto outcome = poller.run_round(0);
    INFO((outcome ? "" : outcome.error()) << it::slurp(site.sshd.log()));
    REQUIRE(outcome);
    CHECK(outcome->accepted == 4);  // the session result and three checks
    first_max = outcome->ack_seq;
    auto second = poller.run_round(0);
    REQUIRE(second);
    CHECK(second->accepted == 4);
    CHECK(second->ack_seq == first_max + 4);
    first_max = second->ack_seq;
  }
  REQUIRE(after.size() == 2);
  CHECK(after[0].contact);
  CHECK(after[0].agent.id == "appliance-01");
  CHECK(after[0].agent.labels.at("system") == "政务外网");

  auto host = store.host("appliance-01");
  REQUIRE(host);
  CHECK(host->agent.hostname == "127.0.0.1");
  CHECK(host->last_contact_ms > 0);
  auto rows = checks_of(store, "appliance-01");
  REQUIRE(find(rows, "ssh"));
  CHECK(find(rows, "ssh")->status == Status::kOk);
  CHECK_THAT(find(rows, "ssh")->summary, Catch::Contains(site.sshd.fingerprint()));
  for (const char* c : {"memory", "load", "disk:/"}) {
    INFO(c);
    REQUIRE(find(rows, c));
    CHECK(find(rows, c)->status != Status::kUnknown);
  }

  // After a restart the poller asks the store where the target's seqs stand: nothing it sends
  // is dropped as a duplicate of the previous run's.
  cfg = load_collector_config(site.config(
      "", "        - kind: memory\n        - kind: load\n        - kind: disk\n          mounts: [/]\n"
          "          warn: none\n          crit: none\n"));
  SshPoller restarted(store, cfg.ssh, hook);
  auto third = restarted.run_round(0);
  REQUIRE(third);
  CHECK(third->accepted == 4);
  CHECK(third->duplicates == 0);
  CHECK(third->ack_seq == first_max + 4);
}

TEST_CASE("a failed SSH session stores a critical ssh result, unknown checks, and no contact",
          "[ssh-targets][real]") {
  Site site("ssh-fail");
  auto other = site.sshd.make_other_host_key();
  it::write_file(site.sshd.known_hosts(), site.sshd.known_hosts_line(other));
  auto cfg = load_collector_config(site.config());
  SqliteStoreOptions so;
  so.durable = false;
  auto opened = open_sqlite_store((site.dir / "c.db").string(), so);
  REQUIRE(opened);
  Store& store = **opened;
  std::vector<IngestBatch> after;
  SshPoller poller(store, cfg.ssh, [&](const IngestBatch& b, const IngestOutcome&) { after.push_back(b); });
  auto outcome = poller.run_round(0);
  REQUIRE(outcome);
  CHECK(outcome->accepted == 3);
  REQUIRE(after.size() == 1);
  CHECK_FALSE(after[0].contact);
  auto rows = checks_of(store, "appliance-01");
  REQUIRE(find(rows, "ssh"));
  CHECK(find(rows, "ssh")->status == Status::kCritical);
  CHECK_THAT(find(rows, "ssh")->summary, Catch::Contains("host key CHANGED") &&
                                             Catch::Contains(site.sshd.fingerprint()));
  REQUIRE(find(rows, "memory"));
  CHECK(find(rows, "memory")->status == Status::kUnknown);
  CHECK(find(rows, "memory")->summary == "not measured: the SSH session to appliance-01 failed");
  CHECK(store.host("appliance-01")->last_contact_ms == 0);
}

TEST_CASE("the poller runs its targets on its own threads, each round once per interval",
          "[ssh-targets][real]") {
  Site site("ssh-schedule");
  auto cfg = load_collector_config(site.config("      interval: 1s\n"));
  SqliteStoreOptions so;
  so.durable = false;
  auto opened = open_sqlite_store((site.dir / "c.db").string(), so);
  REQUIRE(opened);
  std::mutex mu;
  std::vector<std::int64_t> rounds;
  SshPoller poller(**opened, cfg.ssh, [&](const IngestBatch& b, const IngestOutcome&) {
    std::lock_guard lock(mu);
    rounds.push_back(b.received_ms);
  });
  poller.start();
  const bool three = it::wait_until(std::chrono::seconds(20), [&] {
    std::lock_guard lock(mu);
    return rounds.size() >= 3;
  });
  poller.stop();
  REQUIRE(three);
  std::lock_guard lock(mu);
  for (std::size_t i = 1; i < rounds.size(); ++i) CHECK(rounds[i] - rounds[i - 1] >= 900);
}
