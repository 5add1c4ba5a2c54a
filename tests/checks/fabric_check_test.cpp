// The fabric check against tests/fixtures/chain/metrics_node.py answering like a Fabric
// operations service (Fabric cannot run here).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "../fixtures/http/test_server.hpp"
#include "metrics_node.hpp"

using namespace xj;
using namespace xj::test;

namespace {

const char* kPeerMetrics =
    "# TYPE ledger_blockchain_height gauge\n"
    "ledger_blockchain_height{channel=\"evidence\"} 1200\n"
    "ledger_blockchain_height{channel=\"audit\"} 35\n"
    "gossip_membership_total_peers_known{channel=\"evidence\"} 3\n"
    "gossip_membership_total_peers_known{channel=\"audit\"} 1\n";

const char* kOrdererMetrics =
    "consensus_etcdraft_cluster_size{channel=\"evidence\"} 5\n"
    "consensus_etcdraft_active_nodes{channel=\"evidence\"} %d\n"
    "consensus_etcdraft_is_leader{channel=\"evidence\"} 1\n";

std::string orderer(int active) {
  char buf[256];
  std::snprintf(buf, sizeof buf, kOrdererMetrics, active);
  return buf;
}

}  // namespace

TEST_CASE("a healthy peer reports ledger height and peers per channel", "[fabric][real]") {
  MetricsNode node;
  node.set("/healthz", 200, R"({"status":"OK","time":"2026-12-01T10:00:00Z"})");
  node.set("/metrics", 200, kPeerMetrics);
  auto check = make_check("kind: fabric\nurl: " + node.url() + "\n");
  Result r = run_check(*check);
  INFO(r.summary);
  CHECK(r.status == Status::kOk);
  CHECK(find_metric(r, "block_number", "evidence")->value == 1200);
  CHECK(find_metric(r, "block_number", "audit")->value == 35);
  CHECK(find_metric(r, "peers_known", "evidence")->value == 3);
  CHECK(r.summary.find("evidence at 1200") != std::string::npos);
  // With min_peers, a channel whose gossip knows too few peers is a warning.
  auto strict = make_check("kind: fabric\nurl: " + node.url() + "\nmin_peers: 2\n");
  Result w = run_check(*strict);
  CHECK(w.status == Status::kWarning);
  CHECK(w.summary.find("channel audit: only 1 peers known") != std::string::npos);
}

TEST_CASE("healthz 503 is critical with the failed checks' reasons", "[fabric][real]") {
  MetricsNode node;
  node.set(
      "/healthz", 503,
      R"({"status":"Service Unavailable","time":"2026-12-01T10:00:00Z",)"
      R"("failed_checks":[{"component":"docker","reason":"failed to connect to Docker daemon"}]})");
  node.set("/metrics", 200, kPeerMetrics);
  auto check = make_check("kind: fabric\nurl: " + node.url() + "\n");
  Result r = run_check(*check);
  INFO(r.summary);
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.find("healthz 503 failed checks: docker: failed to connect to Docker daemon") !=
        std::string::npos);
  CHECK(find_metric(r, "healthy")->value == 0);
}

TEST_CASE("raft nodes down are a warning, and below a majority critical", "[fabric][real]") {
  MetricsNode node;
  node.set("/healthz", 200, R"({"status":"OK"})");
  auto check = make_check("kind: fabric\nurl: " + node.url() + "\n");
  node.set("/metrics", 200, orderer(5));
  CHECK(run_check(*check).status == Status::kOk);
  node.set("/metrics", 200, orderer(4));
  Result one_down = run_check(*check);
  INFO(one_down.summary);
  CHECK(one_down.status == Status::kWarning);
  CHECK(one_down.summary.find("channel evidence: 4 of 5 raft nodes active") != std::string::npos);
  node.set("/metrics", 200, orderer(2));
  Result lost = run_check(*check);
  INFO(lost.summary);
  CHECK(lost.status == Status::kCritical);
  CHECK(lost.summary.find("(quorum lost)") != std::string::npos);
}

TEST_CASE("metrics that cannot be read are a warning beside a healthy healthz", "[fabric][real]") {
  MetricsNode node;
  node.set("/healthz", 200, R"({"status":"OK"})");
  node.set("/metrics", 401, "client certificate required");
  auto check = make_check("kind: fabric\nurl: " + node.url() + "/\n");
  Result r = run_check(*check);
  INFO(r.summary);
  CHECK(r.status == Status::kWarning);
  CHECK(r.summary.find("metrics unreadable: status 401") != std::string::npos);
  auto health_only = make_check("kind: fabric\nurl: " + node.url() + "\nmetrics: false\n");
  CHECK(run_check(*health_only).status == Status::kOk);
}

TEST_CASE("an unreachable fabric node is critical", "[fabric][real]") {
  auto check =
      make_check("kind: fabric\nurl: http://127.0.0.1:" + std::to_string(closed_port()) + "\n");
  Result r = run_check(*check);
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.find("unreachable") != std::string::npos);
}

TEST_CASE("fabric's operations service over mutual TLS needs the client certificate",
          "[fabric][real]") {
  const std::string d = std::string(XJ_BINARY_DIR) + "/fabric_tls." + std::to_string(::getpid());
  std::filesystem::create_directories(d);
  make_self_signed(d + "/server.pem", d + "/server.key", "/CN=127.0.0.1", "IP:127.0.0.1");
  make_self_signed(d + "/client.pem", d + "/client.key", "/CN=xunjian-agent", "DNS:agent");
  MetricsNode node({"--tls", d + "/server.pem", d + "/server.key", d + "/client.pem"},
                   d + "/server.pem", d + "/client.pem", d + "/client.key");
  node.set("/healthz", 200, R"({"status":"OK"})");
  node.set("/metrics", 200, kPeerMetrics);
  const std::string base = "kind: fabric\nurl: " + node.url() + "\nca_file: " + d + "/server.pem\n";
  Result r = run_check(
      *make_check(base + "cert_file: " + d + "/client.pem\nkey_file: " + d + "/client.key\n"));
  INFO(r.summary);
  CHECK(r.status == Status::kOk);
  CHECK(find_metric(r, "block_number", "evidence")->value == 1200);
  Result without = run_check(*make_check(base));
  INFO(without.summary);
  CHECK(without.status == Status::kCritical);
  // Not trusting the server's certificate is refused unless verify_tls is off.
  Result untrusted =
      run_check(*make_check("kind: fabric\nurl: " + node.url() + "\ncert_file: " + d +
                            "/client.pem\nkey_file: " + d + "/client.key\n"));
  CHECK(untrusted.status == Status::kCritical);
  std::filesystem::remove_all(d);
}
