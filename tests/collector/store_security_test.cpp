// The SQLite store's tokens (hashes only) and its SM3-chained audit log.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "store_test_util.hpp"
#include "xj/collector/sm3.hpp"
#include "xj/collector/tokens.hpp"

using namespace xj;
using namespace xj::test;

namespace {

std::string file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The layout documented in sqlite_tokens_audit.cpp, written out independently.
std::string audit_bytes(std::int64_t id, std::int64_t ts, std::vector<std::string> texts) {
  std::string out = "xj-audit-v1";
  auto u64 = [&](std::uint64_t v) {
    for (int i = 7; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  u64(static_cast<std::uint64_t>(id));
  u64(static_cast<std::uint64_t>(ts));
  for (const auto& t : texts) {
    u64(t.size());
    out += t;
  }
  return out;
}

}  // namespace

TEST_CASE("sm3_hex matches the published SM3 test vectors", "[store-security]") {
  CHECK(sm3_hex("abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
  std::string abcd;
  for (int i = 0; i < 16; ++i) abcd += "abcd";
  CHECK(sm3_hex(abcd) == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
}

TEST_CASE("tokens are stored as hashes only, and a plain token is refused", "[store-security]") {
  auto dir = store_dir("store-tokens");
  auto file = dir / "collector.db";
  TestClock clock;
  const std::string agent_token = generate_token(TokenKind::kAgent);
  const std::string api_token = generate_token(TokenKind::kApi);
  {
    auto store = open_store(file, options_with(clock));
    auto agent_id = store->create_token("web-01", std::nullopt, token_hash(agent_token));
    REQUIRE(agent_id.ok());
    auto api_id = store->create_token("alice", Role::kOperator, token_hash(api_token));
    REQUIRE(api_id.ok());
    CHECK(*api_id > *agent_id);
    auto plain = store->create_token("bob", Role::kAdmin, api_token);
    REQUIRE_FALSE(plain.ok());
    CHECK_THAT(plain.error(), Catch::Contains("SHA-256"));
    auto again = store->create_token("web-02", std::nullopt, token_hash(agent_token));
    CHECK_FALSE(again.ok());  // one hash, one token

    auto found = store->find_token(token_hash(agent_token));
    REQUIRE(found);
    CHECK(found->name == "web-01");
    CHECK_FALSE(found->role);
    CHECK(found->created_ms == kT0);
    auto api = store->find_token(token_hash(api_token));
    REQUIRE(api);
    CHECK(api->role == Role::kOperator);
    CHECK_FALSE(store->find_token(token_hash("xja_not-a-token")));
    REQUIRE(store->maintain(kT0).ok());
  }
  std::string bytes;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    auto p = dir / (std::string("collector.db") + suffix);
    if (std::filesystem::exists(p)) bytes += file_bytes(p);
  }
  CHECK(bytes.find(token_hash(agent_token)) != std::string::npos);  // the grep finds hashes
  CHECK(bytes.find(agent_token) == std::string::npos);
  CHECK(bytes.find(api_token) == std::string::npos);
  CHECK(bytes.find(agent_token.substr(4, 20)) == std::string::npos);
}

TEST_CASE("a revoked token is no longer found", "[store-security]") {
  auto file = store_dir("store-revoke") / "collector.db";
  TestClock clock;
  auto store = open_store(file, options_with(clock));
  const std::string hash = token_hash("xja_example");
  auto id = store->create_token("web-01", std::nullopt, hash);
  REQUIRE(id.ok());
  REQUIRE(store->find_token(hash));
  auto revoked = store->revoke_token(*id);
  REQUIRE(revoked.ok());
  CHECK(*revoked);
  CHECK_FALSE(store->find_token(hash));
  auto listed = store->tokens();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].revoked);
  auto twice = store->revoke_token(*id);
  REQUIRE(twice.ok());
  CHECK_FALSE(*twice);
  auto unknown = store->revoke_token(*id + 100);
  REQUIRE_FALSE(unknown.ok());
  CHECK_THAT(unknown.error(), Catch::Contains("no token with id"));
}

TEST_CASE("a token's last use is written at most once a minute, with the next commit",
          "[store-security]") {
  auto file = store_dir("store-token-use") / "collector.db";
  TestClock clock;
  auto store = open_store(file, options_with(clock));
  const std::string hash = token_hash("xja_example");
  REQUIRE(store->create_token("web-01", std::nullopt, hash).ok());
  RawDb raw(file);
  auto stored = [&] { return raw.integer("SELECT last_used FROM tokens"); };
  clock.now = kT0 + 1000;
  REQUIRE(store->find_token(hash));
  CHECK(stored() == 0);  // no write per request
  ingest_ok(*store, batch("web-01", {}, clock.now));
  CHECK(stored() == kT0 + 1000);
  clock.now = kT0 + 30'000;
  auto row = store->find_token(hash);
  REQUIRE(row);
  CHECK(row->last_used_ms == kT0 + 1000);
  REQUIRE(store->maintain(clock.now).ok());
  CHECK(stored() == kT0 + 1000);
  clock.now = kT0 + 62'000;
  REQUIRE(store->find_token(hash));
  REQUIRE(store->maintain(clock.now).ok());
  CHECK(stored() == kT0 + 62'000);
  CHECK(store->tokens().at(0).last_used_ms == kT0 + 62'000);
}

TEST_CASE("the audit chain verifies, and an edited entry is named", "[store-security]") {
  auto file = store_dir("store-audit-edit") / "collector.db";
  TestClock clock;
  auto store = open_store(file, options_with(clock));
  for (int i = 1; i <= 5; ++i) {
    clock.now = kT0 + i * 1000;
    auto e = store->audit("cli:root", "token.create", "token:" + std::to_string(i),
                          R"({"name":"web-0)" + std::to_string(i) + R"("})");
    REQUIRE(e.ok());
    CHECK(e->id == i);
    CHECK(e->hash == sm3_hex(audit_bytes(i, kT0 + i * 1000,
                                         {e->actor, e->action, e->object, e->detail, e->prev_hash})));
  }
  auto entries = store->audit_entries(2, 10);
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].id == 3);
  CHECK(entries[0].prev_hash == store->audit_entries(1, 1).at(0).hash);
  CHECK(store->audit_entries(0, 100).front().prev_hash.empty());
  auto ok = store->verify_audit();
  CHECK(ok.ok);
  CHECK(ok.entries == 5);

  RawDb(file).exec(R"(UPDATE audit SET detail = '{"name":"evil"}' WHERE id = 3)");
  auto bad = store->verify_audit();
  CHECK_FALSE(bad.ok);
  CHECK(bad.first_bad_id == 3);
  CHECK_THAT(bad.reason, Catch::Contains("hash mismatch") && Catch::Contains("entry 3"));

  // Recomputing the edited entry's hash moves the break to the link of the next entry.
  auto e3 = store->audit_entries(2, 1).at(0);
  RawDb(file).exec("UPDATE audit SET hash = '" +
                   sm3_hex(audit_bytes(3, e3.ts_ms, {e3.actor, e3.action, e3.object, e3.detail,
                                                     e3.prev_hash})) + "' WHERE id = 3");
  auto relinked = store->verify_audit();
  CHECK_FALSE(relinked.ok);
  CHECK(relinked.first_bad_id == 4);
  CHECK_THAT(relinked.reason, Catch::Contains("broken link"));
}

TEST_CASE("a deleted audit entry is reported as a gap in the ids", "[store-security]") {
  auto file = store_dir("store-audit-delete") / "collector.db";
  TestClock clock;
  auto store = open_store(file, options_with(clock));
  for (int i = 1; i <= 4; ++i) REQUIRE(store->audit("collector", "collector.start", "x", "{}").ok());
  RawDb(file).exec("DELETE FROM audit WHERE id = 2");
  auto v = store->verify_audit();
  CHECK_FALSE(v.ok);
  CHECK(v.first_bad_id == 2);
  CHECK_THAT(v.reason, Catch::Contains("gap") && Catch::Contains("ids jump from 1 to 3"));
  // New entries after a tamper still chain to the last stored one; the gap stays reported.
  REQUIRE(store->audit("collector", "collector.stop", "x", "{}").ok());
  CHECK(store->verify_audit().first_bad_id == 2);
}
