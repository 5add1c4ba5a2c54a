#include "xj/checks/process_check.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <regex>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "xj/checks/registry.hpp"
#include "xj/common/config_error.hpp"

using namespace xj;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(XJ_SOURCE_DIR) + "/tests/fixtures/process/" + name);
  REQUIRE(in);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::unique_ptr<Check> make_check(const std::string& yaml) {
  return load_check(YAML::Load(yaml), "agent.yaml", "checks[0]", CheckEnv{}).check;
}

Result run(Check& c) { return run_guarded(c, RunContext(std::chrono::seconds(5))); }

const Metric* metric(const Result& r, const std::string& name) {
  for (const auto& m : r.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

// A marker no other process on the machine has in its command line.
std::string unique_marker() {
  std::random_device rd;
  return "xj-proc-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000);
}

// A real child process: `sleep 300` (or a shell loop) whose argv[0] is the marker, so a cmdline
// regex finds exactly it. Killed and reaped on destruction.
class Child {
 public:
  // busy: a shell spinning on one core instead of sleep; extra_fds: /dev/null opened this many
  // times beyond 0, 1 and 2.
  Child(const std::string& marker, bool busy = false, int extra_fds = 0) {
    int gate[2];
    REQUIRE(::pipe2(gate, O_CLOEXEC) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      int null_fd = ::open("/dev/null", O_RDWR);
      for (int fd = 0; fd < 3; ++fd) ::dup2(null_fd, fd);
      for (int fd = 3; fd < 1024; ++fd) {
        if (fd != gate[1]) ::close(fd);
      }
      for (int i = 0; i < extra_fds; ++i) (void)::open("/dev/null", O_RDONLY);
      if (busy) {
        ::execlp("sh", marker.c_str(), "-c", "while :; do :; done", static_cast<char*>(nullptr));
      } else {
        ::execlp("sleep", marker.c_str(), "300", static_cast<char*>(nullptr));
      }
      char e = 1;
      (void)::write(gate[1], &e, 1);
      ::_exit(127);
    }
    ::close(gate[1]);
    char e = 0;
    ssize_t n = ::read(gate[0], &e, 1);
    ::close(gate[0]);
    REQUIRE(n == 0);  // closed by a successful exec
    // The exec pipe closes before the kernel renames the task and maps the new program.
    const std::string comm = busy ? "sh" : "sleep";
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < until) {
      std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
      std::string line;
      std::getline(stat, line);
      std::ifstream cmd("/proc/" + std::to_string(pid_) + "/cmdline");
      std::string args((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
      if (line.find("(" + comm + ")") != std::string::npos && args.find(marker) == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const int pid = pid_;
    stop();
    FAIL("child " << pid << " did not finish exec");
  }
  ~Child() { stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  int pid() const { return pid_; }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  int pid_ = -1;
};

std::string proc_stat_line(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  return line;
}

std::string current_user() {
  struct passwd* pw = ::getpwuid(::geteuid());
  return pw != nullptr ? pw->pw_name : std::to_string(::geteuid());
}

}  // namespace

TEST_CASE("a stat line whose comm holds spaces and parentheses parses from the last ')'",
          "[process]") {
  auto st = parse_proc_stat(fixture("stat_comm_with_parens.txt"));
  REQUIRE(st.ok());
  CHECK(st->pid == 4242);
  CHECK(st->comm == "a) b (c)");
  CHECK(st->state == 'R');
  CHECK(st->ppid == 1);
  CHECK(st->utime_ticks == 150);
  CHECK(st->stime_ticks == 25);
  CHECK(st->start_ticks == 987654);
}

TEST_CASE("stat lines of a sleeping process and of a kernel thread parse", "[process]") {
  auto st = parse_proc_stat(fixture("stat_sleep.txt"));
  REQUIRE(st.ok());
  CHECK(st->pid == 12214);
  CHECK(st->comm == "sleep");
  CHECK(st->state == 'S');
  CHECK(st->ppid == 12211);
  CHECK(st->start_ticks == 56336);
  auto kt = parse_proc_stat(fixture("stat_kthread.txt"));
  REQUIRE(kt.ok());
  CHECK(kt->comm == "kthreadd");
  CHECK(kt->stime_ticks == 3);
  CHECK(kt->start_ticks == 1);
}

TEST_CASE("truncated or garbled stat text is an error, not a guess", "[process]") {
  auto t = parse_proc_stat(fixture("stat_truncated.txt"));
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().find("too few fields") != std::string::npos);
  CHECK_FALSE(parse_proc_stat("").ok());
  CHECK_FALSE(parse_proc_stat("12 no parentheses S 1").ok());
  CHECK_FALSE(parse_proc_stat("x (a) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5").ok());
  CHECK_FALSE(parse_proc_stat("7 (a) S 1 1 1 0 -1 0 0 0 0 0 ten 1 0 0 20 0 1 0 5").ok());
}

TEST_CASE("status gives the real and effective uid and VmRSS in bytes", "[process]") {
  auto s = parse_proc_status(fixture("status_sleep.txt"));
  REQUIRE(s.ok());
  CHECK(s->effective_uid == 0);
  REQUIRE(s->rss_bytes.has_value());
  CHECK(*s->rss_bytes == 1780u * 1024u);
  auto pg = parse_proc_status(fixture("status_setuid_postgres.txt"));
  REQUIRE(pg.ok());
  CHECK(pg->real_uid == 0);
  CHECK(pg->effective_uid == 110);
  CHECK(*pg->rss_bytes == 29284u * 1024u);
}

TEST_CASE("a kernel thread's status has no rss, and bad status text is an error", "[process]") {
  auto kt = parse_proc_status(fixture("status_kthread.txt"));
  REQUIRE(kt.ok());
  CHECK_FALSE(kt->rss_bytes.has_value());
  auto bad = parse_proc_status(fixture("status_bad_vmrss.txt"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().find("VmRSS") != std::string::npos);
  CHECK_FALSE(parse_proc_status("Name:\tx\nVmRSS:\t12 kB\n").ok());  // no Uid line
}

TEST_CASE("boot time is read from the btime line of /proc/stat", "[process]") {
  auto bt = parse_boot_time(fixture("proc_stat_2core.txt"));
  REQUIRE(bt.ok());
  CHECK(*bt == 1795354003);
  CHECK_FALSE(parse_boot_time("cpu  1 2 3 4\nintr 5\n").ok());
  CHECK_FALSE(parse_boot_time("btime soon\n").ok());
}

TEST_CASE("cmdline arguments separated by NUL are joined with spaces", "[process]") {
  using namespace std::string_literals;
  CHECK(join_cmdline("postgres\0-D\0/var/lib/pg\0"s) == "postgres -D /var/lib/pg");
  CHECK(join_cmdline("a\0\0b\0"s) == "a  b");
  CHECK(join_cmdline("nginx: worker process") == "nginx: worker process");  // rewritten argv
  CHECK(join_cmdline("").empty());                                          // kernel threads
}

TEST_CASE("a pidfile holds one pid, whitespace allowed, anything else is an error", "[process]") {
  CHECK(*parse_pidfile("1234\n") == 1234);
  CHECK(*parse_pidfile("  77  ") == 77);
  CHECK(parse_pidfile("").error() == "is empty");
  CHECK_FALSE(parse_pidfile("12 34").ok());
  CHECK_FALSE(parse_pidfile("-5").ok());
  CHECK_FALSE(parse_pidfile("0").ok());
  CHECK_FALSE(parse_pidfile("pid=12").ok());
}

TEST_CASE("a pid gone and a new one present is a restart, but a pool that only grows is not",
          "[process]") {
  auto r = detect_restart({{100, 5}, {101, 6}}, {{101, 6}, {150, 90}});
  REQUIRE(r.has_value());
  CHECK(r->gone == std::vector<int>{100});
  CHECK(r->started == std::vector<int>{150});
  CHECK(r->restarts() == 1);
  CHECK_FALSE(detect_restart({{100, 5}}, {{100, 5}, {101, 9}}).has_value());
  CHECK_FALSE(detect_restart({{100, 5}, {101, 9}}, {{100, 5}}).has_value());
  CHECK_FALSE(detect_restart({}, {{100, 5}}).has_value());
  // The same pid with a new start time is a new process.
  auto reused = detect_restart({{100, 5}}, {{100, 777}});
  REQUIRE(reused.has_value());
  CHECK(reused->restarts() == 1);
}

TEST_CASE("a process check without a selector, or with max below min, is rejected", "[process]") {
  auto error = [](const std::string& yaml) -> std::string {
    try {
      make_check(yaml);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  CHECK(error("kind: process\nmin: 2\n").find("at least one of name, cmdline, user, pidfile") !=
        std::string::npos);
  CHECK(error("kind: process\nname: x\nmin: 2\nmax: 1\n").find("agent.yaml:4") == 0);
  CHECK(error("kind: process\ncmdline: 'a(b'\n").find("key 'cmdline'") != std::string::npos);
  CHECK(error("kind: process\nname: x\nmin: -1\n").find("key 'min'") != std::string::npos);
  CHECK(make_check("kind: process\nname: postgres\n")->id() == "process:postgres");
  CHECK(make_check("kind: process\npidfile: /run/a.pid\n")->id() == "process:/run/a.pid");
}

TEST_CASE("a running child process is found by its command line, with memory and uptime",
          "[process]") {
  std::string marker = unique_marker();
  Child child(marker);
  auto check = make_check("kind: process\ncmdline: '^" + marker + " 300$'\n");
  Result r = run(*check);
  INFO(r.summary);
  CHECK(r.status == Status::kOk);
  REQUIRE(metric(r, "count") != nullptr);
  CHECK(metric(r, "count")->value == 1);
  REQUIRE(metric(r, "rss_bytes") != nullptr);
  CHECK(metric(r, "rss_bytes")->value > 0);
  REQUIRE(metric(r, "uptime_s") != nullptr);
  CHECK(metric(r, "uptime_s")->value < 60);
  CHECK(metric(r, "cpu_pct") == nullptr);  // needs a previous run
  CHECK(r.summary.find("1 process matching cmdline~") == 0);
  CHECK(r.summary.find("(pid " + std::to_string(child.pid()) + ")") != std::string::npos);
  REQUIRE(r.details["matches"].size() == 1);
  CHECK(r.details["matches"][0]["pid"] == child.pid());
  CHECK(r.details["matches"][0]["name"] == "sleep");
  CHECK(r.details["matches"][0]["user"] == current_user());
  CHECK(r.details["matches"][0]["cmdline"] == marker + " 300");
}

TEST_CASE("a process that dies makes the check critical and its replacement is a restart",
          "[process]") {
  std::string marker = unique_marker();
  auto check = make_check("kind: process\nname: sleep\ncmdline: '^" + marker + "'\n");
  auto first = std::make_unique<Child>(marker);
  const int old_pid = first->pid();
  Result up = run(*check);
  CHECK(up.status == Status::kOk);
  CHECK(metric(up, "count")->value == 1);

  first->stop();
  Result down = run(*check);
  INFO(down.summary);
  CHECK(down.status == Status::kCritical);
  CHECK(down.summary == "no process matching name=sleep, cmdline~'^" + marker + "'");
  CHECK(metric(down, "count")->value == 0);
  REQUIRE(metric(down, "count")->crit.has_value());
  CHECK(metric(down, "count")->crit->str() == "1:");

  Child second(marker);
  Result back = run(*check);
  INFO(back.summary);
  CHECK(back.status == Status::kWarning);
  CHECK(back.summary.find("restarted: pid " + std::to_string(old_pid) + " -> " +
                          std::to_string(second.pid())) == 0);
  CHECK(metric(back, "restarts")->value == 1);
  CHECK(back.details["restart"]["old_pids"] == std::vector<int>{old_pid});
  CHECK(back.details["restart"]["new_pids"] == std::vector<int>{second.pid()});

  Result steady = run(*check);
  CHECK(steady.status == Status::kOk);  // the restart is reported once
  CHECK(metric(steady, "restarts")->value == 0);
}

TEST_CASE("more processes than max is critical, and name with user narrows the match",
          "[process]") {
  std::string marker = unique_marker();
  Child a(marker), b(marker);
  auto check = make_check("kind: process\nname: sleep\nuser: " + current_user() + "\ncmdline: '^" +
                          marker + "'\nmax: 1\n");
  Result r = run(*check);
  INFO(r.summary);
  CHECK(r.status == Status::kCritical);
  CHECK(metric(r, "count")->value == 2);
  CHECK(r.summary.find("2 processes matching") == 0);
  CHECK(r.summary.find("expected at most 1") != std::string::npos);
  auto other_user = make_check("kind: process\nuser: '" + std::to_string(::geteuid() + 4242) +
                               "'\ncmdline: '^" + marker + "'\n");
  CHECK(run(*other_user).status == Status::kCritical);
  auto other_name = make_check("kind: process\nname: sleepy\ncmdline: '^" + marker + "'\n");
  CHECK(run(*other_name).status == Status::kCritical);
}

TEST_CASE("cpu use is measured between runs: a busy loop uses CPU, a sleeper does not",
          "[process]") {
  std::string marker = unique_marker();
  Child busy(marker + "-busy", true);
  Child idle(marker + "-idle");
  auto busy_check = make_check("kind: process\ncmdline: '^" + marker + "-busy'\n");
  auto idle_check = make_check("kind: process\ncmdline: '^" + marker + "-idle'\n");
  CHECK(metric(run(*busy_check), "cpu_pct") == nullptr);
  CHECK(metric(run(*idle_check), "cpu_pct") == nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Result b = run(*busy_check);
  Result i = run(*idle_check);
  REQUIRE(metric(b, "cpu_pct") != nullptr);
  REQUIRE(metric(i, "cpu_pct") != nullptr);
  CHECK(metric(b, "cpu_pct")->value > 10);  // a whole core is 100; this machine is shared
  CHECK(metric(b, "cpu_pct")->value <= 110);
  CHECK(metric(i, "cpu_pct")->value < 5);
  CHECK(b.summary.find(", cpu ") != std::string::npos);
  auto thresholds = make_check("kind: process\ncmdline: '^" + marker + "-busy'\ncpu_crit: 5%\n");
  run(*thresholds);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(run(*thresholds).status == Status::kCritical);
}

TEST_CASE("open file descriptors and memory thresholds of the matches are reported", "[process]") {
  std::string marker = unique_marker();
  Child child(marker, false, 5);
  auto check = make_check("kind: process\ncmdline: '^" + marker + "'\nrss_warn: 1KB\n");
  Result r = run(*check);
  INFO(r.summary);
  REQUIRE(metric(r, "open_fds") != nullptr);
  CHECK(metric(r, "open_fds")->value == 8);  // 0, 1, 2 and five more
  CHECK(r.status == Status::kWarning);       // sleep has more than 1 KiB resident
  CHECK(metric(r, "rss_bytes")->warn->str() == "~:1024");
}

TEST_CASE("open files of a process the agent may not inspect are skipped, not a failure",
          "[process]") {
  if (::geteuid() != 0) {
    WARN("needs root to run the check as another user against a root-owned process");
    return;
  }
  std::string marker = unique_marker();
  Child child(marker);
  pid_t inspector = ::fork();
  REQUIRE(inspector >= 0);
  if (inspector == 0) {
    // Exit codes tell the parent which expectation failed.
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
    auto check = make_check("kind: process\ncmdline: '^" + marker + "'\n");
    Result r = run(*check);
    if (r.status != Status::kOk) ::_exit(11);
    if (metric(r, "open_fds") != nullptr) ::_exit(12);
    if (r.details["open_fds_skipped"]["pids"] != std::vector<int>{child.pid()}) ::_exit(13);
    if (r.details["open_fds_skipped"]["reason"] != "permission denied") ::_exit(14);
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(inspector, &status, 0) == inspector);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a pidfile naming a live process finds it, and a stale or missing pidfile is critical",
          "[process]") {
  std::string path = std::string(XJ_BINARY_DIR) + "/process_test_" + unique_marker() + ".pid";
  auto child = std::make_unique<Child>(unique_marker());
  std::ofstream(path) << child->pid() << "\n";
  auto check = make_check("kind: process\npidfile: " + path + "\n");
  Result alive = run(*check);
  INFO(alive.summary);
  CHECK(alive.status == Status::kOk);
  CHECK(metric(alive, "count")->value == 1);
  CHECK(alive.details["matches"][0]["pid"] == child->pid());

  auto wrong_name = make_check("kind: process\nname: postgres\npidfile: " + path + "\n");
  Result mismatch = run(*wrong_name);
  CHECK(mismatch.status == Status::kCritical);
  CHECK(mismatch.summary.find("names pid " + std::to_string(child->pid()) +
                              ", which does not match name=postgres") != std::string::npos);

  // Killed but not yet reaped: a zombie is not a running process.
  const int stale_pid = child->pid();
  REQUIRE(::kill(stale_pid, SIGKILL) == 0);
  for (int i = 0; i < 500 && parse_proc_stat(proc_stat_line(stale_pid))->state != 'Z'; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  Result zombie = run(*check);
  INFO(zombie.summary);
  CHECK(zombie.status == Status::kCritical);
  CHECK(zombie.summary.find("which is not running (stale pidfile)") != std::string::npos);
  child->stop();
  Result stale = run(*check);
  INFO(stale.summary);
  CHECK(stale.status == Status::kCritical);
  CHECK(stale.summary.find("names pid " + std::to_string(stale_pid) +
                           ", which is not running (stale pidfile)") != std::string::npos);

  std::remove(path.c_str());
  Result missing = run(*check);
  CHECK(missing.status == Status::kCritical);
  CHECK(missing.summary == "no process matching pidfile=" + path + ": the pidfile does not exist");

  std::ofstream(path) << "not a pid\n";
  Result garbage = run(*check);
  CHECK(garbage.status == Status::kUnknown);
  CHECK(garbage.summary.find("pidfile " + path + " does not hold a pid") == 0);
  std::remove(path.c_str());
}

TEST_CASE("the agent never matches itself", "[process]") {
  std::string path = std::string(XJ_BINARY_DIR) + "/process_test_self_" + unique_marker() + ".pid";
  std::ofstream(path) << ::getpid() << "\n";
  auto check = make_check("kind: process\npidfile: " + path + "\n");
  Result r = run(*check);
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.find("the agent itself") != std::string::npos);
  std::remove(path.c_str());
}

TEST_CASE("a user that does not exist is unknown, naming the user", "[process]") {
  auto check = make_check("kind: process\nuser: xj-no-such-user\n");
  Result r = run(*check);
  CHECK(r.status == Status::kUnknown);
  CHECK(r.summary == "user 'xj-no-such-user' does not exist on this host");
}

TEST_CASE("the literal prefix of an anchored cmdline regex is what every match starts with",
          "[process]") {
  CHECK(xj::anchored_literal_prefix("^java -jar app") == "java -jar app");
  CHECK(xj::anchored_literal_prefix("^/usr/bin/pg.*main") == "/usr/bin/pg");
  CHECK(xj::anchored_literal_prefix("^ab?c") == "a");
  CHECK(xj::anchored_literal_prefix("^ab*") == "a");
  CHECK(xj::anchored_literal_prefix("^a{2}") == "");
  CHECK(xj::anchored_literal_prefix("^x\\d+") == "x");
  CHECK(xj::anchored_literal_prefix("^(postgres|mysqld)") == "");
  CHECK(xj::anchored_literal_prefix("^nginx|^httpd") == "");  // alternatives: no prefix
  CHECK(xj::anchored_literal_prefix("nginx: master") == "");  // not anchored
  // The prefix never rejects a real match: every string the regex finds starts with it.
  for (const char* pattern : {"^java -jar app", "^/usr/bin/pg.*main", "^ab?c", "^x\\d+"}) {
    std::regex re(pattern, std::regex::ECMAScript);
    for (const char* text : {"java -jar app.jar", "/usr/bin/pg_ctl main", "ac", "abc", "x12"}) {
      if (std::regex_search(text, re)) {
        INFO(pattern << " on " << text);
        CHECK(std::string_view(text).starts_with(xj::anchored_literal_prefix(pattern)));
      }
    }
  }
}

TEST_CASE("process checks of one round read /proc once; a lone run or a new round reads it again",
          "[process]") {
  // Two checks of one scheduler round (RunContext::round) share the process table the first
  // one read, so a process started between them is only seen from the next round on; a run
  // outside any round (round 0: `check`, a test) always reads /proc itself.
  std::string marker = unique_marker();
  auto first = make_check("kind: process\nid: a\ncmdline: '^" + marker + "-a '\nmin: 0\n");
  auto second = make_check("kind: process\nid: b\ncmdline: '^" + marker + "-b '\n");
  auto lone = make_check("kind: process\nid: c\ncmdline: '^" + marker + "-b '\n");
  RunContext round1(std::chrono::seconds(10));
  round1.round = 0x1001;
  CHECK(first->run(round1).status == Status::kOk);  // takes the table: no -b process yet
  Child b(marker + "-b");
  Result shared = second->run(round1);
  INFO(shared.summary);
  CHECK(metric(shared, "count")->value == 0);  // the round's table predates the process
  Result alone = run(*lone);
  CHECK(metric(alone, "count")->value == 1);
  RunContext round2(std::chrono::seconds(10));
  round2.round = 0x2001;
  Result next = second->run(round2);
  INFO(next.summary);
  CHECK(next.status == Status::kOk);
  CHECK(metric(next, "count")->value == 1);
  CHECK(next.details["matches"][0]["pid"] == b.pid());
}
