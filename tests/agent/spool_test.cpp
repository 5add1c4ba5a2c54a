#include "xj/agent/spool.hpp"

#include <catch2/catch.hpp>
#include <fstream>

#include "agent_test_util.hpp"

using namespace xj;

namespace {

Result make(const std::string& check, const std::string& summary = "ok",
            Status status = Status::kOk) {
  Result r;
  r.check = check;
  r.kind = "load";
  r.status = status;
  r.summary = summary;
  r.ts_ms = now_epoch_ms();
  r.duration_ms = 3;
  r.metrics.push_back(Metric{"load1", 0.5, "", {}, std::nullopt, std::nullopt});
  return r;
}

std::unique_ptr<Spool> open_spool(const std::filesystem::path& dir, SpoolOptions o = {}) {
  auto s = Spool::open(dir, o);
  INFO((s.ok() ? std::string() : s.error()));
  REQUIRE(s.ok());
  return std::move(s).value();
}

std::vector<std::int64_t> seqs(const Spool& s) {
  auto rows = s.peek(1000, 1 << 30);
  REQUIRE(rows.ok());
  std::vector<std::int64_t> out;
  for (const auto& r : *rows) out.push_back(r.seq);
  return out;
}

}  // namespace

TEST_CASE("results survive closing and reopening the spool, as across an agent restart",
          "[spool]") {
  auto dir = test::scratch_dir("spool-reopen");
  {
    auto s = open_spool(dir);
    REQUIRE(*s->append(make("load", "first")) == 1);
    REQUIRE(*s->append(make("disk:/", "second", Status::kCritical)) == 2);
  }
  auto s = open_spool(dir);
  CHECK(s->depth() == 2);
  CHECK(s->oldest_seq() == 1);
  CHECK(s->newest_seq() == 2);
  auto rows = s->peek(10, 1 << 20);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 2);
  auto second = result_from_json(nlohmann::json::parse((*rows)[1].json));
  REQUIRE(second.ok());
  CHECK(second->check == "disk:/");
  CHECK(second->summary == "second");
  CHECK(second->status == Status::kCritical);
  CHECK(second->metrics.size() == 1);
}

TEST_CASE("seq keeps growing after everything was acknowledged, also across a restart", "[spool]") {
  auto dir = test::scratch_dir("spool-seq");
  {
    auto s = open_spool(dir);
    s->append(make("a"));
    s->append(make("a"));
    REQUIRE(*s->ack(2) == 2);
    CHECK(s->depth() == 0);
    CHECK(s->oldest_seq() == 0);
    CHECK(*s->append(make("a")) == 3);
    REQUIRE(*s->ack(3) == 1);
  }
  auto s = open_spool(dir);
  CHECK(s->depth() == 0);
  CHECK(*s->append(make("a")) == 4);
}

TEST_CASE("ack deletes only the results up to the acknowledged seq", "[spool]") {
  auto s = open_spool(test::scratch_dir("spool-ack"));
  for (int i = 0; i < 5; ++i) s->append(make("c" + std::to_string(i)));
  REQUIRE(*s->ack(3) == 3);
  CHECK(seqs(*s) == std::vector<std::int64_t>{4, 5});
  CHECK(s->oldest_seq() == 4);
  CHECK(s->depth() == 2);
  CHECK(*s->ack(3) == 0);  // a repeated ack is harmless
  CHECK(s->depth() == 2);
}

TEST_CASE("peek gives the oldest results first within the count and byte limits", "[spool]") {
  auto s = open_spool(test::scratch_dir("spool-peek"));
  for (int i = 0; i < 5; ++i) s->append(make("c", std::string(1000, 'x')));
  CHECK(s->peek(3, 1 << 20)->size() == 3);
  CHECK(s->peek(3, 1 << 20)->front().seq == 1);
  CHECK(s->peek(10, 2500)->size() == 2);
  // A limit smaller than one result still returns one, or shipping would stall forever.
  CHECK(s->peek(10, 10)->size() == 1);
  CHECK(s->bytes() > 5000);
}

TEST_CASE("append_batch stores the results in order and returns the last seq", "[spool]") {
  auto s = open_spool(test::scratch_dir("spool-batch"));
  s->append(make("before"));
  auto last = s->append_batch({make("a"), make("b"), make("c")});
  REQUIRE(last.ok());
  CHECK(*last == 4);
  auto rows = *s->peek(10, 1 << 20);
  REQUIRE(rows.size() == 4);
  CHECK(nlohmann::json::parse(rows[3].json)["check"] == "c");
}

TEST_CASE("at the row cap the oldest results are dropped, counted and recorded as one gap",
          "[spool]") {
  SpoolOptions o;
  o.max_rows = 3;
  auto s = open_spool(test::scratch_dir("spool-cap-rows"), o);
  for (int i = 1; i <= 6; ++i) REQUIRE(s->append(make("c" + std::to_string(i))).ok());
  CHECK(s->depth() == 3);
  CHECK(seqs(*s) == std::vector<std::int64_t>{4, 5, 6});
  CHECK(s->dropped() == 3);
  auto gaps = s->gaps();
  REQUIRE(gaps.ok());
  REQUIRE(gaps->size() == 1);  // consecutive drops extend one gap
  CHECK(gaps->front().from_seq == 1);
  CHECK(gaps->front().to_seq == 3);
  CHECK(gaps->front().count == 3);
  // Acknowledging past the gap clears it along with the results.
  s->ack(4);
  CHECK(s->gaps()->empty());
}

TEST_CASE("at the byte cap the oldest results go and the newest stays", "[spool]") {
  SpoolOptions o;
  o.max_bytes = 5000;
  auto s = open_spool(test::scratch_dir("spool-cap-bytes"), o);
  for (int i = 1; i <= 10; ++i) REQUIRE(s->append(make("c", std::string(1000, 'x'))).ok());
  CHECK(s->bytes() <= 5000);
  CHECK(s->depth() >= 3);
  CHECK(s->newest_seq() == 10);
  CHECK(s->dropped() == 10 - s->depth());
  // One result bigger than the whole cap is still kept rather than lost.
  REQUIRE(s->append(make("huge", std::string(8000, 'y'))).ok());
  CHECK(seqs(*s) == std::vector<std::int64_t>{11});
}

TEST_CASE("a full disk drops the oldest results to make room for the newest", "[spool]") {
  SpoolOptions o;
  o.max_file_bytes = 128 * 1024;  // stands in for a full filesystem: SQLite answers SQLITE_FULL
  auto s = open_spool(test::scratch_dir("spool-full"), o);
  for (int i = 1; i <= 100; ++i) {
    auto seq = s->append(make("c", std::string(3000, 'x')));
    REQUIRE(seq.ok());
    CHECK(*seq == i);
  }
  CHECK(s->dropped() > 0);
  CHECK(s->depth() + s->dropped() == 100);
  CHECK(s->newest_seq() == 100);
  REQUIRE(!s->gaps()->empty());
  CHECK(s->gaps()->front().from_seq == 1);
}

TEST_CASE("a result that cannot fit even in an empty spool is an error naming the file",
          "[spool]") {
  SpoolOptions o;
  o.max_file_bytes = 64 * 1024;
  auto dir = test::scratch_dir("spool-too-big");
  auto s = open_spool(dir, o);
  auto seq = s->append(make("c", std::string(200 * 1024, 'x')));
  REQUIRE_FALSE(seq.ok());
  CHECK_THAT(seq.error(), Catch::Contains((dir / "spool.db").string()));
  CHECK_THAT(seq.error(), Catch::Contains("full"));
  // The spool still works afterwards.
  CHECK(s->append(make("c")).ok());
}

TEST_CASE("a state dir that cannot be created gives an error naming it", "[spool]") {
  auto dir = test::scratch_dir("spool-bad-dir");
  std::ofstream(dir / "a-file") << "not a directory";
  auto state = dir / "a-file" / "state";
  auto s = Spool::open(state);
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.error(), Catch::Contains(state.string()));
  CHECK_THAT(s.error(), Catch::Contains("cannot create state dir"));
}

TEST_CASE("a spool file that is not a database gives an error naming it", "[spool]") {
  auto dir = test::scratch_dir("spool-corrupt");
  std::ofstream(dir / "spool.db") << std::string(8192, 'z');
  auto s = Spool::open(dir);
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.error(), Catch::Contains((dir / "spool.db").string()));
  CHECK_THAT(s.error(), Catch::Contains("not a database"));
}

TEST_CASE("the spool's page cache stays small however full the spool is", "[spool]") {
  // 6000 results of ~1 KB: a 7 MB file, more than SQLite's default 2000 KiB cache holds.
  auto dir = test::scratch_dir("spool-cache");
  {
    auto s = open_spool(dir);
    std::vector<Result> batch(6000, make("disk:/", std::string(900, 'x')));
    REQUIRE(s->append_batch(batch).ok());
  }
  REQUIRE(std::filesystem::file_size(dir / "spool.db") > (4u << 20));  // closing checkpointed
  // Reopening counts every row (a full read of the table), as an agent restarting after a
  // collector outage does; then one append, peek and ack.
  auto s = open_spool(dir);
  CHECK(s->depth() == 6000);
  REQUIRE(s->append(make("load")).ok());
  REQUIRE(s->peek(500, 1 << 20).ok());
  REQUIRE(s->ack(500).ok());
  CHECK(s->depth() == 5501);
  INFO("page cache: " << s->cache_bytes() << " bytes");
  CHECK(s->cache_bytes() > 0);
  CHECK(s->cache_bytes() <= 400u * 1024);  // 256 KiB of pages + SQLite's per-page headers
}
