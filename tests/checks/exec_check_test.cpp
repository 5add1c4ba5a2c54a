// The exec check for real: Debian's monitoring-plugins, /bin/sh and /bin/sleep as children.
#include "xj/checks/exec_check.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "xj/checks/registry.hpp"
#include "xj/common/config_error.hpp"

using namespace xj;
using namespace std::chrono_literals;

namespace {

const std::string kPlugins = "/usr/lib/nagios/plugins";

// The plugin's path; fails the test (never skips it) when monitoring-plugins is missing.
std::string plugin(const std::string& name) {
  const std::string path = kPlugins + "/" + name;
  INFO(path << " is missing: Debian's monitoring-plugins package is required for these tests "
               "(scripts/test.sh installs it: apt-get install monitoring-plugins)");
  REQUIRE(::access(path.c_str(), X_OK) == 0);
  return path;
}

CheckEnv test_env() {
  return CheckEnv{{}, {kPlugins + "/*", "/bin/sleep", "/bin/sh", "/nonexistent/*"}};
}

Result run_yaml(const std::string& yaml, std::chrono::milliseconds timeout = 10s) {
  auto def = load_check(YAML::Load(yaml), "t.yaml", "checks[0]", test_env());
  RunContext ctx(timeout);
  return run_guarded(*def.check, ctx);
}

const Metric* metric(const Result& r, const std::string& name) {
  for (const auto& m : r.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

// Dead means no such process, or a zombie nobody has reaped yet (our parent reaps ours; an
// orphaned grandchild waits for init, which in a container may never come).
bool process_is_dead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z';
}

bool dies_within(pid_t pid, std::chrono::milliseconds wait) {
  const auto until = std::chrono::steady_clock::now() + wait;
  while (!process_is_dead(pid)) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

std::string load_error(const std::string& yaml, const CheckEnv& env) {
  try {
    (void)load_check(YAML::Load(yaml), "t.yaml", "checks[0]", env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("check_dummy 0 is ok with the plugin's text as summary", "[exec][real]") {
  Result r = run_yaml("kind: exec\ncommand: [" + plugin("check_dummy") + ", '0', fine]\n");
  CHECK(r.status == Status::kOk);
  CHECK(r.summary == "OK: fine");
  CHECK(r.check == "exec:check_dummy");
  CHECK(r.details["exit_code"] == 0);
}

TEST_CASE("check_dummy exit codes map one to one onto statuses", "[exec][real]") {
  Result crit = run_yaml("kind: exec\ncommand: [" + plugin("check_dummy") + ", '2', broken]\n");
  CHECK(crit.status == Status::kCritical);
  CHECK(crit.summary == "CRITICAL: broken");
  CHECK(run_yaml("kind: exec\ncommand: [" + plugin("check_dummy") + ", '1', slow]\n").status ==
        Status::kWarning);
  CHECK(run_yaml("kind: exec\ncommand: [" + plugin("check_dummy") + ", '3', what]\n").status ==
        Status::kUnknown);
}

TEST_CASE("check_disk perfdata becomes a byte metric with its thresholds", "[exec][real]") {
  Result r =
      run_yaml("kind: exec\ncommand: [" + plugin("check_disk") + ", -w, 10%, -c, 5%, -p, /]\n");
  INFO(r.summary);
  CHECK(r.status != Status::kUnknown);
  CHECK(r.summary.rfind("DISK ", 0) == 0);
  const Metric* m = metric(r, "/");
  REQUIRE(m != nullptr);
  CHECK(m->unit == "B");
  REQUIRE(m->warn.has_value());
  REQUIRE(m->crit.has_value());
  CHECK(m->warn->end() > 0);
  CHECK(m->crit->end() > m->warn->end());  // used bytes: 95% full is later than 90%
  struct statvfs vfs {};
  REQUIRE(::statvfs("/", &vfs) == 0);
  const double used =
      static_cast<double>(vfs.f_blocks - vfs.f_bfree) * static_cast<double>(vfs.f_frsize);
  CHECK(m->value == Approx(used).epsilon(0.02));
}

TEST_CASE("check_load and check_procs perfdata become plain metrics", "[exec][real]") {
  Result load = run_yaml("kind: exec\ncommand: [" + plugin("check_load") +
                         ", -w, '500,400,300', -c, '900,800,700']\n");
  INFO(load.summary);
  CHECK(load.status == Status::kOk);
  for (const char* name : {"load1", "load5", "load15"}) {
    const Metric* m = metric(load, name);
    REQUIRE(m != nullptr);
    CHECK(m->value >= 0);
    REQUIRE(m->crit.has_value());
  }
  CHECK(metric(load, "load1")->warn->str() == "500");
  CHECK(metric(load, "load15")->crit->str() == "700");

  Result procs = run_yaml("kind: exec\ncommand: [" + plugin("check_procs") + ", -w, '100000']\n");
  INFO(procs.summary);
  CHECK(procs.status == Status::kOk);
  const Metric* n = metric(procs, "procs");
  REQUIRE(n != nullptr);
  CHECK(n->value >= 2);
}

TEST_CASE("check_tcp against a listening socket is ok and a closed one critical", "[exec][real]") {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(s, 16) == 0);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string port = std::to_string(ntohs(a.sin_port));
  const std::string yaml = "kind: exec\ncommand: [" + plugin("check_tcp") +
                           ", -H, 127.0.0.1, -p, '" + port + "', -w, '5', -c, '9']\n";
  Result up = run_yaml(yaml);
  INFO(up.summary);
  CHECK(up.status == Status::kOk);
  CHECK(up.summary.find("port " + port) != std::string::npos);
  const Metric* t = metric(up, "time");
  REQUIRE(t != nullptr);
  CHECK(t->unit == "s");
  CHECK(t->warn->str() == "5");

  ::close(s);
  Result down = run_yaml(yaml);
  INFO(down.summary);
  CHECK(down.status == Status::kCritical);
  CHECK(down.summary.find("Connection refused") != std::string::npos);
}

TEST_CASE("a command outside agent.exec_allow is rejected at load with file, line and key",
          "[exec]") {
  const std::string err =
      load_error("kind: exec\nid: wipe\ncommand: [/bin/rm, -rf, /tmp/x]\n", test_env());
  INFO(err);
  CHECK(
      err.rfind("t.yaml:3: checks[0] (exec): key 'command': '/bin/rm' is not in agent.exec_allow; "
                "allowed: " +
                    kPlugins + "/*, /bin/sleep",
                0) == 0);
  const std::string none = load_error("kind: exec\ncommand: [/bin/sleep, '1']\n", CheckEnv{});
  CHECK(none.find("agent.exec_allow is empty") != std::string::npos);
}

TEST_CASE("exec commands must be absolute argv lists, not shell lines", "[exec]") {
  CHECK(load_error("kind: exec\ncommand: check_disk\n", test_env())
            .find("must be an absolute path") != std::string::npos);
  CHECK(load_error("kind: exec\ncommand: '/bin/sleep 5'\n", test_env()).find("there is no shell") !=
        std::string::npos);
  CHECK(load_error("kind: exec\ncommand: [" + kPlugins + "/../../../../bin/rm]\n", test_env())
            .find("without '.', '..'") != std::string::npos);
  CHECK(load_error("kind: exec\ncommand: [/bin/sh]\ncwd: tmp\n", test_env()).find("key 'cwd'") !=
        std::string::npos);
  CHECK(load_error("kind: exec\n", test_env()).find("missing required key 'command'") !=
        std::string::npos);
}

TEST_CASE("a command running past the timeout is killed and reaped within about the timeout",
          "[exec][real]") {
  const auto started = std::chrono::steady_clock::now();
  Result r = run_yaml("kind: exec\ncommand: [/bin/sleep, '30']\n", 1s);
  const auto took = std::chrono::steady_clock::now() - started;
  INFO(r.summary);
  CHECK(took < 2s);
  CHECK(r.status == Status::kUnknown);
  CHECK(r.summary.rfind("timed out after 1s: /bin/sleep 30", 0) == 0);
  const pid_t pid = r.details["pid"].get<pid_t>();
  errno = 0;
  CHECK(::kill(pid, 0) == -1);
  CHECK(errno == ESRCH);
}

TEST_CASE("a timeout kills the whole process group, SIGKILL for what ignores SIGTERM",
          "[exec][real]") {
  const auto started = std::chrono::steady_clock::now();
  Result r = run_yaml(
      "kind: exec\ncommand: [/bin/sh, -c, 'trap \"\" TERM; /bin/sleep 30 & echo $!; wait']\n", 1s);
  const auto took = std::chrono::steady_clock::now() - started;
  INFO(r.summary);
  CHECK(took < 2s);
  CHECK(r.status == Status::kUnknown);
  CHECK(r.summary.find("timed out after 1s") == 0);
  const pid_t grandchild = std::stoi(r.details["stdout"].get<std::string>());
  CHECK(dies_within(grandchild, 2s));
}

TEST_CASE("exit codes beyond 3 and deaths by signal are unknown with the reason", "[exec][real]") {
  Result code = run_yaml("kind: exec\ncommand: [/bin/sh, -c, 'echo partial; exit 7']\n");
  CHECK(code.status == Status::kUnknown);
  CHECK(code.summary ==
        "/bin/sh -c 'echo partial; exit 7' exited with code 7 (not a Nagios status 0-3): partial");
  Result sig = run_yaml("kind: exec\ncommand: [/bin/sh, -c, 'kill -KILL $$']\n");
  CHECK(sig.status == Status::kUnknown);
  CHECK(sig.summary.find("was killed by signal 9 (Killed)") != std::string::npos);
}

TEST_CASE("a program that cannot be started is unknown naming it and the cause", "[exec][real]") {
  Result r = run_yaml("kind: exec\ncommand: [/nonexistent/check_x]\n");
  CHECK(r.status == Status::kUnknown);
  CHECK(r.summary == "cannot run /nonexistent/check_x: No such file or directory");
}

TEST_CASE("the command gets a clean environment plus env, and runs in cwd", "[exec][real]") {
  ::setenv("XJ_TEST_SECRET", "hunter2", 1);
  Result r = run_yaml(
      "kind: exec\ncommand: [/bin/sh, -c, 'echo \"FOO=$FOO cwd=$(pwd) "
      "secret=${XJ_TEST_SECRET:-none} "
      "lc=$LC_ALL\"']\nenv: {FOO: bar}\ncwd: /tmp\n");
  CHECK(r.status == Status::kOk);
  CHECK(r.summary == "FOO=bar cwd=/tmp secret=none lc=C");
}

TEST_CASE("descriptors open in the agent are not inherited by the command", "[exec][real]") {
  const int fd = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  REQUIRE(fd >= 0);
  REQUIRE(::dup2(fd, 57) == 57);
  Result r = run_yaml(
      "kind: exec\ncommand: [/bin/sh, -c, 'if [ -e /proc/self/fd/57 ]; then echo leaked; else echo "
      "clean; fi']\n");
  ::close(57);
  ::close(fd);
  CHECK(r.summary == "clean");
}

TEST_CASE("stdout beyond 64 KiB is dropped and the summary stays one short line", "[exec][real]") {
  Result r = run_yaml(
      "kind: exec\ncommand: [/bin/sh, -c, 'head -c 200000 /dev/zero | tr \"\\\\0\" a; echo; echo "
      "OK']\n");
  CHECK(r.status == Status::kOk);
  CHECK(r.details["stdout_truncated"] == true);
  CHECK(r.summary.size() == 1024);
  CHECK(r.summary.find_first_not_of('a') == std::string::npos);
}

TEST_CASE("invalid UTF-8 from a plugin still makes a result that serialises", "[exec][real]") {
  Result r = run_yaml(
      "kind: exec\ncommand: [/bin/sh, -c, 'printf \"OK \\377\\376 bytes|x=1\\n\"; printf \"\\377\" "
      ">&2']\n");
  CHECK(r.status == Status::kOk);
  CHECK(r.summary == "OK \xEF\xBF\xBD\xEF\xBF\xBD bytes");
  CHECK_NOTHROW(to_json(r).dump());
  CHECK(metric(r, "x") != nullptr);
}
