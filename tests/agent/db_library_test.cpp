// The database client libraries are opened with dlopen when a database check needs them
// (checks/src/shared_library.hpp), not linked. These tests run the real xunjian-agent: its
// ELF NEEDED list, the libraries it maps with and without a database check, and what a
// check reports when its library is absent. Absence is made real with the test-only
// XJ_TEST_*_SONAME variables: they point the loader at a soname that does not exist, so
// dlopen itself fails, as on a machine without the package.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>

#include "../support/processes.hpp"
#include "xj/checks/registry.hpp"

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

const std::vector<std::string> kDbLibraries = {"libpq.so", "libmariadb.so", "libodbc.so"};

std::string agent_yaml(const fs::path& dir, const std::string& checks) {
  return "agent:\n  id: db-library-test\n  state_dir: " + (dir / "state").string() +
         "\n  metrics_listen: 'off'\n  log_level: debug\n"
         "defaults: {interval: 1s, timeout: 2s}\n"
         "checks:\n" +
         checks;
}

// The libraries a running process has mapped, by file name.
std::set<std::string> mapped_libraries(pid_t pid) {
  std::set<std::string> out;
  std::istringstream in(slurp("/proc/" + std::to_string(pid) + "/maps"));
  for (std::string line; std::getline(in, line);) {
    auto slash = line.rfind('/');
    if (slash != std::string::npos) out.insert(line.substr(slash + 1));
  }
  return out;
}

bool maps_any(const std::set<std::string>& libs, const std::string& prefix) {
  return std::any_of(libs.begin(), libs.end(),
                     [&](const std::string& l) { return l.starts_with(prefix); });
}

// The results `check --json` printed (its output also holds the log lines on stderr).
nlohmann::json printed_results(const std::string& out) {
  const auto start = out.find("{\n  \"agent\"");
  if (start == std::string::npos) return nlohmann::json::array();
  auto json = nlohmann::json::parse(out.substr(start), nullptr, false);
  return json.is_discarded() ? nlohmann::json::array() : json["results"];
}

}  // namespace

TEST_CASE("the agent binary links none of the database client libraries", "[dblib]") {
  auto dir = scratch_dir("db-needed");
  auto r = run("/usr/bin/readelf", {"-d", kAgent}, dir);
  REQUIRE(r.exit_code == 0);
  INFO(r.out);
  CHECK(r.out.find("(NEEDED)") != std::string::npos);  // the listing is there at all
  for (const auto& lib : kDbLibraries) CHECK(r.out.find(lib) == std::string::npos);
  CHECK(r.out.find("libgnutls") == std::string::npos);
  CHECK(r.out.find("libcurl") == std::string::npos);  // e-mail's libcurl is the collector's alone
}

TEST_CASE("an agent maps a database client library only once a check of its kind is configured",
          "[dblib]") {
  auto dir = scratch_dir("db-mapped");
  const auto port = xj::itest::free_port();  // nothing listens: the check itself is critical
  write_file(dir / "host.yaml", agent_yaml(dir, "  - {kind: load}\n"));
  write_file(dir / "pg.yaml", agent_yaml(dir, "  - {kind: load}\n"
                                              "  - {kind: postgres, dsn: 'host=127.0.0.1 port=" +
                                                  std::to_string(port) + " user=x'}\n"));
  {
    xj::itest::Child agent(kAgent, {"run", "-c", (dir / "host.yaml").string()}, dir / "host.log");
    // Running once the first load result is in the spool; the libraries are settled by then.
    REQUIRE(wait_until(10s, [&] { return fs::exists(dir / "state" / "spool.db"); }));
    std::this_thread::sleep_for(1500ms);
    auto libs = mapped_libraries(agent.pid());
    INFO(slurp(dir / "host.log"));
    REQUIRE(maps_any(libs, "libc.so"));
    for (const auto& lib : kDbLibraries) CHECK_FALSE(maps_any(libs, lib));
    CHECK_FALSE(maps_any(libs, "libgnutls"));
  }
  xj::itest::Child agent(kAgent, {"run", "-c", (dir / "pg.yaml").string()}, dir / "pg.log");
  INFO(slurp(dir / "pg.log"));
  CHECK(wait_until(10s, [&] { return maps_any(mapped_libraries(agent.pid()), "libpq.so.5"); }));
  auto libs = mapped_libraries(agent.pid());
  CHECK_FALSE(maps_any(libs, "libmariadb.so"));
  CHECK_FALSE(maps_any(libs, "libodbc.so"));
}

TEST_CASE("a database check whose client library is missing is unknown and names the package",
          "[dblib]") {
  auto dir = scratch_dir("db-missing");
  EnvVar pq("XJ_TEST_LIBPQ_SONAME", "libpq.so.0-missing-for-test");
  EnvVar my("XJ_TEST_LIBMARIADB_SONAME", "libmariadb.so.0-missing-for-test");
  EnvVar odbc("XJ_TEST_LIBODBC_SONAME", "libodbc.so.0-missing-for-test");
  write_file(dir / "agent.yaml",
             agent_yaml(dir,
                        "  - {kind: postgres, dsn: 'host=127.0.0.1 port=5432 user=x'}\n"
                        "  - {kind: mysql, host: 127.0.0.1, port: 3306, user: x}\n"
                        "  - {kind: odbc, connection_string: 'DRIVER=x;SERVER=127.0.0.1'}\n"));
  // The config is still valid: installing the package is all it takes.
  auto v = run(kAgent, {"validate", "-c", (dir / "agent.yaml").string()}, dir);
  INFO(v.out);
  CHECK(v.exit_code == 0);

  auto r = run(kAgent, {"check", "--json", "-c", (dir / "agent.yaml").string()}, dir);
  INFO(r.out);
  CHECK(r.exit_code == 3);  // unknown is the worst status
  nlohmann::json by_kind;
  for (const auto& res : printed_results(r.out)) by_kind[res["kind"].get<std::string>()] = res;
  struct Want {
    const char* kind;
    const char* summary;
  };
  for (const Want& w : {
           Want{"postgres",
                "postgres check 'postgres:127.0.0.1:5432': libpq.so.0-missing-for-test cannot be "
                "loaded (install the Debian package libpq5): libpq.so.0-missing-for-test: cannot "
                "open shared object file"},
           Want{"mysql",
                "mysql check 'mysql:127.0.0.1:3306': libmariadb.so.0-missing-for-test cannot be "
                "loaded (install the Debian package libmariadb3): "},
           Want{"odbc",
                "odbc check 'odbc:127.0.0.1': libodbc.so.0-missing-for-test cannot be loaded "
                "(install the Debian package libodbc2 (unixODBC; `apt install unixodbc` brings "
                "it)): "},
       }) {
    INFO(w.kind);
    REQUIRE(by_kind.contains(w.kind));
    CHECK(by_kind[w.kind]["status"] == "unknown");
    CHECK_THAT(by_kind[w.kind]["summary"].get<std::string>(), Catch::StartsWith(w.summary));
  }
}

TEST_CASE("without libpq a postgres check keeps the default id libpq gives it", "[dblib]") {
  // Checks without an id in every common dsn form; none of them is connected to: without
  // libpq the run ends at the loader.
  const std::vector<std::string> dsns = {
      "host=db1.example port=5433 dbname=app",
      "host = '/run/sock dir' user=a\\'b",
      "hostaddr=10.0.0.7 port=6432",
      "dbname=only_defaults",
      "host=h1,h2 port=5432,5433",
      "postgresql://u:secret@db2.example:6432/app?sslmode=require",
      "postgres://db3.example/app",
      "postgresql://[::1]:5434/app",
      "postgresql:///app?host=/var/run/pg&port=5999",
      "postgresql://h%31:5435,h2/app",
      "postgresql://:5437",
  };
  auto dir = scratch_dir("db-ids");
  std::string checks;
  std::set<std::string> want;
  for (std::size_t i = 0; i < dsns.size(); ++i) {
    const std::string item = "{kind: postgres, dsn: \"" + std::string(dsns[i]) + "\"}";
    checks += "  - " + item + "\n";
    // With libpq (this test process has it): the id the check gets from libpq's own parser.
    auto def = xj::load_check(YAML::Load(item), "agent.yaml", "checks[" + std::to_string(i) + "]",
                              xj::CheckEnv{});
    want.insert(def.check->id());
    UNSCOPED_INFO(dsns[i] << " -> " << def.check->id());
  }
  REQUIRE(want.size() == dsns.size());  // distinct, so a wrong id cannot hide behind another
  write_file(dir / "agent.yaml", agent_yaml(dir, checks));
  EnvVar pq("XJ_TEST_LIBPQ_SONAME", "libpq.so.0-missing-for-test");
  auto r = run(kAgent, {"check", "--json", "-c", (dir / "agent.yaml").string()}, dir);
  INFO(r.out);
  std::set<std::string> got;
  for (const auto& res : printed_results(r.out)) {
    got.insert(res["check"].get<std::string>());
    CHECK(res["status"] == "unknown");
  }
  CHECK(got == want);
}
