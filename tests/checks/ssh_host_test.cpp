// Agentless inspection over SSH against a real sshd (tests/support/sshd.hpp) on 127.0.0.1:
// the host checks read this machine through SshHost and must measure what they measure when
// the agent reads it directly (same parsers), and every failure of the session must come back
// as a clear reason within its timeout.
#include "xj/checks/ssh_host.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "../support/sshd.hpp"
#include "xj/checks/port_check.hpp"
#include "xj/checks/process_check.hpp"
#include "xj/checks/registry.hpp"
#include "xj/common/config_error.hpp"

using namespace xj;
using namespace std::chrono_literals;
namespace it = xj::itest;
using Clock = std::chrono::steady_clock;

namespace {

SshOptions options_for(const it::SshdServer& s) {
  SshOptions o;
  o.name = "box";
  o.host = "127.0.0.1";
  o.port = s.port();
  o.user = s.user();
  o.key_file = s.user_key().string();
  o.known_hosts = s.known_hosts().string();
  o.connect_timeout = 10s;  // sanitizer builds on a busy CI machine are slow to fork sshd
  o.command_timeout = 10s;
  return o;
}

std::unique_ptr<Check> load(const std::string& yaml, std::shared_ptr<HostAccess> host = nullptr) {
  CheckEnv env;
  env.host = std::move(host);
  env.exec_allow = {"/bin/*", "/usr/bin/*"};
  return load_check(YAML::Load(yaml), "collector.yaml", "checks[0]", env).check;
}

Result run(Check& c, std::chrono::milliseconds timeout = 20s) {
  return run_guarded(c, RunContext(timeout));
}

const Metric& metric(const Result& r, const std::string& name) {
  for (const auto& m : r.metrics) {
    if (m.name == name) return m;
  }
  FAIL("no metric " << name << " in " << to_json(r).dump());
  throw std::logic_error("unreachable");
}

// The same check built twice: reading this machine directly (as the agent) and over SSH.
struct Pair {
  std::unique_ptr<Check> local, remote;
};
Pair both(const std::string& yaml, const std::shared_ptr<SshHost>& host) {
  return {load(yaml), load(yaml, host)};
}

std::shared_ptr<SshHost> connected(const it::SshdServer& s) {
  auto host = std::make_shared<SshHost>(options_for(s));
  auto info = host->open_session();
  INFO((info ? "" : info.error()) << "\nsshd log:\n" << it::slurp(s.log()));
  REQUIRE(info);
  return host;
}

std::set<std::uint16_t> listening_ports(const std::string& tcp, const std::string& tcp6) {
  std::set<std::uint16_t> out;
  for (const auto* text : {&tcp, &tcp6}) {
    auto parsed = parse_proc_net_tcp(*text);
    REQUIRE(parsed);
    for (const auto& e : *parsed) {
      if (e.state == kTcpListen) out.insert(e.port);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("the output of the commands run over SSH is parsed into statvfs fields and files",
          "[ssh]") {
  auto st = parse_statvfs_lines(
      "ok 4096 1000 400 300 640 600\n"
      "err stat: cannot read file system information for '/gone': No such file or directory\n"
      "ok 4096 garbage\n",
      4);
  REQUIRE(st.size() == 4);
  REQUIRE(st[0]);
  CHECK(st[0]->block_size == 4096);
  CHECK(st[0]->blocks == 1000);
  CHECK(st[0]->bfree == 400);
  CHECK(st[0]->bavail == 300);
  CHECK(st[0]->files == 640);
  CHECK(st[0]->ffree == 600);
  CHECK(compute_disk_usage(*st[0]).used_pct == Approx(100.0 * 600 / 900));
  REQUIRE_FALSE(st[1]);
  CHECK(st[1].error() == "statvfs failed: No such file or directory");
  REQUIRE_FALSE(st[2]);
  CHECK_THAT(st[2].error(), Catch::Contains("unexpected stat -f output"));
  REQUIRE_FALSE(st[3]);
  CHECK(st[3].error() == "no answer from stat -f");

  GlobScan g = parse_glob_lines(
      "f\t1764000000 1234\t/backup/db 1.dump\n"
      "e\tstat: cannot statx '/backup/x': Permission denied\n"
      "u\t/secret: Permission denied\n");
  REQUIRE(g.files.size() == 1);
  CHECK(g.files[0].path == "/backup/db 1.dump");
  CHECK(g.files[0].size == 1234);
  CHECK(std::chrono::system_clock::to_time_t(g.files[0].mtime) == 1764000000);
  CHECK(g.errors.size() == 2);
  CHECK(g.unreadable);

  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(shell_quote("/a b") == "'/a b'");
}

TEST_CASE("host checks read over SSH measure what the agent's own checks measure on the same machine",
          "[ssh][real]") {
  it::SshdServer sshd(it::scratch_dir("ssh-same"));
  auto host = connected(sshd);

  SECTION("memory") {
    auto p = both("kind: memory\n", host);
    Result l = run(*p.local), r = run(*p.remote);
    INFO(to_json(r).dump());
    REQUIRE(r.status != Status::kUnknown);
    CHECK(metric(r, "total_bytes").value == metric(l, "total_bytes").value);
    CHECK(std::abs(metric(r, "available_pct").value - metric(l, "available_pct").value) < 5.0);
  }
  SECTION("load") {
    auto p = both("kind: load\n", host);
    Result l = run(*p.local), r = run(*p.remote);
    INFO(to_json(r).dump());
    REQUIRE(r.status != Status::kUnknown);
    CHECK(metric(r, "cores").value == metric(l, "cores").value);
    const double l5 = metric(l, "load5").value;
    CHECK(std::abs(metric(r, "load5").value - l5) <= std::max(1.0, 0.25 * l5));
  }
  SECTION("disk") {
    auto p = both("kind: disk\nmounts: [/]\nwarn: none\ncrit: none\ninode_warn: none\ninode_crit: none\n", host);
    Result l = run(*p.local), r = run(*p.remote);
    INFO(to_json(r).dump());
    REQUIRE(r.status == Status::kOk);
    CHECK(metric(r, "total_bytes").value == metric(l, "total_bytes").value);
    CHECK(std::abs(metric(r, "used_pct").value - metric(l, "used_pct").value) < 1.0);
    CHECK(r.details["filesystems"] == l.details["filesystems"]);
  }
  SECTION("all real filesystems") {
    auto p = both("kind: disk\nwarn: none\ncrit: none\ninode_warn: none\ninode_crit: none\n", host);
    Result l = run(*p.local), r = run(*p.remote);
    INFO(to_json(l).dump() << "\n" << to_json(r).dump());
    CHECK(r.details["filesystems"] == l.details["filesystems"]);
    CHECK(r.status == l.status);
  }
  SECTION("cpu") {
    auto p = both("kind: cpu\n", host);
    Result r = run(*p.remote);
    INFO(to_json(r).dump());
    REQUIRE(r.status != Status::kUnknown);
    const double busy = metric(r, "usage_pct").value;
    CHECK(busy >= 0.0);
    CHECK(busy <= 100.0);
    CHECK(metric(r, "idle_pct").value + metric(r, "iowait_pct").value + busy == Approx(100.0));
    // The second run measures over the time since the first, as the agent's does.
    Result again = run(*p.remote);
    CHECK(again.status != Status::kUnknown);
  }
  SECTION("listening port") {
    const std::string yaml = "kind: port\nport: " + std::to_string(sshd.port()) + "\nlistening: true\n";
    auto p = both(yaml, host);
    Result l = run(*p.local), r = run(*p.remote);
    INFO(to_json(r).dump());
    CHECK(r.status == Status::kOk);
    CHECK(r.summary == l.summary);
    CHECK(r.details["listeners"] == l.details["listeners"]);
  }
  SECTION("file age") {
    const std::string dir = it::scratch_dir("ssh-files").string();
    it::write_file(dir + "/a.dump", "12345");
    it::write_file(dir + "/b b.dump", "1234567");
    const std::string yaml = "kind: file_age\npath: '" + dir + "/*.dump'\nmax_age: 1h\n";
    auto p = both(yaml, host);
    Result l = run(*p.local), r = run(*p.remote);
    INFO(to_json(r).dump());
    CHECK(r.status == Status::kOk);
    CHECK(metric(r, "count").value == 2);
    CHECK(metric(r, "count").value == metric(l, "count").value);
    CHECK(r.details["newest"]["path"] == l.details["newest"]["path"]);
    CHECK(metric(r, "size_bytes").value == metric(l, "size_bytes").value);
    CHECK(std::abs(metric(r, "age_s").value - metric(l, "age_s").value) <= 5);

    auto none = load("kind: file_age\npath: '" + dir + "/*.missing'\n", host);
    Result missing = run(*none);
    CHECK(missing.status == Status::kCritical);
    CHECK(missing.summary == "no file matches " + dir + "/*.missing");
  }
}

TEST_CASE("listening sockets read over SSH are those the agent reads from /proc/net/tcp and tcp6",
          "[ssh][real]") {
  it::SshdServer sshd(it::scratch_dir("ssh-ports"));
  auto host = connected(sshd);
  RunContext ctx(20s);
  // Other tests open and close listeners meanwhile: the remote view must lie between two
  // local views taken before and after it.
  auto before = listening_ports(it::slurp("/proc/net/tcp"), it::slurp("/proc/net/tcp6"));
  auto tcp = host->read_file("/proc/net/tcp", ctx);
  auto tcp6 = host->read_file("/proc/net/tcp6", ctx);
  auto after = listening_ports(it::slurp("/proc/net/tcp"), it::slurp("/proc/net/tcp6"));
  REQUIRE(tcp);
  REQUIRE(tcp6);
  auto remote = listening_ports(*tcp, *tcp6);
  CHECK(remote.count(sshd.port()) == 1);
  for (auto port : before) {
    if (after.count(port)) CHECK(remote.count(port) == 1);
  }
  for (auto port : remote) {
    INFO("port " << port);
    CHECK((before.count(port) + after.count(port)) > 0);
  }
}

TEST_CASE("a host key that differs from known_hosts fails the session, naming the presented fingerprint",
          "[ssh][real]") {
  it::SshdServer sshd(it::scratch_dir("ssh-changed"));
  auto other = sshd.make_other_host_key();
  it::write_file(sshd.known_hosts(), sshd.known_hosts_line(other));
  SshHost host(options_for(sshd));
  auto info = host.open_session();
  REQUIRE_FALSE(info);
  CHECK(info.failure().failure == SshFailure::kHostKey);
  CHECK_THAT(info.error(), Catch::Contains("host key CHANGED"));
  CHECK_THAT(info.error(), Catch::Contains("ssh-ed25519 " + sshd.fingerprint()));
  CHECK_THAT(info.error(), Catch::Contains("[127.0.0.1]:" + std::to_string(sshd.port())));
  // Turning strict checking off never accepts a changed key.
  SshOptions lax = options_for(sshd);
  lax.strict_host_key = false;
  SshHost lax_host(lax);
  auto lax_info = lax_host.open_session();
  REQUIRE_FALSE(lax_info);
  CHECK(lax_info.failure().failure == SshFailure::kHostKey);
}

TEST_CASE("an unknown host key is refused by default and accepted, flagged, only with strict_host_key off",
          "[ssh][real]") {
  it::SshdServer sshd(it::scratch_dir("ssh-unknown"));
  it::write_file(sshd.known_hosts(), "");
  SshHost host(options_for(sshd));
  auto info = host.open_session();
  REQUIRE_FALSE(info);
  CHECK(info.failure().failure == SshFailure::kHostKey);
  CHECK_THAT(info.error(), Catch::Contains("host key unknown"));
  CHECK_THAT(info.error(), Catch::Contains(sshd.fingerprint()));

  SshOptions lax = options_for(sshd);
  lax.strict_host_key = false;
  SshHost lax_host(lax);
  auto lax_info = lax_host.open_session();
  INFO((lax_info ? "" : lax_info.error()));
  REQUIRE(lax_info);
  CHECK_FALSE(lax_info->host_key_known);
  CHECK(lax_info->host_key_fingerprint == sshd.fingerprint());
}

TEST_CASE("a key the server does not accept is an authentication failure naming the user",
          "[ssh][real]") {
  it::SshdServer sshd(it::scratch_dir("ssh-auth"));
  SshOptions o = options_for(sshd);
  o.key_file = sshd.stranger_key().string();
  SshHost host(o);
  auto info = host.open_session();
  REQUIRE_FALSE(info);
  CHECK(info.failure().failure == SshFailure::kAuth);
  CHECK_THAT(info.error(), Catch::Contains("authentication as '" + sshd.user() + "' by publickey refused"));

  o.key_file = (it::scratch_dir("ssh-nokey") / "absent").string();
  SshHost nokey(o);
  auto missing = nokey.open_session();
  REQUIRE_FALSE(missing);
  CHECK(missing.failure().failure == SshFailure::kLocal);
  CHECK_THAT(missing.error(), Catch::Contains("cannot use key_file"));
}

TEST_CASE("an unreachable port and a server that never speaks SSH fail within connect_timeout",
          "[ssh][real]") {
  SshOptions o;
  o.name = "nobody";
  o.host = "127.0.0.1";
  o.port = it::free_port();
  o.user = "root";
  o.key_file = "/nonexistent";
  o.known_hosts = "/nonexistent";
  o.connect_timeout = 1s;
  {
    SshHost host(o);
    auto info = host.open_session();
    REQUIRE_FALSE(info);
    CHECK(info.failure().failure == SshFailure::kUnreachable);
    CHECK_THAT(info.error(), Catch::Contains("cannot connect") && Catch::Contains("connection refused"));
  }
  // A socket that accepts connections and never says a word.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  o.port = ntohs(a.sin_port);
  SshHost silent(o);
  const auto started = Clock::now();
  auto info = silent.open_session();
  const auto took = Clock::now() - started;
  ::close(fd);
  REQUIRE_FALSE(info);
  CHECK(info.failure().failure == SshFailure::kUnreachable);
  CHECK_THAT(info.error(), Catch::Contains("SSH handshake timed out after 1s (connect_timeout)"));
  CHECK(took < 3s);
}

TEST_CASE("a hanging command is abandoned at its timeout and the session runs the next command",
          "[ssh][real]") {
  it::SshdServer sshd(it::scratch_dir("ssh-hang"));
  SshOptions o = options_for(sshd);
  o.command_timeout = 1500ms;
  auto host = std::make_shared<SshHost>(o);
  REQUIRE(host->open_session());
  auto hang = load("kind: exec\ncommand: [/bin/sleep, '30']\ntimeout: 2s\n", host);
  const auto started = Clock::now();
  Result r = run(*hang, 2s);
  const auto took = Clock::now() - started;
  INFO(to_json(r).dump());
  CHECK(r.status == Status::kUnknown);
  CHECK_THAT(r.summary, Catch::StartsWith("timed out after 2s: /bin/sleep 30 was abandoned"));
  CHECK(took < 5s);
  auto load_avg = load("kind: load\n", host);
  Result next = run(*load_avg);
  INFO(to_json(next).dump());
  CHECK(next.status != Status::kUnknown);
}

TEST_CASE("custom commands over SSH keep Nagios semantics: the exit code is the status, perfdata are metrics",
          "[ssh][real]") {
  it::SshdServer sshd(it::scratch_dir("ssh-nagios"));
  auto host = connected(sshd);
  auto crit = load(
      "kind: exec\ncommand: [/bin/sh, -c, 'echo \"DISK CRITICAL - it''s full | used=95%;80;90;0;100\"; exit 2']\n",
      host);
  Result r = run(*crit);
  INFO(to_json(r).dump());
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary == "DISK CRITICAL - it's full");
  CHECK(metric(r, "used").value == 95);
  CHECK(metric(r, "used").unit == "%");
  CHECK(r.details["exit_code"] == 2);

  auto odd = load("kind: exec\ncommand: [/bin/sh, -c, 'echo strange; exit 7']\n", host);
  Result o = run(*odd);
  CHECK(o.status == Status::kUnknown);
  CHECK_THAT(o.summary, Catch::Contains("exited with code 7 (not a Nagios status 0-3)"));

  auto env = load("kind: exec\ncommand: [/bin/sh, -c, 'echo \"OK - $GREETING in $(pwd)\"']\n"
                  "env: {GREETING: \"ni hao\"}\ncwd: /tmp\n",
                  host);
  Result e = run(*env);
  CHECK(e.status == Status::kOk);
  CHECK(e.summary == "OK - ni hao in /tmp");
}

TEST_CASE("kinds that cannot inspect a remote host are refused for an agentless target with the kinds that can",
          "[ssh]") {
  auto host = std::make_shared<SshHost>(SshOptions{});
  try {
    load("kind: http\nurl: http://127.0.0.1/\n", host);
    FAIL("http was accepted");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("a 'http' check cannot run on an agentless target; kinds "
                                         "that can: disk, cpu, memory, load, process, port, file_age, log_scan, exec"));
  }
  try {
    load("kind: port\nport: 22\n", host);
    FAIL("a connect check was accepted");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("key 'listening'"));
  }
}

TEST_CASE("a hashed known_hosts entry for the host and port is recognised", "[ssh][real]") {
  it::SshdServer sshd(it::scratch_dir("ssh-hashed"));
  const std::string kh = sshd.known_hosts().string();
  const std::string cmd = "ssh-keygen -H -f '" + kh + "' >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  REQUIRE(it::slurp(kh).rfind("|1|", 0) == 0);
  SshHost host(options_for(sshd));
  auto info = host.open_session();
  INFO((info ? "" : info.error()));
  REQUIRE(info);
  CHECK(info->host_key_known);
  CHECK(info->host_key_fingerprint == sshd.fingerprint());
}

TEST_CASE("the process dump of a target is parsed into its processes, its own pids left out",
          "[ssh]") {
  const std::string dump =
      "\036T 100\n"
      "\036O 300 299\n"
      "\036B\ncpu  1 2 3 4\nbtime 1764000000\n"
      "\036W\nroot:x:0:0:root:/root:/bin/bash\npostgres:x:105:110::/var/lib/postgresql:/bin/bash\n"
      "\036P 42\n42 (postgres) S 1 42 42 0 -1 0 0 0 0 0 10 5 0 0 20 0 1 0 500 0 0\n"
      "\036S\nName:\tpostgres\nUid:\t105\t105\t105\t105\nVmRSS:\t  1024 kB\n"
      "\036C\n/usr/lib/postgresql/15/bin/postgres\001-D\001/var/lib/x\001\n"
      "\036E /usr/lib/postgresql/15/bin/postgres\n"
      "\036F 12\n"
      "\036P 298\n298 (sshd) S 297 298 298 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 900 0 0\n"
      "\036S\nName:\tsshd\nUid:\t0\t0\t0\t0\n"
      "\036C\nsshd: root@notty\001\n"
      "\036E \n"
      "\036F -\n"
      "\036P 299\n299 (timeout) S 298 299 299 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 901 0 0\n"
      "\036S\nName:\ttimeout\n\036C\ntimeout\001\n\036E /usr/bin/timeout\n\036F 3\n";
  ProcessSnapshot s = parse_process_dump(dump, "root");
  CHECK(s.clock_ticks == 100);
  CHECK_THAT(s.proc_stat, Catch::Contains("btime 1764000000"));
  CHECK(s.users.at(105) == "postgres");
  REQUIRE(s.processes.size() == 3);
  const ProcessEntry& pg = s.processes[0];
  CHECK(pg.pid == 42);
  CHECK(parse_proc_stat(pg.stat)->comm == "postgres");
  CHECK(parse_proc_status(pg.status)->rss_bytes == 1024u * 1024u);
  CHECK(join_cmdline(pg.cmdline) == "/usr/lib/postgresql/15/bin/postgres -D /var/lib/x");
  CHECK(pg.exe == "/usr/lib/postgresql/15/bin/postgres");
  CHECK(pg.open_fds == 12u);
  CHECK_FALSE(s.processes[1].open_fds);
  // The dump's shell (300), the timeout above it (299) and our session's sshd (298).
  CHECK(s.own_pids == std::vector<int>{300, 299, 298});
}

TEST_CASE("the process check over SSH finds what the agent's own process check finds",
          "[ssh][real]") {
  it::SshdServer sshd(it::scratch_dir("ssh-procs"));
  auto host = connected(sshd);
  const auto dir = it::scratch_dir("ssh-procs-child");
  it::Child sleeper("/bin/sleep", {"1234.5"}, dir / "sleep.log");
  REQUIRE(sleeper.pid() > 0);
  // The fork returns before the exec: until then the child's command line is ours.
  const auto cmdline_file = "/proc/" + std::to_string(sleeper.pid()) + "/cmdline";
  auto cmdline = [&] {
    std::ifstream in(cmdline_file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  for (int i = 0; i < 100 && cmdline().rfind("/bin/sleep", 0) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  it::write_file(dir / "sleep.pid", std::to_string(sleeper.pid()) + "\n");

  auto p = both("kind: process\ncmdline: '^/bin/sleep 1234\\.5'\nname: sleep\n", host);
  Result l = run(*p.local), r = run(*p.remote);
  INFO(to_json(l).dump() << "\n" << to_json(r).dump());
  REQUIRE(r.status == Status::kOk);
  CHECK(metric(r, "count").value == 1);
  CHECK(r.details["matches"][0]["pid"] == sleeper.pid());
  CHECK(r.details["matches"][0]["user"] == l.details["matches"][0]["user"]);
  CHECK(r.details["matches"][0]["cmdline"] == "/bin/sleep 1234.5");
  CHECK(std::abs(metric(r, "uptime_s").value - metric(l, "uptime_s").value) <= 5);
  CHECK(metric(r, "open_fds").value == metric(l, "open_fds").value);
  // Second run: CPU over the time between runs, as on the agent.
  Result again = run(*p.remote);
  CHECK(metric(again, "cpu_pct").value == 0);

  auto by_pidfile = load("kind: process\npidfile: " + (dir / "sleep.pid").string() + "\nname: sleep\n", host);
  Result f = run(*by_pidfile);
  INFO(to_json(f).dump());
  CHECK(f.status == Status::kOk);
  CHECK(metric(f, "count").value == 1);
  auto no_pidfile = load("kind: process\npidfile: " + (dir / "gone.pid").string() + "\n", host);
  Result g = run(*no_pidfile);
  CHECK(g.status == Status::kCritical);
  CHECK_THAT(g.summary, Catch::EndsWith(": the pidfile does not exist"));

  // The dump never counts itself (its shell's command line is the dump script).
  auto self = load("kind: process\ncmdline: 'readlink'\nmin: 0\nmax: 0\n", host);
  Result s = run(*self);
  INFO(to_json(s).dump());
  CHECK(s.status == Status::kOk);
  auto nobody = load("kind: process\nuser: no-such-user-xj\n", host);
  Result n = run(*nobody);
  CHECK(n.status == Status::kUnknown);
  CHECK_THAT(n.summary, Catch::Contains("user 'no-such-user-xj' does not exist on ssh box"));
}

namespace {

// One round as the poller runs it: a fresh session, the check, the session closed.
Result round(SshHost& host, Check& check) {
  auto info = host.open_session();
  REQUIRE(info);
  Result r = run(check);
  host.close_session();
  return r;
}

void append(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::app | std::ios::binary) << text;
}

// The local and the remote run of one step must agree on everything a user sees.
void same_result(const Result& local, const Result& remote) {
  INFO("local:  " << to_json(local).dump() << "\nremote: " << to_json(remote).dump());
  CHECK(remote.status == local.status);
  CHECK(remote.summary == local.summary);
  CHECK(remote.details == local.details);
  REQUIRE(remote.metrics.size() == local.metrics.size());
  for (std::size_t i = 0; i < local.metrics.size(); ++i) {
    CHECK(remote.metrics[i].name == local.metrics[i].name);
    CHECK(remote.metrics[i].value == local.metrics[i].value);
  }
}

}  // namespace

TEST_CASE("log_scan over SSH gives the local results: new lines, rotation, truncation",
          "[ssh][real][log_scan]") {
  auto dir = it::scratch_dir("ssh-log-scan");
  it::SshdServer sshd(dir / "sshd");
  const auto log = dir / "app.log";
  it::write_file(log, "2026-12-01 old ERROR before the first run\n");
  const std::string yaml = "kind: log_scan\nid: app\npath: " + log.string() +
                           "\npattern: ERROR\nexclude: ignored\nsamples: 3\n";
  auto host = std::make_shared<SshHost>(options_for(sshd));
  auto checks = both(yaml, host);
  auto step = [&] {
    Result local = run(*checks.local);
    Result remote = round(*host, *checks.remote);
    same_result(local, remote);
    return remote;
  };

  // First round: watch from the end, as the agent does.
  Result r = step();
  CHECK(r.status == Status::kOk);
  CHECK_THAT(r.summary, Catch::StartsWith("watching " + log.string() + " from offset 42"));

  // Lines appended between rounds are matched; an unfinished last line waits for its newline.
  append(log, "a ERROR one\nb fine\nc ERROR two ignored\nd ERROR three\ne ERROR unfinished");
  r = step();
  CHECK(r.status == Status::kWarning);
  CHECK(metric(r, "matches").value == 2);
  CHECK(metric(r, "lines_read").value == 4);
  CHECK(r.details["samples"] == nlohmann::json::array({"a ERROR one", "d ERROR three"}));
  append(log, " now\n");
  r = step();
  CHECK(metric(r, "matches").value == 1);

  // More than one remote read window (1 MiB) in one round.
  std::string many;
  for (int i = 0; i < 60000; ++i) {
    many += "line " + std::to_string(i) + (i % 100 == 7 ? " ERROR x\n" : " all well here\n");
  }
  REQUIRE(many.size() > 1024 * 1024);
  append(log, many);
  r = step();
  CHECK(metric(r, "matches").value == 600);
  CHECK(metric(r, "lines_read").value == 60000);

  // Rotation: the rest of the old file (found by inode as app.log.1), then the new file.
  append(log, "f ERROR written just before rotation\n");
  std::filesystem::rename(log, dir / "app.log.1");
  it::write_file(log, "g ERROR in the new file\nh fine\n");
  r = step();
  CHECK(r.details["reason"] == "rotated");
  CHECK(r.details["rotated"]["path"] == (dir / "app.log.1").string());
  CHECK(metric(r, "matches").value == 2);
  CHECK_THAT(r.summary, Catch::EndsWith("; the log was rotated"));

  // Rotated to a dated name in the same directory: found by inode too.
  std::filesystem::rename(log, dir / "app.log-20261202");
  append(dir / "app.log-20261202", "i ERROR after the rename\n");
  it::write_file(log, "");
  r = step();
  CHECK(r.details["rotated"]["path"] == (dir / "app.log-20261202").string());
  CHECK(metric(r, "matches").value == 1);

  // Truncated and written again (shorter than the offset): read from the start.
  it::write_file(log, "j ERROR long line to get an offset\nk more\n");
  step();
  it::write_file(log, "l ERROR\n");
  r = step();
  CHECK(r.details["reason"] == "truncated");
  CHECK(metric(r, "matches").value == 1);

  // A file that is gone: unknown on both, the remote one naming the target.
  std::filesystem::remove(log);
  Result local = run(*checks.local);
  Result remote = round(*host, *checks.remote);
  CHECK(local.status == Status::kUnknown);
  CHECK(remote.status == Status::kUnknown);
  CHECK(local.summary == "cannot open " + log.string() + ": No such file or directory");
  CHECK(remote.summary == "ssh box (127.0.0.1:" + std::to_string(sshd.port()) + "): cannot open " +
                              log.string() + ": No such file or directory");
}

TEST_CASE("the stat output of a remote log file is parsed into its identity, size and head",
          "[ssh][log_scan]") {
  auto now = parse_log_stat("2049 131 5000\nfirst bytes\nof the file");
  REQUIRE(now);
  CHECK(now->dev == 2049);
  CHECK(now->inode == 131);
  CHECK(now->size == 5000);
  CHECK(now->head == "first bytes\nof the file");
  CHECK_FALSE(parse_log_stat("stat: cannot stat"));
  CHECK_FALSE(parse_log_stat("1 2 3"));  // no newline: the command was cut short
}
