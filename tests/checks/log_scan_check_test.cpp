// log_scan against real files in a temp dir: appends, restarts, rotation, truncation.
#include "xj/checks/log_scan_check.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "xj/checks/registry.hpp"

using namespace xj;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A log file and a state dir of their own, under the build dir.
struct LogFixture {
  explicit LogFixture(const std::string& name)
      : dir(fs::path(XJ_BINARY_DIR) / "test-tmp" / "log_scan" / name),
        log(dir / "app.log"),
        state(dir / "state") {
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(log).flush();
  }

  void append(const std::string& text) const {
    std::ofstream out(log, std::ios::app | std::ios::binary);
    out << text;
  }

  // A new check object each time, as after an agent restart.
  std::unique_ptr<Check> make(const std::string& extra = "") const {
    std::string yaml = "kind: log_scan\npath: " + log.string() + "\npattern: ERROR\n" + extra;
    return load_check(YAML::Load(yaml), "t.yaml", "checks[0]", CheckEnv{state, {}}).check;
  }

  fs::path state_file() const {
    return state / "log_scan" / log_state_file_name("log_scan:" + log.string());
  }

  fs::path dir, log, state;
};

Result run(Check& c) { return run_guarded(c, RunContext(10s)); }

double metric(const Result& r, const std::string& name) {
  for (const auto& m : r.metrics) {
    if (m.name == name) return m.value;
  }
  FAIL("no metric " << name);
  return -1;
}

std::string lines(const std::string& word, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += word + " line " + std::to_string(i) + "\n";
  return out;
}

}  // namespace

TEST_CASE("the first run starts at the end of the log and ignores its history", "[log_scan]") {
  LogFixture f("first_run");
  f.append(lines("ERROR old", 3));
  auto check = f.make();
  Result first = run(*check);
  CHECK(first.status == Status::kOk);
  CHECK(metric(first, "matches") == 0);
  CHECK(first.summary.find("earlier lines are not scanned") != std::string::npos);
  f.append("ERROR new\nINFO fine\n");
  Result second = run(*check);
  CHECK(metric(second, "matches") == 1);
  CHECK(metric(second, "lines_read") == 2);
  CHECK(metric(second, "bytes_read") == 20);
  CHECK(second.status == Status::kWarning);
  CHECK(second.details["samples"] == nlohmann::json::array({"ERROR new"}));
}

TEST_CASE("from_start true counts the lines already in the log on the first run", "[log_scan]") {
  LogFixture f("from_start");
  f.append(lines("ERROR old", 3) + lines("INFO old", 2));
  Result r = run(*f.make("from_start: true\n"));
  CHECK(metric(r, "matches") == 3);
  CHECK(metric(r, "lines_read") == 5);
  CHECK(r.details["reason"] == "first_run");
}

TEST_CASE("each appended line is counted once over successive runs", "[log_scan]") {
  LogFixture f("appends");
  auto check = f.make();
  run(*check);
  f.append("ERROR a\nINFO b\nERROR c\nINFO d\nINFO e\n");
  CHECK(metric(run(*check), "matches") == 2);
  Result idle = run(*check);
  CHECK(metric(idle, "matches") == 0);
  CHECK(metric(idle, "lines_read") == 0);
  CHECK(idle.status == Status::kOk);
  f.append("INFO f\nERROR g\n");
  Result third = run(*check);
  CHECK(metric(third, "matches") == 1);
  CHECK(third.details["samples"][0] == "ERROR g");
  CHECK(third.details["reason"] == "continued");
}

TEST_CASE("a restarted agent continues from the saved offset without double counting",
          "[log_scan]") {
  LogFixture f("restart");
  {
    auto before = f.make();
    run(*before);
    f.append("ERROR one\nERROR two\n");
    CHECK(metric(run(*before), "matches") == 2);
  }
  REQUIRE(fs::exists(f.state_file()));
  std::ifstream in(f.state_file());
  auto saved = nlohmann::json::parse(in);
  CHECK(saved["offset"] == 20);
  CHECK(saved["path"] == f.log.string());
  CHECK_FALSE(fs::exists(f.state_file().string() + ".tmp"));

  f.append("ERROR three\n");
  auto after = f.make();  // a new object: knows only the state file
  Result r = run(*after);
  CHECK(metric(r, "matches") == 1);
  CHECK(r.details["samples"] == nlohmann::json::array({"ERROR three"}));
  CHECK(r.details["from_offset"] == 20);
}

TEST_CASE("the state file is rewritten only when the position moves", "[log_scan]") {
  // write_atomically renames a new file over the old one: a new inode means a rewrite.
  LogFixture f("quiet");
  auto check = f.make();
  run(*check);
  auto inode = [&] {
    struct stat st {};
    REQUIRE(::stat(f.state_file().c_str(), &st) == 0);
    return st.st_ino;
  };
  const auto first = inode();
  Result idle = run(*check);
  CHECK(idle.details["state_file"] == f.state_file().string());
  CHECK(inode() == first);  // nothing new: the file stays as it was
  f.append("ERROR moved\n");
  CHECK(metric(run(*check), "matches") == 1);
  const auto moved = inode();
  CHECK(moved != first);
  {
    std::ifstream in(f.state_file());
    CHECK(nlohmann::json::parse(in)["offset"] == 12);
  }
  // A state file removed behind the check's back is written again once the log moves.
  fs::remove(f.state_file());
  run(*check);
  CHECK_FALSE(fs::exists(f.state_file()));
  f.append("INFO next\n");
  run(*check);
  REQUIRE(fs::exists(f.state_file()));
  std::ifstream in(f.state_file());
  CHECK(nlohmann::json::parse(in)["offset"] == 22);
}

TEST_CASE("the run context's state dir is preferred over the config's", "[log_scan]") {
  LogFixture f("ctx_state");
  auto check = f.make();
  const fs::path other = f.dir / "ctx-state";
  run_guarded(*check, RunContext(10s, other));
  CHECK(fs::exists(other / "log_scan" / f.state_file().filename()));
  CHECK_FALSE(fs::exists(f.state_file()));
}

TEST_CASE("rotation by rename reads the old file's unread end, then the new file from 0",
          "[log_scan]") {
  LogFixture f("rename");
  auto check = f.make();
  run(*check);
  f.append("ERROR before\n");
  CHECK(metric(run(*check), "matches") == 1);
  f.append("ERROR late in old file\n");  // written after our last run, before rotation
  fs::rename(f.log, f.dir / "app.log.1");
  f.append("ERROR new 1\nINFO new\nERROR new 2\n");  // creates a new app.log

  Result r = run(*check);
  CHECK(r.details["reason"] == "rotated");
  CHECK(metric(r, "matches") == 3);
  CHECK(metric(r, "lines_read") == 4);
  CHECK(r.details["rotated"]["path"] == (f.dir / "app.log.1").string());
  CHECK(r.details["samples"] ==
        nlohmann::json::array({"ERROR late in old file", "ERROR new 1", "ERROR new 2"}));

  f.append("ERROR new 3\n");
  Result next = run(*f.make());  // and a restart right after still counts just the new line
  CHECK(metric(next, "matches") == 1);
  CHECK(next.details["reason"] == "continued");
}

TEST_CASE("rotation to a dated name is found by inode", "[log_scan]") {
  LogFixture f("dated");
  auto check = f.make();
  run(*check);
  f.append("ERROR unread\n");
  fs::rename(f.log, f.dir / "app.log-20261121");
  f.append("INFO new\n");
  Result r = run(*check);
  CHECK(metric(r, "matches") == 1);
  CHECK(r.details["rotated"]["path"] == (f.dir / "app.log-20261121").string());
}

TEST_CASE("a rotated file that is gone is reported and the new file is read from 0", "[log_scan]") {
  LogFixture f("rotated_gone");
  auto check = f.make();
  run(*check);
  f.append("ERROR lost\n");
  fs::remove(f.log);
  f.append("ERROR fresh\n");
  Result r = run(*check);
  // A deleted file's inode may be reused by the new one; either way the new file is read whole.
  CHECK(metric(r, "matches") == 1);
  CHECK(r.details["samples"] == nlohmann::json::array({"ERROR fresh"}));
}

TEST_CASE("copytruncate is detected even when the log regrows past the old offset", "[log_scan]") {
  LogFixture f("copytruncate");
  auto check = f.make();
  run(*check);
  f.append("2026-11-21 10:00 ERROR first\n");
  CHECK(metric(run(*check), "matches") == 1);
  fs::copy_file(f.log, f.dir / "app.log.1");
  fs::resize_file(f.log, 0);
  f.append(
      "2026-11-21 10:05 INFO after truncate, longer than before\n2026-11-21 10:06 ERROR second\n");
  Result r = run(*check);
  CHECK(r.details["reason"] == "replaced");
  CHECK(metric(r, "matches") == 1);
  CHECK(metric(r, "lines_read") == 2);
  CHECK(r.details["from_offset"] == 0);
}

TEST_CASE("a log truncated below the saved offset is read again from 0", "[log_scan]") {
  LogFixture f("truncate");
  auto check = f.make();
  run(*check);
  f.append(lines("INFO filler", 20));
  run(*check);
  fs::resize_file(f.log, 0);
  f.append("ERROR after\n");
  Result r = run(*check);
  CHECK(r.details["reason"] == "truncated");
  CHECK(metric(r, "matches") == 1);
}

TEST_CASE("a partial last line is counted once, when it is complete", "[log_scan]") {
  LogFixture f("partial");
  auto check = f.make();
  run(*check);
  f.append("INFO whole\nERROR half-wri");
  Result r1 = run(*check);
  CHECK(metric(r1, "matches") == 0);
  CHECK(metric(r1, "lines_read") == 1);
  f.append("tten\n");
  Result r2 = run(*check);
  CHECK(metric(r2, "matches") == 1);
  CHECK(r2.details["samples"][0] == "ERROR half-written");
  CHECK(metric(run(*check), "matches") == 0);
}

TEST_CASE("a first run skipping history still reads a line being written whole", "[log_scan]") {
  LogFixture f("first_partial");
  f.append("ERROR old\nERROR being wri");
  auto check = f.make();
  run(*check);
  f.append("tten\n");
  Result r = run(*check);
  CHECK(metric(r, "matches") == 1);
  CHECK(r.details["samples"][0] == "ERROR being written");
}

TEST_CASE("samples in the details are capped at the configured number", "[log_scan]") {
  LogFixture f("samples");
  auto check = f.make("samples: 3\n");
  run(*check);
  f.append(lines("ERROR", 10));
  Result r = run(*check);
  CHECK(metric(r, "matches") == 10);
  CHECK(r.details["samples"].size() == 3);
  CHECK(r.details["samples"][2] == "ERROR line 2");
}

TEST_CASE("warn and crit count matching lines: at least that many", "[log_scan]") {
  LogFixture f("thresholds");
  auto check = f.make("warn: 2\ncrit: 5\n");
  run(*check);
  f.append(lines("ERROR", 1));
  CHECK(run(*check).status == Status::kOk);
  f.append(lines("ERROR", 4));
  Result warn = run(*check);
  CHECK(warn.status == Status::kWarning);
  CHECK(warn.metrics[0].warn->str() == "~:1");
  f.append(lines("ERROR", 5));
  CHECK(run(*check).status == Status::kCritical);
  auto never = f.make("warn: 0\n");
  f.append(lines("ERROR", 3));
  Result quiet = run(*never);
  CHECK(metric(quiet, "matches") == 3);
  CHECK(quiet.status == Status::kOk);
}

TEST_CASE("a missing log file is unknown, naming the path", "[log_scan]") {
  LogFixture f("missing");
  fs::remove(f.log);
  Result r = run(*f.make());
  CHECK(r.status == Status::kUnknown);
  CHECK(r.summary == "cannot open " + f.log.string() + ": No such file or directory");
  CHECK_FALSE(fs::exists(f.state_file()));
}

TEST_CASE("max_read caps one run and later runs catch up without losing or repeating",
          "[log_scan]") {
  LogFixture f("cap");
  auto check = f.make("max_read: 64KB\n");
  run(*check);
  const std::string text = lines("ERROR padding padding padding padding", 5000);  // ~240 KB
  f.append(text);
  Result first = run(*check);
  CHECK(metric(first, "bytes_read") <= 64 * 1024);
  CHECK(first.details.contains("capped"));
  CHECK(first.summary.find("left for the next run") != std::string::npos);
  double total = metric(first, "matches");
  for (int i = 0; i < 10 && total < 5000; ++i) total += metric(run(*check), "matches");
  CHECK(total == 5000);
  Result done = run(*check);
  CHECK(metric(done, "matches") == 0);
  CHECK_FALSE(done.details.contains("capped"));
}

TEST_CASE("a capped run inside a rotated file finishes it before the new file", "[log_scan]") {
  LogFixture f("cap_rotated");
  auto check = f.make("max_read: 64KB\n");
  run(*check);
  f.append(lines("ERROR old", 6000));  // ~100 KB
  fs::rename(f.log, f.dir / "app.log.1");
  f.append(lines("ERROR new", 10));
  double total = 0;
  for (int i = 0; i < 5; ++i) total += metric(run(*check), "matches");
  CHECK(total == 6010);
}

TEST_CASE("a line longer than 64 KiB does not stall the scan", "[log_scan]") {
  LogFixture f("long_line");
  auto check = f.make();
  run(*check);
  f.append(std::string(200 * 1024, 'x') + "\nERROR after\n");
  double total = 0;
  for (int i = 0; i < 3; ++i) total += metric(run(*check), "matches");
  CHECK(total == 1);
}

TEST_CASE("a corrupt state file is ignored: the scan starts again at the end", "[log_scan]") {
  LogFixture f("corrupt");
  fs::create_directories(f.state_file().parent_path());
  std::ofstream(f.state_file()) << "{not json";
  f.append("ERROR history\n");
  Result r = run(*f.make());
  CHECK(metric(r, "matches") == 0);
  CHECK(r.details["state_ignored"].get<std::string>().find(f.state_file().string()) == 0);
}

TEST_CASE("an unwritable state dir is reported but the scan result still counts", "[log_scan]") {
  LogFixture f("bad_state");
  std::ofstream(f.state) << "a file where the state dir should be";
  auto check = f.make("from_start: true\n");
  f.append("ERROR x\n");
  Result r = run(*check);
  CHECK(metric(r, "matches") == 1);
  CHECK(r.summary.find("position not saved: cannot create " + (f.state / "log_scan").string()) !=
        std::string::npos);
  f.append("INFO y\n");
  CHECK(metric(run(*check), "matches") == 0);  // the process still remembers where it was
}

TEST_CASE("log_scan config errors name the key", "[log_scan]") {
  auto load = [](const std::string& extra) {
    return load_check(YAML::Load("kind: log_scan\npath: /var/log/x\n" + extra), "t.yaml",
                      "checks[0]", CheckEnv{});
  };
  CHECK_THROWS_WITH(load(""), Catch::Contains("missing required key 'pattern'"));
  CHECK_THROWS_WITH(load("pattern: 'a('\n"), Catch::Contains("pattern"));
  CHECK_THROWS_WITH(load("pattern: x\nmax_read: 1KB\n"),
                    Catch::Contains("key 'max_read': must be at least 64KB"));
  CHECK_THROWS_WITH(load("pattern: x\nwarn: -1\n"), Catch::Contains("key 'warn'"));
  CHECK(load("pattern: x\n").check->id() == "log_scan:/var/log/x");
}
