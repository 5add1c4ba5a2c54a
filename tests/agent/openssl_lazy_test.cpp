// xunjian-agent opens OpenSSL on first use instead of linking it (common/src/openssl_lazy.cpp,
// docs/ARCHITECTURE.md). These tests run the real binary: what it links and maps with and
// without TLS work, https and tls_cert checks through the shim against a local TLS server
// with a certificate made here, and the error when the library cannot be opened (made real
// with the test-only XJ_TEST_LIBSSL_SONAME: dlopen itself fails, as on a machine without it).
// libpq links libssl itself: a postgres check over SSL and an https check share one OpenSSL.
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "../checks/db_servers.hpp"
#include "../fixtures/http/test_server.hpp"
#include "../support/processes.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using xj::itest::kAgent;
using xj::itest::EnvVar;
using xj::itest::run;
using xj::itest::scratch_dir;
using xj::itest::slurp;
using xj::itest::wait_until;
using xj::itest::write_file;

namespace {

std::string agent_yaml(const fs::path& dir, const std::string& checks) {
  // metrics_listen on: the /metrics server (civetweb) must not bring OpenSSL either.
  return "agent:\n  id: openssl-test\n  state_dir: " + (dir / "state").string() +
         "\n  metrics_listen: 127.0.0.1:0\n  log_level: debug\n"
         "defaults: {interval: 1s, timeout: 5s}\n"
         "checks:\n" +
         checks;
}

// The files a running process has mapped whose name starts with prefix, by full path.
std::set<std::string> mapped(pid_t pid, const std::string& prefix) {
  std::set<std::string> out;
  std::istringstream in(slurp("/proc/" + std::to_string(pid) + "/maps"));
  for (std::string line; std::getline(in, line);) {
    const auto path = line.find('/');
    const auto slash = line.rfind('/');
    if (path != std::string::npos && line.compare(slash + 1, prefix.size(), prefix) == 0) {
      out.insert(line.substr(path));
    }
  }
  return out;
}

// The newest result of one check in the agent's spool, read-only as any other process would;
// null while there is none.
nlohmann::json spooled(const fs::path& db_path, const std::string& check) {
  nlohmann::json out;
  if (!fs::exists(db_path)) return out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 1000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT body FROM results WHERE check_id = ? ORDER BY seq DESC", -1,
                           &st, nullptr) == SQLITE_OK) {
      sqlite3_bind_text(st, 1, check.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(st) == SQLITE_ROW) {
        out = nlohmann::json::parse(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                                    nullptr, false);
        if (out.is_discarded()) out = nullptr;
      }
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

// How many results of one check the spool holds.
long spooled_count(const fs::path& db_path, const std::string& check) {
  long n = 0;
  if (!fs::exists(db_path)) return n;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 1000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM results WHERE check_id = ?", -1, &st,
                           nullptr) == SQLITE_OK) {
      sqlite3_bind_text(st, 1, check.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

bool has_metric(const nlohmann::json& result, const std::string& name) {
  for (const auto& m : result["metrics"]) {
    if (m["name"] == name) return true;
  }
  return false;
}

// The results `check --json` printed (its output also holds the log lines on stderr).
nlohmann::json printed_results(const std::string& out) {
  const auto start = out.find("{\n  \"agent\"");
  if (start == std::string::npos) return nlohmann::json::array();
  auto json = nlohmann::json::parse(out.substr(start), nullptr, false);
  return json.is_discarded() ? nlohmann::json::array() : json["results"];
}

// SIGTERM, and the agent stops cleanly (no crash at exit in the shim or OpenSSL).
void stop(xj::itest::Child& agent) {
  agent.signal(SIGTERM);
  auto status = agent.wait_status(10s);
  REQUIRE(status);
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
}

}  // namespace

TEST_CASE("the agent binary does not link libssl or libcrypto", "[openssl]") {
  auto dir = scratch_dir("openssl-needed");
  auto r = run("/usr/bin/readelf", {"-d", kAgent}, dir);
  REQUIRE(r.exit_code == 0);
  INFO(r.out);
  CHECK(r.out.find("(NEEDED)") != std::string::npos);  // the listing is there at all
  CHECK(r.out.find("libssl") == std::string::npos);
  CHECK(r.out.find("libcrypto") == std::string::npos);
}

TEST_CASE("an agent running only plain checks never maps libssl or libcrypto", "[openssl]") {
  auto dir = scratch_dir("openssl-plain");
  xj::test::HttpTestServer web({});
  write_file(dir / "agent.yaml", agent_yaml(dir,
                                            "  - {kind: load}\n"
                                            "  - {kind: http, id: web, url: '" +
                                                web.url("/ok") +
                                                "'}\n"
                                                "  - {kind: port, host: 127.0.0.1, port: " +
                                                std::to_string(web.port()) + "}\n"));
  xj::itest::Child agent(kAgent, {"run", "-c", (dir / "agent.yaml").string()}, dir / "agent.log");
  INFO(slurp(dir / "agent.log"));
  // Two rounds of the http check done: start-up and the checks' own first runs are behind us.
  REQUIRE(wait_until(20s, [&] {
    auto r = spooled(dir / "state" / "spool.db", "web");
    return !r.is_null() && r["status"] == "ok";
  }));
  std::this_thread::sleep_for(1500ms);
  REQUIRE_FALSE(mapped(agent.pid(), "libc.so").empty());  // the maps are read at all
  CHECK(mapped(agent.pid(), "libssl").empty());
  CHECK(mapped(agent.pid(), "libcrypto").empty());
  stop(agent);
}

TEST_CASE("an agent opens OpenSSL for its first https and tls_cert checks, once, shared with libpq",
          "[openssl]") {
  auto dir = scratch_dir("openssl-tls");
  xj::test::make_self_signed(dir / "ip.pem", dir / "ip.key", "/CN=127.0.0.1", "IP:127.0.0.1", 400);
  xj::test::HttpTestServer tls({"--tls", (dir / "ip.pem").string(), (dir / "ip.key").string()});
  const std::string endpoint = "127.0.0.1:" + std::to_string(tls.port());
  // A postgres check where nothing listens: libpq, which links libssl itself, is opened too.
  write_file(dir / "agent.yaml",
             agent_yaml(dir, "  - {kind: http, id: trusted, url: '" + tls.url("/ok", "https") +
                                 "', ca_file: '" + (dir / "ip.pem").string() +
                                 "'}\n"
                                 "  - {kind: http, id: untrusted, url: '" +
                                 tls.url("/ok", "https") +
                                 "'}\n"
                                 "  - {kind: tls_cert, id: endpoint, endpoints: ['" +
                                 endpoint +
                                 "']}\n"
                                 "  - {kind: tls_cert, id: file, files: ['" +
                                 (dir / "ip.pem").string() +
                                 "']}\n"
                                 "  - {kind: postgres, dsn: 'host=127.0.0.1 port=" +
                                 std::to_string(xj::itest::free_port()) + " user=x'}\n"));
  xj::itest::Child agent(kAgent, {"run", "-c", (dir / "agent.yaml").string()}, dir / "agent.log");
  INFO(slurp(dir / "agent.log"));
  const auto db = dir / "state" / "spool.db";
  REQUIRE(wait_until(20s, [&] {
    for (const char* id : {"trusted", "untrusted", "endpoint", "file"}) {
      if (spooled(db, id).is_null()) return false;
    }
    return true;
  }));

  auto trusted = spooled(db, "trusted");
  INFO(trusted.dump());
  CHECK(trusted["status"] == "ok");
  CHECK(has_metric(trusted, "cert_days_left"));
  CHECK(trusted["details"]["cert_subject"] == "CN=127.0.0.1");

  // Verification on, a certificate nobody vouches for: OpenSSL's own words, through the shim.
  auto untrusted = spooled(db, "untrusted");
  INFO(untrusted.dump());
  CHECK(untrusted["status"] == "critical");
  CHECK_THAT(untrusted["summary"].get<std::string>(),
             Catch::Contains("certificate verify failed (self-signed certificate)"));

  for (const char* id : {"endpoint", "file"}) {
    auto cert = spooled(db, id);
    INFO(cert.dump());
    CHECK(cert["status"] == "ok");
    CHECK(has_metric(cert, "days_left"));
  }

  REQUIRE(wait_until(10s, [&] { return !mapped(agent.pid(), "libpq.so.5").empty(); }));
  // One libssl and one libcrypto: the shim's dlopen and libpq's dependency are the same copy.
  CHECK(mapped(agent.pid(), "libssl.so.3").size() == 1);
  CHECK(mapped(agent.pid(), "libcrypto.so.3").size() == 1);
  stop(agent);
}

TEST_CASE("a postgres check over SSL and an https check run in one agent on one OpenSSL",
          "[openssl][real]") {
  auto dir = scratch_dir("openssl-libpq");
  xj::test::PgServer pg;
  pg.stop();
  const std::string data = pg.dir() + "/data";
  // The server refuses a key readable by others or owned by someone else: make it as the
  // server's user. Only SSL connections are let in over TCP, without a password.
  const std::string as_pg = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
  REQUIRE(xj::test::sh(as_pg +
                       "openssl req -x509 -newkey rsa:2048 -nodes -days 20 -subj /CN=db.example"
                       " -keyout " +
                       data + "/server.key -out " + data + "/server.crt >/dev/null 2>&1") == 0);
  std::ofstream(data + "/postgresql.conf", std::ios::app)
      << "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n";
  REQUIRE(xj::test::sh("sed -i '1i hostssl all all 127.0.0.1/32 trust' " + data + "/pg_hba.conf") ==
          0);
  pg.start();

  xj::test::make_self_signed(dir / "ip.pem", dir / "ip.key", "/CN=127.0.0.1", "IP:127.0.0.1", 400);
  xj::test::HttpTestServer tls({"--tls", (dir / "ip.pem").string(), (dir / "ip.key").string()});
  write_file(dir / "agent.yaml",
             agent_yaml(dir, "  - {kind: http, id: web, url: '" + tls.url("/ok", "https") +
                                 "', ca_file: '" + (dir / "ip.pem").string() +
                                 "'}\n"
                                 "  - {kind: postgres, id: pg, dsn: 'host=127.0.0.1 port=" +
                                 std::to_string(pg.port()) +
                                 " user=postgres dbname=postgres sslmode=require'}\n"));
  xj::itest::Child agent(kAgent, {"run", "-c", (dir / "agent.yaml").string()}, dir / "agent.log");
  INFO(slurp(dir / "agent.log"));
  const auto db = dir / "state" / "spool.db";
  // Two rounds of each: both libraries were opened in the first, concurrently.
  REQUIRE(wait_until(
      30s, [&] { return spooled_count(db, "web") >= 2 && spooled_count(db, "pg") >= 2; }));
  auto web = spooled(db, "web");
  INFO(web.dump());
  CHECK(web["status"] == "ok");
  CHECK(has_metric(web, "cert_days_left"));
  auto postgres = spooled(db, "pg");
  INFO(postgres.dump());
  INFO(pg.log_tail());
  CHECK((postgres["status"] == "ok" || postgres["status"] == "warning"));
  // Connected and measured (an SSL or login failure is critical with libpq's message).
  CHECK_THAT(postgres["summary"].get<std::string>(), Catch::StartsWith("PostgreSQL 15"));
  CHECK(mapped(agent.pid(), "libssl.so.3").size() == 1);
  CHECK(mapped(agent.pid(), "libcrypto.so.3").size() == 1);
  stop(agent);
}

TEST_CASE("without libssl the agent's TLS checks say it cannot be loaded, and the rest run",
          "[openssl]") {
  auto dir = scratch_dir("openssl-missing");
  EnvVar ssl("XJ_TEST_LIBSSL_SONAME", "libssl.so.0-missing-for-test");
  xj::test::make_self_signed(dir / "ip.pem", dir / "ip.key", "/CN=127.0.0.1", "IP:127.0.0.1", 400);
  write_file(dir / "agent.yaml", agent_yaml(dir,
                                            "  - {kind: load}\n"
                                            "  - {kind: http, id: web, url: 'https://127.0.0.1:" +
                                                std::to_string(xj::test::closed_port()) +
                                                "/'}\n"
                                                "  - {kind: tls_cert, id: file, files: ['" +
                                                (dir / "ip.pem").string() + "']}\n"));
  auto r = run(kAgent, {"check", "--json", "-c", (dir / "agent.yaml").string()}, dir);
  INFO(r.out);
  CHECK(r.exit_code == 2);  // critical is the worst status: tls_cert cannot see its certificate
  const std::string cause =
      "cannot load libssl.so.0-missing-for-test: libssl.so.0-missing-for-test: cannot open "
      "shared object file";
  nlohmann::json by_id;
  for (const auto& res : printed_results(r.out)) by_id[res["check"].get<std::string>()] = res;
  REQUIRE(by_id.contains("web"));
  CHECK(by_id["web"]["status"] == "unknown");
  CHECK_THAT(by_id["web"]["summary"].get<std::string>(), Catch::Contains(cause));
  REQUIRE(by_id.contains("file"));
  CHECK(by_id["file"]["status"] == "critical");
  CHECK_THAT(by_id["file"]["summary"].get<std::string>(), Catch::Contains(cause));
  REQUIRE(by_id.contains("load"));
  CHECK(by_id["load"]["status"] != "unknown");
}
