// End to end: a real xunjian-collector process inspects a real sshd on 127.0.0.1 as an
// agentless target, and the target's results are read back through the JSON API like any
// agent's.
#include <catch2/catch.hpp>

#include "../support/sshd.hpp"
#include "fleet.hpp"

using namespace xj::itest;

TEST_CASE("a collector with an ssh target serves the target's results through the read API",
          "[integration][ssh]") {
  auto dir = scratch_dir("ssh-target");
  SshdServer sshd(dir / "sshd");
  CollectorProc collector(dir / "collector", "2s");
  const auto app_log = dir / "app.log";
  write_file(app_log, "ERROR before the first round: not counted\n");
  collector.append_config(
      "ssh:\n"
      "  workers: 2\n"
      "  known_hosts: " + sshd.known_hosts().string() + "\n"
      "  targets:\n"
      "    - id: appliance-01\n"
      "      host: 127.0.0.1\n"
      "      port: " + std::to_string(sshd.port()) + "\n"
      "      user: " + sshd.user() + "\n"
      "      key_file: " + sshd.user_key().string() + "\n"
      "      interval: 2s\n"
      "      connect_timeout: 10s\n"
      "      exec_allow: [/bin/sh]\n"
      "      checks:\n"
      "        - kind: memory\n"
      "        - kind: port\n"
      "          port: " + std::to_string(sshd.port()) + "\n"
      "          listening: true\n"
      "        - kind: exec\n"
      "          id: backup-job\n"
      "          command: [/bin/sh, -c, 'echo \"WARNING - backup 26h old | age=26h\"; exit 1']\n"
      "        - kind: log_scan\n"
      "          id: app-log\n"
      "          path: " + app_log.string() + "\n"
      "          pattern: ERROR\n"
      "    - id: gone-01\n"
      "      host: 127.0.0.1\n"
      "      port: " + std::to_string(free_port()) + "\n"
      "      user: nobody\n"
      "      key_file: " + sshd.user_key().string() + "\n"
      "      interval: 2s\n"
      "      connect_timeout: 1s\n"
      "      checks:\n"
      "        - kind: load\n");
  auto valid = run(kCollector, {"validate", "-c", collector.config()}, dir);
  INFO(valid.out);
  REQUIRE(valid.exit_code == 0);
  collector.start();

  const bool seen = wait_until(40s, [&] {
    return collector.check_status("appliance-01", "backup-job") != "" &&
           collector.check_status("gone-01", "ssh") != "";
  });
  INFO(slurp(collector.log()) << "\nsshd:\n" << slurp(sshd.log()));
  REQUIRE(seen);
  CHECK(collector.check_status("appliance-01", "ssh") == "ok");
  CHECK(collector.check_status("appliance-01", "memory") != "unknown");
  CHECK(collector.check_status("appliance-01", "port:" + std::to_string(sshd.port())) == "ok");
  CHECK(collector.check_status("appliance-01", "backup-job") == "warning");
  CHECK(collector.check_status("gone-01", "ssh") == "critical");
  // log_scan: the first round watched from the end; a line appended now is matched by a
  // later round, so the poller kept the position between rounds.
  CHECK(collector.check_status("appliance-01", "app-log") == "ok");
  std::ofstream(app_log, std::ios::app) << "2026-12-02 03:00:01 ERROR disk quota exceeded\n";
  CHECK(wait_until(20s, [&] { return collector.check_status("appliance-01", "app-log") == "warning"; }));
  {
    std::string summary;
    const auto listed = collector.get_json("/api/v1/checks?host=appliance-01");
    for (const auto& c : listed["checks"]) {
      if (c["check"] == "app-log") summary = c["summary"].get<std::string>();
    }
    CHECK_THAT(summary, Catch::StartsWith("1 new line in " + app_log.string() + " matches 'ERROR'") &&
                            Catch::Contains("disk quota exceeded"));
  }
  CHECK(collector.check_status("gone-01", "load") == "unknown");

  auto checks = collector.get_json("/api/v1/checks?host=gone-01");
  std::string reason;
  for (const auto& c : checks["checks"]) {
    if (c["check"] == "ssh") reason = c["summary"].get<std::string>();
  }
  CHECK_THAT(reason, Catch::Contains("cannot connect") && Catch::Contains("connection refused"));

  // Every round is counted on /metrics by target and outcome.
  auto metrics = collector.get("/metrics");
  CHECK(metrics.status == 200);
  CHECK_THAT(metrics.body, Catch::Contains("xunjian_ssh_rounds_total{outcome=\"connected\",target=\"appliance-01\"}"));
  CHECK_THAT(metrics.body, Catch::Contains("xunjian_ssh_rounds_total{outcome=\"unreachable\",target=\"gone-01\"}"));

  // The target is a host like any agent's: listed, with its hostname, alive once reached.
  auto host = collector.get_json("/api/v1/hosts/appliance-01");
  INFO(host.dump());
  CHECK(host.dump().find("127.0.0.1") != std::string::npos);
  const bool alive = wait_until(10s, [&] { return collector.check_status("appliance-01", "host:alive") == "ok"; });
  CHECK(alive);
  // The unreachable one never made contact: after 3 missed heartbeats of 2s it is down.
  const bool down = wait_until(20s, [&] { return collector.check_status("gone-01", "host:alive") == "critical"; });
  CHECK(down);
  const auto gone = collector.get_json("/api/v1/checks?host=gone-01");
  for (const auto& c : gone["checks"]) {
    if (c["check"] == "host:alive") {
      CHECK_THAT(c["summary"].get<std::string>(), Catch::StartsWith("never in contact since it was first recorded at "));
    }
  }
}
