// Issue 3, acceptance 6: the audit log written by real CLI and server actions verifies with
// `xunjian-collector audit verify`, and editing or deleting one row in SQLite (what someone
// with file access might do to hide a change) makes it fail, naming the entry.
#include <catch2/catch.hpp>

#include "fleet.hpp"

using namespace xj::itest;

namespace {

void exec_sql(const fs::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO(sql << ": " << (err ? err : "ok"));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE("the audit chain of token and server actions verifies, and an edited or deleted row "
          "is named",
          "[integration]") {
  auto dir = scratch_dir("audit");
  CollectorProc collector(dir / "collector");  // token create --api: entry 1
  collector.agent_token("web-01", dir / "web.token");
  collector.agent_token("web-02", dir / "web2.token");
  REQUIRE(run(kCollector, {"token", "revoke", "3", "-c", collector.config()}, dir).exit_code == 0);
  collector.start();  // collector.start is audited too
  collector.kill(SIGTERM);

  auto list = run(kCollector, {"audit", "list", "-c", collector.config()}, dir);
  REQUIRE(list.exit_code == 0);
  INFO(list.out);
  CHECK(list.out.find("token.create") != std::string::npos);
  CHECK(list.out.find("token.revoke") != std::string::npos);
  CHECK(list.out.find("collector.start") != std::string::npos);
  const auto entries = sql_int(collector.store(), "SELECT count(*) FROM audit");
  REQUIRE(entries);
  CHECK(*entries == 5);

  auto ok = run(kCollector, {"audit", "verify", "-c", collector.config()}, dir);
  INFO(ok.out);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("5 entries") != std::string::npos);

  SECTION("an edited detail breaks the chain at that row") {
    exec_sql(collector.store(), "UPDATE audit SET detail = '{\"name\":\"intruder\"}' WHERE id = 3");
    auto bad = run(kCollector, {"audit", "verify", "-c", collector.config()}, dir);
    INFO(bad.out);
    CHECK(bad.exit_code == 1);
    CHECK(bad.out.find("entry 3") != std::string::npos);
  }
  SECTION("a deleted row is found as a gap") {
    exec_sql(collector.store(), "DELETE FROM audit WHERE id = 4");
    auto bad = run(kCollector, {"audit", "verify", "-c", collector.config()}, dir);
    INFO(bad.out);
    CHECK(bad.exit_code == 1);
    CHECK(bad.out.find("TAMPERED") != std::string::npos);
  }
}
