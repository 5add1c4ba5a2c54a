#include <catch2/catch.hpp>

#include "xj/checks/log_scan_check.hpp"
#include "xj/checks/utf8.hpp"

using namespace xj;

namespace {

LogMatcher matcher(const std::string& pattern, const std::string& exclude = "",
                   bool icase = false) {
  auto m = LogMatcher::compile(pattern, exclude, icase);
  REQUIRE(m.ok());
  return *m;
}

LogFileNow file_now(std::uint64_t inode, std::uint64_t size, std::string head) {
  return LogFileNow{1, inode, size, std::move(head)};
}

LogPosition position(std::uint64_t inode, std::uint64_t offset, const std::string& head) {
  return LogPosition{1, inode, offset, head.size(), fnv1a64(head)};
}

}  // namespace

TEST_CASE("only complete lines are consumed and a trailing partial line waits", "[log_scan]") {
  auto s = scan_log_chunk("INFO a\nERROR b\nERROR par", matcher("ERROR"), 5, false);
  CHECK(s.lines == 2);
  CHECK(s.matches == 1);
  CHECK(s.consumed == 15);  // through the second newline
  REQUIRE(s.samples.size() == 1);
  CHECK(s.samples[0] == "ERROR b");
}

TEST_CASE("a final chunk counts its unterminated last line", "[log_scan]") {
  auto s = scan_log_chunk("INFO a\nERROR last", matcher("ERROR"), 5, true);
  CHECK(s.lines == 2);
  CHECK(s.matches == 1);
  CHECK(s.consumed == 17);
}

TEST_CASE("an empty chunk or one without a newline consumes nothing", "[log_scan]") {
  CHECK(scan_log_chunk("", matcher("x"), 5, false).consumed == 0);
  auto s = scan_log_chunk("ERROR no newline yet", matcher("ERROR"), 5, false);
  CHECK(s.consumed == 0);
  CHECK(s.lines == 0);
  CHECK(s.matches == 0);
}

TEST_CASE("CRLF line endings are stripped before matching", "[log_scan]") {
  auto s = scan_log_chunk("disk ERROR\r\nok\r\n", matcher("ERROR$"), 5, false);
  CHECK(s.matches == 1);
  CHECK(s.samples[0] == "disk ERROR");
  CHECK(s.consumed == 16);
}

TEST_CASE("exclude drops lines the pattern matched, and ignore_case applies to both",
          "[log_scan]") {
  const std::string text = "ERROR db down\nerror: retry ok\nError heartbeat\nINFO fine\n";
  CHECK(scan_log_chunk(text, matcher("ERROR"), 5, false).matches == 1);
  CHECK(scan_log_chunk(text, matcher("error", "", true), 5, false).matches == 3);
  auto s = scan_log_chunk(text, matcher("error", "HEARTBEAT", true), 5, false);
  CHECK(s.matches == 2);
  CHECK(s.samples == std::vector<std::string>{"ERROR db down", "error: retry ok"});
}

TEST_CASE("samples stop at the requested number while matches keep counting", "[log_scan]") {
  std::string text;
  for (int i = 0; i < 10; ++i) text += "ERROR " + std::to_string(i) + "\n";
  auto s = scan_log_chunk(text, matcher("ERROR"), 3, false);
  CHECK(s.matches == 10);
  CHECK(s.samples == std::vector<std::string>{"ERROR 0", "ERROR 1", "ERROR 2"});
  CHECK(scan_log_chunk(text, matcher("ERROR"), 0, false).samples.empty());
}

TEST_CASE("a sample is cut to 300 bytes without splitting a UTF-8 character", "[log_scan]") {
  std::string line = "ERROR a";  // 7 bytes, then 2-byte characters
  for (int i = 0; i < 200; ++i) line += "\xC3\xA9";
  auto s = scan_log_chunk(line + "\n", matcher("ERROR"), 5, false);
  REQUIRE(s.samples.size() == 1);
  CHECK(s.samples[0].size() == 299);  // 7 + 146 * 2; a 147th character would end at 301
  CHECK(s.samples[0].substr(297) == "\xC3\xA9");
}

TEST_CASE("invalid UTF-8 in a matched line becomes replacement characters", "[log_scan]") {
  auto s = scan_log_chunk("ERROR \xff\xfe bad \xC3\n", matcher("ERROR"), 5, false);
  REQUIRE(s.samples.size() == 1);
  CHECK(s.samples[0] == "ERROR \xEF\xBF\xBD\xEF\xBF\xBD bad \xEF\xBF\xBD");
  CHECK(nlohmann::json(s.samples[0]).dump().size() > 0);  // would throw on invalid UTF-8
}

TEST_CASE("utf8_clip rejects overlong forms and surrogates", "[log_scan]") {
  CHECK(utf8_clip("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(utf8_clip("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(utf8_clip("\xF0\x9F\x98\x80 ok") == "\xF0\x9F\x98\x80 ok");
  CHECK(utf8_clip("\xE5\xA4\x87\xE4\xBB\xBD", 4) == "\xE5\xA4\x87");  // 备 fits, 份 does not
}

TEST_CASE("only the first 4 KiB of a very long line are matched, without overflowing the stack",
          "[log_scan]") {
  std::string late(kLogMatchBytes + 10, 'a');
  late += "ERROR\n";
  CHECK(scan_log_chunk(late, matcher("ERROR"), 5, false).matches == 0);
  // `.*` recurses per character in std::regex; a 1 MiB line must not crash the agent.
  std::string huge(1 << 20, 'a');
  auto s = scan_log_chunk("ERROR " + huge + "\n", matcher(".*ERROR"), 5, false);
  CHECK(s.matches == 1);
  CHECK(s.samples[0].size() == kLogSampleBytes);
}

TEST_CASE("an invalid regular expression is an error naming it", "[log_scan]") {
  auto m = LogMatcher::compile("ERROR(", "", false);
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().find("'ERROR('") != std::string::npos);
}

TEST_CASE("read plan: no saved position starts at the end, or at 0 with from_start", "[log_scan]") {
  auto now = file_now(7, 500, "2026-11-21 first line\n");
  CHECK(plan_log_read(std::nullopt, now, false).offset == 500);
  CHECK(plan_log_read(std::nullopt, now, false).reason == LogReadPlan::Reason::kFirstRun);
  CHECK(plan_log_read(std::nullopt, now, true).offset == 0);
}

TEST_CASE("read plan: the same grown file continues at the saved offset", "[log_scan]") {
  const std::string head = "2026-11-21 first line\n";
  auto plan = plan_log_read(position(7, 300, head), file_now(7, 500, head + "more"), false);
  CHECK(plan.reason == LogReadPlan::Reason::kContinue);
  CHECK(plan.offset == 300);
}

TEST_CASE("read plan: a new inode is a rotation, read from 0", "[log_scan]") {
  const std::string head = "2026-11-21 first line\n";
  auto plan = plan_log_read(position(7, 300, head), file_now(8, 900, head), false);
  CHECK(plan.reason == LogReadPlan::Reason::kRotated);
  CHECK(plan.offset == 0);
  LogPosition other_dev = position(8, 300, head);
  other_dev.dev = 2;
  CHECK(plan_log_read(other_dev, file_now(8, 900, head), false).reason ==
        LogReadPlan::Reason::kRotated);
}

TEST_CASE("read plan: a file shorter than the offset was truncated, read from 0", "[log_scan]") {
  const std::string head = "2026-11-21 first line\n";
  auto plan = plan_log_read(position(7, 300, head), file_now(7, 120, head), false);
  CHECK(plan.reason == LogReadPlan::Reason::kTruncated);
  CHECK(plan.offset == 0);
}

TEST_CASE("read plan: changed first bytes mean copytruncate, even past the old offset",
          "[log_scan]") {
  auto plan = plan_log_read(position(7, 300, "2026-11-21 first line\n"),
                            file_now(7, 900, "2026-11-22 other line\n"), false);
  CHECK(plan.reason == LogReadPlan::Reason::kReplaced);
  CHECK(plan.offset == 0);
  // The saved head was shorter than the file's head is now: only that prefix is compared.
  auto grown =
      plan_log_read(position(7, 0, "2026-11"), file_now(7, 900, "2026-11-21 first"), false);
  CHECK(grown.reason == LogReadPlan::Reason::kContinue);
}

TEST_CASE("a saved position survives its JSON form and bad state is rejected", "[log_scan]") {
  LogPosition p{66306, 1234567, 98765, 256, 0xfedcba9876543210ULL};
  auto back = log_position_from_json(nlohmann::json::parse(to_json(p).dump()));
  REQUIRE(back.ok());
  CHECK(*back == p);
  auto j = to_json(p);
  j["offset"] = -1;
  CHECK(log_position_from_json(j).error() == "field 'offset' must be a non-negative integer");
  j.erase("offset");
  CHECK(log_position_from_json(j).error() == "field 'offset' is missing");
  CHECK_FALSE(log_position_from_json(nlohmann::json::array()).ok());
}

TEST_CASE("state file names are safe file names, unique for long ids", "[log_scan]") {
  CHECK(log_state_file_name("log_scan:/var/log/app.log") == "log_scan__var_log_app.log.json");
  CHECK(log_state_file_name("..") == "_...json");
  std::string a(300, 'x'), b(300, 'x');
  b.back() = 'y';
  CHECK(log_state_file_name(a).size() < 200);
  CHECK(log_state_file_name(a) != log_state_file_name(b));
}

TEST_CASE("fnv1a64 matches the published test vectors", "[log_scan]") {
  CHECK(fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ULL);
}
