// SSH round benchmark (issue 8): the collector's real SshPoller and store against a real sshd
// (started by bench/ssh_round_bench.sh). Two measurements:
//   serial:   one target with 10 checks, `--rounds` rounds one after another on this thread
//             (SshPoller::run_round: session, checks, store ingest); wall time per round and
//             each check's duration_ms.
//   parallel: N targets (each with the same 10 checks, all due at once) through the poller's
//             own `workers` threads; the time until the last target's round is stored.
// Prints key=value lines; bench/ssh_round_bench.sh turns them into the table of
// docs/benchmarks.md.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <yaml-cpp/yaml.h>

#include "xj/collector/sqlite_store.hpp"
#include "xj/collector/ssh_targets.hpp"
#include "xj/common/config_section.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Args {
  int port = 22;
  std::string user, key, known_hosts, work;
  int rounds = 20;
  std::vector<int> targets{1, 4, 16};
  std::vector<int> workers{4};
  int reps = 3;
};

std::string checks_yaml(const Args& a) {
  const std::string p = std::to_string(a.port);
  return "      checks:\n"
         "        - kind: disk\n"
         "        - kind: cpu\n"
         "        - kind: memory\n"
         "        - kind: load\n"
         "        - kind: process\n"
         "          name: sshd\n"
         "        - kind: port\n"
         "          port: " + p + "\n"
         "          listening: true\n"
         "        - kind: file_age\n"
         "          path: " + a.work + "/backup-*.tar\n"
         "          max_age: 26h\n"
         "        - kind: log_scan\n"
         "          path: " + a.work + "/app.log\n"
         "          pattern: ERROR\n"
         "        - kind: exec\n"
         "          id: uptime\n"
         "          command: [/bin/cat, /proc/uptime]\n"
         "        - kind: exec\n"
         "          id: nagios-style\n"
         "          command: [/bin/sh, -c, 'echo \"OK - fine | v=1\"']\n";
}

xj::SshConfig config(const Args& a, int targets, int workers) {
  std::string y = "workers: " + std::to_string(workers) + "\nknown_hosts: " + a.known_hosts +
                  "\ntargets:\n";
  for (int i = 0; i < targets; ++i) {
    y += "    - id: bench-" + std::to_string(i) + "\n      host: 127.0.0.1\n      port: " +
         std::to_string(a.port) + "\n      user: " + a.user + "\n      key_file: " + a.key +
         "\n      interval: 1h\n      connect_timeout: 10s\n      command_timeout: 20s\n"
         "      exec_allow: [/bin/cat, /bin/sh]\n" +
         checks_yaml(a);
  }
  xj::ConfigSection ssh(YAML::Load(y), "bench.yaml", "ssh");
  return xj::parse_ssh_config(ssh, std::chrono::hours(2));
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
}

void append_log(const Args& a, int lines) {
  std::ofstream out(a.work + "/app.log", std::ios::app);
  for (int i = 0; i < lines; ++i) out << "2026-12-02 line " << i << (i % 50 == 0 ? " ERROR x\n" : " ok\n");
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"ssh_round_bench: SSH rounds of the real poller against a running sshd"};
  app.add_option("--port", a.port)->required();
  app.add_option("--user", a.user)->required();
  app.add_option("--key", a.key)->required();
  app.add_option("--known-hosts", a.known_hosts)->required();
  app.add_option("--work", a.work)->required();
  app.add_option("--rounds", a.rounds);
  app.add_option("--targets", a.targets)->delimiter(',');
  app.add_option("--workers", a.workers)->delimiter(',');
  app.add_option("--reps", a.reps);
  CLI11_PARSE(app, argc, argv);

  fs::create_directories(a.work);
  std::ofstream(a.work + "/backup-1.tar") << "backup";
  append_log(a, 100);
  auto store = xj::open_sqlite_store(a.work + "/bench.db");
  if (!store) {
    std::cerr << "ssh_round_bench: " << store.error() << "\n";
    return 1;
  }

  // Serial: one target, rounds back to back; the log grows by 200 lines between rounds.
  {
    std::map<std::string, std::vector<double>> check_ms;
    int bad = 0;
    xj::SshPoller poller(**store, config(a, 1, 1), [&](const xj::IngestBatch& b, const xj::IngestOutcome&) {
      for (const auto& r : b.results) {
        check_ms[r.result.check].push_back(static_cast<double>(r.result.duration_ms));
        if (r.result.status == xj::Status::kUnknown) ++bad;
      }
    });
    std::vector<double> round_ms;
    for (int i = 0; i < a.rounds + 1; ++i) {
      append_log(a, 200);
      const auto t0 = Clock::now();
      auto o = poller.run_round(0);
      if (!o) {
        std::cerr << "ssh_round_bench: " << o.error() << "\n";
        return 1;
      }
      if (i > 0) round_ms.push_back(ms(Clock::now() - t0));  // the first warms cpu's baseline
    }
    std::printf("serial rounds=%d checks=10 unknown_results=%d round_ms_min=%.1f round_ms_median=%.1f "
                "round_ms_p95=%.1f round_ms_max=%.1f\n",
                a.rounds, bad, quantile(round_ms, 0), quantile(round_ms, 0.5), quantile(round_ms, 0.95),
                quantile(round_ms, 1));
    for (const auto& [check, v] : check_ms) {
      std::printf("check %s median_ms=%.0f max_ms=%.0f\n", check.c_str(), quantile(v, 0.5), quantile(v, 1));
    }
  }

  // Parallel: N targets due at once, `workers` at a time, as the collector runs them.
  for (int w : a.workers) {
    for (int n : a.targets) {
      std::vector<double> makespans;
      int bad = 0;
      for (int rep = 0; rep < a.reps; ++rep) {
        std::mutex mu;
        std::condition_variable cv;
        int done = 0;
        Clock::time_point last;
        xj::SshPoller poller(**store, config(a, n, w), [&](const xj::IngestBatch& b, const xj::IngestOutcome&) {
          std::lock_guard lock(mu);
          for (const auto& r : b.results) bad += r.result.status == xj::Status::kUnknown;
          ++done;
          last = Clock::now();
          cv.notify_all();
        });
        const auto t0 = Clock::now();
        poller.start();
        {
          std::unique_lock lock(mu);
          if (!cv.wait_for(lock, std::chrono::minutes(5), [&] { return done >= n; })) {
            std::cerr << "ssh_round_bench: only " << done << " of " << n << " rounds in 5 min\n";
            return 1;
          }
        }
        poller.stop();
        makespans.push_back(ms(last - t0));
      }
      std::printf("parallel targets=%d workers=%d reps=%d unknown_results=%d all_rounds_ms_median=%.0f "
                  "all_rounds_ms_max=%.0f per_target_ms=%.1f\n",
                  n, w, a.reps, bad, quantile(makespans, 0.5), quantile(makespans, 1),
                  quantile(makespans, 0.5) / n);
    }
  }
  return 0;
}
