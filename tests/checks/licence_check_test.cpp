// The licence check: every date form, extraction by JSON pointer and regex, a file renewed
// between runs, and a command's output (through agent.exec_allow).
#include "xj/checks/licence_check.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "xj/checks/registry.hpp"

using namespace xj;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr int kShanghai = 8 * 3600;

struct ScratchDir {
  fs::path path = fs::path(XJ_BINARY_DIR) / ("licence_test." + std::to_string(::getpid()));
  ScratchDir() { fs::create_directories(path); }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

const fs::path& dir() {
  static const ScratchDir d;
  return d.path;
}

std::string write(const std::string& name, const std::string& text) {
  const fs::path p = dir() / name;
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
  return p.string();
}

Result run_yaml(const std::string& yaml, CheckEnv env = {}) {
  auto def = load_check(YAML::Load(yaml), "t.yaml", "checks[0]", env);
  RunContext ctx(5s);
  return run_guarded(*def.check, ctx);
}

// "YYYY-MM-DD" in Shanghai, `days` from today.
std::string day_from_now(int days, const char* format = "%Y-%m-%d") {
  const std::time_t t = std::time(nullptr) + days * 86400 + kShanghai;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

// 2026-10-31 ends at 2026-11-01T00:00:00+08:00 = 2026-10-31T16:00:00Z.
constexpr std::int64_t kEndOf20261031 = 1793462400;

}  // namespace

TEST_CASE("every supported date form gives the moment the licence ends", "[licence]") {
  for (const char* text : {"2026-10-31", "2026/10/31", "2026.10.31", "20261031", "2026年10月31日",
                           " \"2026-10-31\"\n"}) {
    INFO(text);
    auto e = parse_expiry(text, kShanghai);
    REQUIRE(e);
    CHECK(*e == kEndOf20261031);
  }
  CHECK(*parse_expiry("2026-10-31T16:00:00Z", kShanghai) == kEndOf20261031);
  CHECK(*parse_expiry("2026-11-01T00:00:00+08:00", kShanghai) == kEndOf20261031);
  CHECK(*parse_expiry("2026-11-01 00:00:00", kShanghai) == kEndOf20261031);  // zone: utc_offset
  CHECK(*parse_expiry("2026-10-31T11:00:00-0500", kShanghai) == kEndOf20261031);
  CHECK(*parse_expiry("2026-10-31T16:00:00.250Z", kShanghai) == kEndOf20261031);
  CHECK(*parse_expiry("1793462400", kShanghai) == kEndOf20261031);
  CHECK(*parse_expiry("1793462400000", kShanghai) == kEndOf20261031);
  CHECK(*parse_expiry("2026-10-31", 0) == kEndOf20261031 + kShanghai);
}

TEST_CASE("text that is not a date is refused with the reason", "[licence]") {
  CHECK(!parse_expiry("", kShanghai));
  CHECK(parse_expiry("2026-02-30", kShanghai).error().find("no such day") != std::string::npos);
  CHECK(parse_expiry("31/10/2026", kShanghai).error().find("unknown format") != std::string::npos);
  CHECK(!parse_expiry("20261399", kShanghai));
  CHECK(!parse_expiry("2026-10-31T25:00:00Z", kShanghai));
  CHECK(!parse_expiry("123", kShanghai));
}

TEST_CASE("the expiry text is found by JSON pointer, regex or as the whole content", "[licence]") {
  const std::string json = R"({"license":{"holder":"某局","expire":"2026-10-31","ts":1793462400}})";
  CHECK(*extract_expiry_text(json, "/license/expire", std::nullopt, "") == "2026-10-31");
  CHECK(*extract_expiry_text(json, "/license/ts", std::nullopt, "") == "1793462400");
  CHECK(extract_expiry_text(json, "/license/nope", std::nullopt, "").error() ==
        "/license/nope is missing");
  CHECK(!extract_expiry_text("not json", "/a", std::nullopt, ""));
  const std::string ini = "product=evidence\nvalid_until = 2026年10月31日\n";
  const std::regex re(R"(valid_until\s*=\s*(\S+))");
  CHECK(*extract_expiry_text(ini, "", re, "") == "2026年10月31日");
  CHECK(!extract_expiry_text("nothing", "", re, "x"));
  CHECK(*extract_expiry_text("  20261031\n", "", std::nullopt, "") == "20261031");
}

TEST_CASE("a licence file in each format gives days left against 30 and 7 day thresholds",
          "[licence]") {
  struct Case {
    std::string content;
    std::string extra;
    Status want;
  };
  const std::vector<Case> cases = {
      {day_from_now(100), "", Status::kOk},
      {day_from_now(20, "%Y/%m/%d"), "", Status::kWarning},
      {day_from_now(5, "%Y%m%d"), "", Status::kCritical},
      {"有效期至：" + day_from_now(60, "%Y年%m月%d日"), "regex: '有效期至：(\\S+)'\n", Status::kOk},
      {std::to_string(std::time(nullptr) + 10 * 86400), "", Status::kWarning},
      {"{\"expire\": \"" + day_from_now(3, "%Y-%m-%dT12:00:00+08:00") + "\"}",
       "json_pointer: /expire\n", Status::kCritical},
      {day_from_now(-2), "", Status::kCritical},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto path = write("lic" + std::to_string(i), cases[i].content);
    Result r = run_yaml("kind: licence\nfile: " + path + "\n" + cases[i].extra);
    INFO(cases[i].content << " -> " << r.summary);
    CHECK(r.status == cases[i].want);
    REQUIRE(!r.metrics.empty());
  }
  Result expired = run_yaml(
      "kind: licence\nproduct: 区块链平台\nfile: " + write("old", day_from_now(-2)) + "\n");
  CHECK(expired.summary.find("licence 区块链平台: expired 2 days ago (valid until " +
                             day_from_now(-2) + ")") != std::string::npos);
  CHECK(expired.metrics[0].value < -1);
}

TEST_CASE("a licence file renewed between runs is picked up on the next run", "[licence]") {
  const auto path = write("renewed.json", "{\"expire\": \"" + day_from_now(3) + "\"}");
  auto def = load_check(YAML::Load("kind: licence\nfile: " + path + "\njson_pointer: /expire\n"),
                        "t.yaml", "checks[0]", CheckEnv{});
  RunContext ctx(5s);
  Result before = run_guarded(*def.check, ctx);
  CHECK(before.status == Status::kCritical);
  write("renewed.json", "{\"expire\": \"" + day_from_now(365) + "\"}");
  Result after = run_guarded(*def.check, ctx);
  INFO(after.summary);
  CHECK(after.status == Status::kOk);
  CHECK(after.metrics[0].value > 360);
}

TEST_CASE("a missing or unreadable licence is critical and says why", "[licence]") {
  Result missing = run_yaml("kind: licence\nfile: " + (dir() / "none").string() + "\n");
  CHECK(missing.status == Status::kCritical);
  CHECK(missing.summary.find("cannot open") != std::string::npos);
  Result garbage = run_yaml("kind: licence\nfile: " + write("garbage", "hello") + "\n");
  CHECK(garbage.status == Status::kCritical);
  CHECK(garbage.summary.find("'hello' is not a date") != std::string::npos);
}

TEST_CASE("a licence command's output is read when exec_allow allows the command", "[licence]") {
  CheckEnv env;
  env.exec_allow = {"/bin/echo"};
  Result r = run_yaml("kind: licence\ncommand: [/bin/echo, 'Expires: " + day_from_now(15) +
                          "']\nregex: 'Expires: (\\S+)'\n",
                      env);
  INFO(r.summary);
  CHECK(r.status == Status::kWarning);
  CHECK(r.details["source"] == "/bin/echo");
  CHECK_THROWS_WITH(run_yaml("kind: licence\ncommand: [/bin/cat, /etc/hostname]\n", env),
                    Catch::Contains("not in agent.exec_allow"));
  env.exec_allow = {"/bin/false"};
  Result failing = run_yaml("kind: licence\ncommand: [/bin/false]\n", env);
  CHECK(failing.status == Status::kCritical);
  CHECK(failing.summary.find("failed (exit 1)") != std::string::npos);
}

TEST_CASE("licence config errors name the key", "[licence]") {
  CHECK_THROWS_WITH(run_yaml("kind: licence\n"),
                    Catch::Contains("exactly one of file and command"));
  CHECK_THROWS_WITH(run_yaml("kind: licence\nfile: /x\nutc_offset: CST\n"),
                    Catch::Contains("utc_offset"));
  CHECK_THROWS_WITH(run_yaml("kind: licence\nfile: /x\njson_pointer: /a\nregex: x\n"),
                    Catch::Contains("not both"));
}
