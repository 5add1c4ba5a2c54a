#include "xj/checks/file_age_check.hpp"

#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "xj/checks/registry.hpp"

using namespace xj;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::system_clock;

// 2026-11-21T12:00:00Z
const Clock::time_point kNow = Clock::time_point(std::chrono::seconds(1'795'262'400));

FileInfo file(std::string path, std::chrono::seconds age, std::uint64_t size) {
  return FileInfo{std::move(path), kNow - age, size};
}

FileAgeRules default_rules() {
  return FileAgeRules{std::nullopt, Range::above(26 * 3600), std::nullopt, std::nullopt};
}

const Metric* metric(const Result& r, const std::string& name) {
  for (const auto& m : r.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

// A fresh directory under the build dir for one test.
fs::path temp_dir(const std::string& name) {
  fs::path dir = fs::path(XJ_BINARY_DIR) / "test-tmp" / "file_age" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Writes `size` bytes and sets the modification time to `age` ago (real wall clock).
void make_backup(const fs::path& p, std::chrono::seconds age, std::size_t size) {
  std::ofstream(p, std::ios::binary) << std::string(size, 'x');
  const auto when = Clock::now() - age;
  const auto secs =
      std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
  struct timeval tv[2] = {{secs, 0}, {secs, 0}};
  REQUIRE(::utimes(p.c_str(), tv) == 0);
}

Result run_config(const std::string& yaml) {
  auto def = load_check(YAML::Load(yaml), "t.yaml", "checks[0]", CheckEnv{});
  return run_guarded(*def.check, RunContext(5s));
}

}  // namespace

TEST_CASE("the newest of several files by mtime is the one evaluated", "[file_age]") {
  std::vector<FileInfo> files = {file("/b/db-19.dump", 50h, 100),
                                 file("/b/db-21.dump", 3h + 12min, 1288490189),
                                 file("/b/db-20.dump", 27h, 100)};
  Result r = evaluate_file_age("/b/*.dump", files, kNow, default_rules());
  CHECK(r.status == Status::kOk);
  CHECK(r.summary == "newest /b/db-21.dump is 3h12m old, 1.2 GiB");
  CHECK(r.details["newest"]["path"] == "/b/db-21.dump");
  CHECK(r.details["newest"]["mtime"] == "2026-11-21T08:48:00Z");
  CHECK(metric(r, "age_s")->value == 3 * 3600 + 12 * 60);
  CHECK(metric(r, "size_bytes")->value == 1288490189);
  CHECK(metric(r, "count")->value == 3);
  REQUIRE(r.details["newest_files"].size() == 3);
  CHECK(r.details["newest_files"][1]["path"] == "/b/db-20.dump");
  CHECK(r.details["newest_files"][2]["path"] == "/b/db-19.dump");
}

TEST_CASE("no matching file is critical and says which pattern found nothing", "[file_age]") {
  Result r = evaluate_file_age("/backup/*.dump", {}, kNow, default_rules());
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary == "no file matches /backup/*.dump");
  CHECK(metric(r, "count")->value == 0);
  CHECK(metric(r, "age_s") == nullptr);
}

TEST_CASE("a newest file older than max_age is critical and the summary says so", "[file_age]") {
  Result r = evaluate_file_age("/b/*", {file("/b/x", 30h, 10)}, kNow, default_rules());
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary == "newest /b/x is 30h old, 10 B; older than max_age 26h");
  CHECK(metric(r, "age_s")->crit->str() == "~:93600");
}

TEST_CASE("warn_age makes an ageing backup a warning before max_age is reached", "[file_age]") {
  FileAgeRules rules = default_rules();
  rules.warn_age = Range::above(20 * 3600);
  CHECK(evaluate_file_age("/b/*", {file("/b/x", 21h, 10)}, kNow, rules).status == Status::kWarning);
  CHECK(evaluate_file_age("/b/*", {file("/b/x", 19h, 10)}, kNow, rules).status == Status::kOk);
  CHECK(evaluate_file_age("/b/*", {file("/b/x", 27h, 10)}, kNow, rules).status ==
        Status::kCritical);
}

TEST_CASE("a newest file smaller than min_size is critical even when fresh", "[file_age]") {
  FileAgeRules rules = default_rules();
  rules.min_size = Range::below(1024 * 1024);
  // An older big backup does not make up for a truncated new one.
  Result r = evaluate_file_age("/b/*", {file("/b/new", 1h, 512), file("/b/old", 25h, 5'000'000)},
                               kNow, rules);
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary == "newest /b/new is 1h old, 512 B; smaller than min_size 1.0 MiB");
}

TEST_CASE("fewer files than min_count is critical", "[file_age]") {
  FileAgeRules rules = default_rules();
  rules.min_count = Range::below(3);
  Result two = evaluate_file_age("/b/*", {file("/b/a", 1h, 1), file("/b/b", 2h, 1)}, kNow, rules);
  CHECK(two.status == Status::kCritical);
  CHECK(two.summary.find("2 matching files, fewer than min_count 3") != std::string::npos);
  Result three = evaluate_file_age(
      "/b/*", {file("/b/a", 1h, 1), file("/b/b", 2h, 1), file("/b/c", 3h, 1)}, kNow, rules);
  CHECK(three.status == Status::kOk);
}

TEST_CASE("details list only the five newest files", "[file_age]") {
  std::vector<FileInfo> files;
  for (int i = 0; i < 8; ++i)
    files.push_back(file("/b/" + std::to_string(i), std::chrono::hours(i + 1), 1));
  Result r = evaluate_file_age("/b/*", files, kNow, default_rules());
  REQUIRE(r.details["newest_files"].size() == 5);
  CHECK(r.details["newest_files"][4]["path"] == "/b/4");
  CHECK(r.details["count"] == 8);
}

TEST_CASE("a file dated in the future counts as brand new, flagged in the details", "[file_age]") {
  Result r = evaluate_file_age("/b/*", {file("/b/x", -2h, 1)}, kNow, default_rules());
  CHECK(r.status == Status::kOk);
  CHECK(metric(r, "age_s")->value == 0);
  CHECK(r.details["newest"]["mtime_in_future"] == true);
}

TEST_CASE("ages are printed with the precision a person needs", "[file_age]") {
  CHECK(format_age(42s) == "42s");
  CHECK(format_age(12min + 5s) == "12m5s");
  CHECK(format_age(3h + 12min + 59s) == "3h12m");
  CHECK(format_age(30h + 40min) == "30h40m");
  CHECK(format_age(26h) == "26h");
  CHECK(format_age(50h + 30min) == "2d2h");
  CHECK(format_age(-5s) == "0s");
  CHECK(iso8601_utc(kNow) == "2026-11-21T12:00:00Z");
}

TEST_CASE("a real backup written 30 hours ago makes the check critical", "[file_age]") {
  fs::path dir = temp_dir("old");
  make_backup(dir / "db-1.dump", 30h, 2048);
  Result r = run_config("kind: file_age\npath: " + (dir / "*.dump").string() + "\n");
  CHECK(r.check == "file_age:" + (dir / "*.dump").string());
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.find("older than max_age 26h") != std::string::npos);
  CHECK(metric(r, "age_s")->value == Approx(30 * 3600).margin(5));
}

TEST_CASE("a real backup written an hour ago is ok", "[file_age]") {
  fs::path dir = temp_dir("fresh");
  make_backup(dir / "db-1.dump", 1h, 2048);
  Result r = run_config("kind: file_age\npath: " + (dir / "*.dump").string() + "\nmin_size: 1KB\n");
  CHECK(r.status == Status::kOk);
  CHECK(r.summary == "newest " + (dir / "db-1.dump").string() + " is 1h old, 2.0 KiB");
}

TEST_CASE("a real fresh backup below min_size makes the check critical", "[file_age]") {
  fs::path dir = temp_dir("small");
  make_backup(dir / "db-1.dump", 1h, 100);
  Result r = run_config("kind: file_age\npath: " + (dir / "*.dump").string() + "\nmin_size: 1MB\n");
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.find("smaller than min_size 1.0 MiB") != std::string::npos);
}

TEST_CASE("a real directory without any matching file makes the check critical", "[file_age]") {
  fs::path dir = temp_dir("none");
  make_backup(dir / "db-1.log", 1h, 100);  // wrong suffix: not a match
  fs::create_directory(dir / "dir.dump");  // a directory is never a backup
  Result r = run_config("kind: file_age\npath: " + (dir / "*.dump").string() + "\n");
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary == "no file matches " + (dir / "*.dump").string());
}

TEST_CASE("a missing backup directory is critical and names the directory", "[file_age]") {
  fs::path dir = temp_dir("gone") / "missing";
  Result r = run_config("kind: file_age\npath: " + (dir / "*.dump").string() + "\n");
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary == "no file matches " + (dir / "*.dump").string() + " (" + dir.string() +
                         ": No such file or directory)");
}

TEST_CASE("the newest of several real backups is picked by mtime, not by name", "[file_age]") {
  fs::path dir = temp_dir("several");
  make_backup(dir / "db-c.dump", 40h, 10);
  make_backup(dir / "db-a.dump", 2h, 20);
  make_backup(dir / "db-b.dump", 30h, 30);
  Result r = run_config("kind: file_age\npath: " + (dir / "db-{a,b,c}.dump").string() + "\n");
  CHECK(r.status == Status::kOk);
  CHECK(r.details["newest"]["path"] == (dir / "db-a.dump").string());
  CHECK(metric(r, "size_bytes")->value == 20);
  CHECK(metric(r, "count")->value == 3);
}

TEST_CASE("a directory that cannot be read makes the check unknown, not critical", "[file_age]") {
  fs::path dir = temp_dir("loop");
  fs::create_directory_symlink(dir / "loop", dir / "loop");  // opendir fails with ELOOP
  Result r = run_config("kind: file_age\npath: " + (dir / "loop" / "*.dump").string() + "\n");
  CHECK(r.status == Status::kUnknown);
  CHECK(r.summary.find((dir / "loop").string()) != std::string::npos);
  CHECK(r.summary.find("Too many levels of symbolic links") != std::string::npos);
}

TEST_CASE("a file_age check without path is rejected naming the key", "[file_age]") {
  CHECK_THROWS_WITH(load_check(YAML::Load("kind: file_age\n"), "t.yaml", "checks[0]", CheckEnv{}),
                    Catch::Contains("missing required key 'path'"));
  CHECK_THROWS_WITH(load_check(YAML::Load("kind: file_age\npath: /b/*\nmax_age: soon\n"), "t.yaml",
                               "checks[0]", CheckEnv{}),
                    Catch::Contains("max_age"));
}
