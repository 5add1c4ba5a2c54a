// Console benchmark (issue 9): the server's time to answer GET /console/ (the overview: counts
// by status, hosts down, firing alerts by severity, open incidents with deadlines, certificates
// and licences expiring, agents not seen) for a fleet of HOSTS hosts x CHECKS checks.
//
//   console_bench STORE_DIR [--hosts 1000] [--checks 30] [--runs 50]
//
// The store is filled through the real Store::ingest (one batch per host, each check with two
// metrics; 1 % of checks critical, 4 % warning, 2 % of hosts with host:alive critical, 300
// http checks with a certificate near expiry, 50 licences) and the alert pipeline is fed the
// same results (so there are firing alerts and the P1 incidents they open). Then the whole
// request is timed in-process — routing, store reads, view, Mustache, layout — as the HTTP
// server calls it (the socket is not included). Prints key=value lines.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "xj/alerts/alert_pipeline.hpp"
#include "xj/collector/console_pages.hpp"
#include "xj/collector/sqlite_alert_store.hpp"
#include "xj/collector/sqlite_store.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: console_bench STORE_DIR [--hosts N] [--checks N] [--runs N]\n";
    return 2;
  }
  // The fill fires ~1,600 alerts; their info lines would bury the figures.
  spdlog::set_level(spdlog::level::warn);
  const std::filesystem::path dir = argv[1];
  int hosts = 1000, checks = 30, runs = 50;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int v = std::stoi(argv[i + 1]);
    if (k == "--hosts") hosts = v;
    else if (k == "--checks") checks = v;
    else if (k == "--runs") runs = v;
  }
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "collector.db").string();
  xj::SqliteStoreOptions o;
  o.durable = false;
  auto store = xj::open_sqlite_store(db, o);
  if (!store) {
    std::cerr << store.error() << "\n";
    return 1;
  }
  auto alert_store = xj::open_sqlite_alert_store(db);
  if (!alert_store) {
    std::cerr << alert_store.error() << "\n";
    return 1;
  }
  xj::alerts::AlertsConfig cfg;
  cfg.enabled = true;
  const std::int64_t now = xj::now_epoch_ms();
  xj::alerts::AlertPipeline pipeline(**alert_store, cfg, {}, [&] { return now; });
  pipeline.restore();

  const auto fill_start = Clock::now();
  std::int64_t results = 0;
  for (int h = 0; h < hosts; ++h) {
    xj::IngestBatch b;
    const std::string id = "host-" + std::to_string(h);
    b.agent = xj::AgentInfo{id, id + ".example", "0.1.0", {{"system", "sys-" + std::to_string(h % 12)}, {"role", "app"}}};
    b.received_ms = now;
    for (int c = 0; c < checks; ++c) {
      xj::Result r;
      const int n = h * checks + c;
      if (c == 0) {
        r.check = "host:alive";
        r.kind = "alive";
        r.status = h % 50 == 7 ? xj::Status::kCritical : xj::Status::kOk;
      } else if (c == 1 && h % 10 == 3) {
        r.check = "http:portal";
        r.kind = "http";
        r.status = xj::Status::kWarning;
        r.metrics.push_back({"cert_days_left", 12.0 + h % 18, "d", {}, std::nullopt, std::nullopt});
      } else {
        r.check = "disk:/data" + std::to_string(c);
        r.kind = "disk";
        r.status = n % 100 == 11 ? xj::Status::kCritical : n % 25 == 4 ? xj::Status::kWarning : xj::Status::kOk;
      }
      r.summary = r.check + " on " + id;
      r.ts_ms = now - 30'000;
      r.metrics.push_back({"used_pct", 40.0 + n % 60, "%", {{"mount", "/data"}}, std::nullopt, std::nullopt});
      r.metrics.push_back({"free_bytes", 1e9 * (n % 100), "B", {{"mount", "/data"}}, std::nullopt, std::nullopt});
      b.results.push_back({c + 1, r});
    }
    results += static_cast<std::int64_t>(b.results.size());
    if (auto out = (*store)->ingest(b); !out) {
      std::cerr << out.error() << "\n";
      return 1;
    }
    std::vector<xj::Result> rs;
    for (const auto& s : b.results) rs.push_back(s.result);
    pipeline.on_results(xj::alerts::Subject{id, b.agent.labels}, rs);
  }
  for (int l = 0; l < 50; ++l) {
    xj::LicenceRow row;
    row.product = "product-" + std::to_string(l);
    row.holder = "客户";
    row.expiry_ms = now + (l % 60) * 86'400'000LL;
    (void)(*store)->add_licence(row, "bench");
  }
  const double fill_ms = ms_since(fill_start);

  xj::ConsoleSources src;
  src.store = store->get();
  src.pipeline = &pipeline;
  src.alerts = alert_store->get();
  xj::ConsoleHooks hooks;
  hooks.session = [](const xj::HttpRequest&) { return xj::ConsoleViewer{"bench", xj::Role::kOperator, "csrf"}; };
  xj::ConsolePages pages(src, hooks);
  xj::HttpRequest req;
  req.method = "GET";
  req.path = req.target = "/console/";

  std::vector<double> times;
  std::size_t bytes = 0;
  for (int i = 0; i < runs + 1; ++i) {
    const auto t = Clock::now();
    auto r = pages(req);
    const double ms = ms_since(t);
    if (r.status != 200) {
      std::cerr << "overview answered " << r.status << ": " << r.body << "\n";
      return 1;
    }
    bytes = r.body.size();
    if (i > 0) times.push_back(ms);  // the first run warms the page cache and the strings
  }
  std::sort(times.begin(), times.end());
  auto pct = [&](double p) { return times[std::min(times.size() - 1, static_cast<std::size_t>(p * times.size()))]; };
  const auto view = pages.overview_view(now);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::cout << "hosts=" << hosts << " checks=" << hosts * checks << " results_ingested=" << results
            << " fill_ms=" << static_cast<long>(fill_ms) << "\n"
            << "active_alerts=" << pipeline.active().size() << " open_incidents=" << view["incidents"].size()
            << " hosts_down=" << view["hosts_down"].size() << " expiring=" << view["expiring"].size() << "\n"
            << "overview_runs=" << times.size() << " min_ms=" << times.front() << " median_ms=" << pct(0.5)
            << " p95_ms=" << pct(0.95) << " max_ms=" << times.back() << " html_bytes=" << bytes << "\n"
            << "peak_rss_mb=" << ru.ru_maxrss / 1024 << "\n";
  return 0;
}
