// ingest_load: N simulated agents x M checks posting real batches to a running collector
// over keep-alive HTTP connections, closed loop (each connection sends its next batch when
// the previous one is answered), so the figure is the collector's capacity, not a set rate.
// Prints its method and numbers; --json writes them for bench/ingest_bench.sh.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "load.hpp"
#include "proc_stat.hpp"

namespace {

double own_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  auto k = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ingest_load: simulated agents posting result batches to xunjian-collector"};
  xj::bench::LoadOptions o;
  std::string tokens_file, json_file;
  std::size_t agents = 0;
  int collector_pid = 0;
  app.add_option("--host", o.host, "collector address");
  app.add_option("--port", o.port, "collector port")->required();
  app.add_option("--tokens", tokens_file, "file of 'agent_id token' lines (ingest_tokens)")->required();
  app.add_option("--agents", agents, "simulated agents (default: one per token)");
  app.add_option("--checks", o.checks, "checks per agent = results per batch");
  app.add_option("--concurrency", o.concurrency, "keep-alive connections");
  app.add_option("--warmup", o.warmup_s, "seconds of warm-up (and until every agent posted once)");
  app.add_option("--duration", o.duration_s, "seconds measured");
  app.add_option("--collector-pid", collector_pid, "sample this process's CPU and memory");
  app.add_option("--json", json_file, "also write the figures as JSON here");
  CLI11_PARSE(app, argc, argv);

  std::ifstream in(tokens_file);
  std::string id, token;
  while (in >> id >> token) o.tokens.push_back(token);
  if (agents != 0) {
    if (agents > o.tokens.size()) {
      std::cerr << "ingest_load: " << agents << " agents but only " << o.tokens.size() << " tokens\n";
      return 2;
    }
    o.tokens.resize(agents);
  }
  if (o.tokens.empty() || o.checks == 0 || o.concurrency == 0) {
    std::cerr << "ingest_load: need tokens, checks >= 1 and concurrency >= 1\n";
    return 2;
  }

  std::optional<xj::bench::ProcSample> c0, c1;
  double own0 = 0, own1 = 0;
  o.on_window_start = [&] {
    if (collector_pid != 0) c0 = xj::bench::sample_process(collector_pid);
    own0 = own_cpu_s();
  };
  o.on_window_end = [&] {
    if (collector_pid != 0) c1 = xj::bench::sample_process(collector_pid);
    own1 = own_cpu_s();
  };
  xj::bench::LoadStats st = xj::bench::run_load(o);

  const double rate = st.window_s > 0 ? static_cast<double>(st.window_results) / st.window_s : 0;
  nlohmann::json j{
      {"agents", o.tokens.size()},
      {"checks", o.checks},
      {"concurrency", o.concurrency},
      {"warmup_s", st.warmup_s},
      {"warmup_timed_out", st.warmup_timed_out},
      {"window_s", st.window_s},
      {"window_requests", st.window_requests},
      {"window_results", st.window_results},
      {"results_per_s", rate},
      {"requests_per_s", st.window_s > 0 ? static_cast<double>(st.window_requests) / st.window_s : 0},
      {"mean_body_bytes", st.window_requests ? static_cast<double>(st.window_body_bytes) / static_cast<double>(st.window_requests) : 0},
      {"latency_ms", {{"p50", percentile(st.latencies_ms, 50)},
                      {"p90", percentile(st.latencies_ms, 90)},
                      {"p99", percentile(st.latencies_ms, 99)},
                      {"max", st.latencies_ms.empty() ? 0 : *std::max_element(st.latencies_ms.begin(), st.latencies_ms.end())}}},
      {"total", {{"requests", st.requests}, {"sent_results", st.sent_results},
                 {"accepted", st.accepted}, {"duplicates", st.duplicates},
                 {"failed_requests", st.failed_requests}, {"retries", st.retries},
                 {"bad_acks", st.bad_acks}}},
      {"failures", st.failures},
      {"loadgen_cpu_s", own1 - own0},
  };
  if (c0 && c1) {
    j["collector"] = {{"cpu_s", c1->cpu_s - c0->cpu_s},
                      {"cpu_pct_of_one_core", 100.0 * (c1->cpu_s - c0->cpu_s) / st.window_s},
                      {"rss_mib_end", c1->rss_mib},
                      {"hwm_mib", c1->hwm_mib},
                      {"threads", c1->threads},
                      {"sched_run_s", c1->sched_run_s - c0->sched_run_s},
                      {"sched_wait_s", c1->sched_wait_s - c0->sched_wait_s}};
  }

  std::printf("ingest_load: %zu agents x %zu checks, one batch = one round of every check (%zu results),\n"
              "  %zu keep-alive connections, closed loop, warm-up %.1f s (until every agent posted once),\n"
              "  measured %.1f s\n",
              o.tokens.size(), o.checks, o.checks, o.concurrency, st.warmup_s, st.window_s);
  std::printf("  sustained: %.0f results/s, %.0f requests/s (mean body %.0f bytes)\n", rate,
              j["requests_per_s"].get<double>(), j["mean_body_bytes"].get<double>());
  std::printf("  request latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
              j["latency_ms"]["p50"].get<double>(), j["latency_ms"]["p90"].get<double>(),
              j["latency_ms"]["p99"].get<double>(), j["latency_ms"]["max"].get<double>());
  if (j.contains("collector")) {
    std::printf("  collector: %.2f CPU s over the window (%.0f %% of one core), RSS %.1f MiB, peak %.1f MiB\n",
                j["collector"]["cpu_s"].get<double>(), j["collector"]["cpu_pct_of_one_core"].get<double>(),
                c1->rss_mib, c1->hwm_mib);
    std::printf("  collector threads: %.2f s running, %.2f s runnable but waiting for a CPU (schedstat)\n",
                c1->sched_run_s - c0->sched_run_s, c1->sched_wait_s - c0->sched_wait_s);
  }
  std::printf("  load generator: %.2f CPU s over the window\n", own1 - own0);
  std::printf("  all requests: %llu, results accepted %llu, duplicates %llu, failed %llu, retries %llu, bad acks %llu\n",
              static_cast<unsigned long long>(st.requests), static_cast<unsigned long long>(st.accepted),
              static_cast<unsigned long long>(st.duplicates), static_cast<unsigned long long>(st.failed_requests),
              static_cast<unsigned long long>(st.retries), static_cast<unsigned long long>(st.bad_acks));
  for (const auto& [reason, n] : st.failures) {
    std::printf("  failure x%llu: %s\n", static_cast<unsigned long long>(n), reason.c_str());
  }
  if (!json_file.empty()) std::ofstream(json_file) << j.dump(2) << "\n";
  return st.failed_requests == 0 && st.bad_acks == 0 && !st.warmup_timed_out ? 0 : 1;
}
