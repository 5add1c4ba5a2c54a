#include "xj/collector/serve.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <thread>

#include "xj/collector/alerting.hpp"
#include "xj/collector/api.hpp"
#include "xj/collector/chain_view.hpp"
#include "xj/collector/config.hpp"
#include "xj/collector/console_auth.hpp"
#include "xj/collector/console_pages.hpp"
#include "xj/collector/http_server.hpp"
#include "xj/collector/incident_api.hpp"
#include "xj/collector/alertmanager_api.hpp"
#include "xj/collector/silence_api.hpp"
#include "xj/collector/liveness.hpp"
#include "xj/collector/report_service.hpp"
#include "xj/collector/sqlite_report_source.hpp"
#include "xj/collector/sqlite_store.hpp"
#include "xj/collector/ssh_targets.hpp"
#include "xj/common/config_error.hpp"
#include "xj/common/logging.hpp"

namespace xj {

int run_collector(const std::string& config_path) {
  CollectorConfig cfg;
  try {
    cfg = load_collector_config(config_path);
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  // Every date a person reads is in the contract's time zone.
  ::setenv("TZ", cfg.timezone.c_str(), 1);
  ::tzset();
  if (auto err = setup_logging(cfg.log_level, cfg.log_file); !err.empty()) {
    std::cerr << cfg.file << ": collector.log_file: " << err << "\n";
    return 1;
  }

  // Signals are taken by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  SqliteStoreOptions store_options;
  store_options.raw_retention_days = cfg.raw_retention_days;
  store_options.timezone = cfg.timezone;
  auto store = open_sqlite_store(cfg.store_path, store_options);
  if (!store) {
    spdlog::critical("event=collector_failed error=\"{}\"", store.error());
    std::cerr << store.error() << "\n";
    return 1;
  }
  Store& db = **store;
  CollectorMetrics metrics(db);
  Liveness liveness(db, cfg.heartbeat, cfg.missed_heartbeats, [] { return now_epoch_ms(); });
  ChainView chains(db, cfg.chains, [] { return now_epoch_ms(); });
  liveness.exempt(cfg.chains.host);
  LicenceIntake licence_intake(db);
  auto licence_api = LicenceApi::create(db, cfg.timezone);
  if (!licence_api) {
    spdlog::critical("event=collector_failed error=\"{}\"", licence_api.error());
    std::cerr << licence_api.error() << "\n";
    return 1;
  }
  std::unique_ptr<Alerting> alerting;
  if (cfg.alerts.enabled) {
    auto a = Alerting::open(cfg, &metrics);
    if (!a) {
      spdlog::critical("event=collector_failed error=\"{}\"", a.error());
      std::cerr << a.error() << "\n";
      return 1;
    }
    alerting = std::move(a).value();
    liveness.set_on_recorded([&alerting](const IngestBatch& b) { alerting->on_batch(b); });
    chains.set_on_recorded([&alerting](const IngestBatch& b) { alerting->on_batch(b); });
  }
  // Agent batches and agentless (SSH) rounds take the same way after their commit.
  auto after_ingest = [&liveness, &alerting, &chains, &licence_intake](const IngestBatch& b,
                                                                       const IngestOutcome& o) {
    // A batch that was all duplicates (a retry after a lost ack) has been evaluated already;
    // after a restart it would replay old states.
    if (alerting && o.accepted > 0) alerting->on_batch(b);
    if (o.accepted > 0) {
      chains.on_batch(b);
      licence_intake.on_batch(b);
    }
    // An SSH round whose session failed is no contact: liveness judges the target by it.
    if (b.contact) liveness.on_contact(b.agent);
  };
  IngestHandler ingest(db, &metrics, IngestLimits{}, after_ingest);
  SshPoller ssh(db, cfg.ssh, after_ingest, &metrics);
  Api api(db, metrics, std::move(ingest), std::move(licence_api).value());
  std::unique_ptr<IncidentApi> incidents;
  std::unique_ptr<SilenceApi> silences;
  std::unique_ptr<AlertmanagerApi> alertmanager;
  if (alerting) {
    incidents = std::make_unique<IncidentApi>(alerting->pipeline(), alerting->store(), db, cfg.alerts.message);
    api.set_incidents(incidents.get());
    silences = std::make_unique<SilenceApi>(alerting->pipeline(), db, cfg.alerts.holidays);
    api.set_silences(silences.get());
    api.set_duty([&cfg] { return duty_response(cfg.alerts, now_epoch_ms()); });
    alertmanager = std::make_unique<AlertmanagerApi>(alerting->pipeline());
    api.set_alertmanager(alertmanager.get());
  }
  // Reports: generated on request (API) and on the contract's schedules, archived with SHA-256.
  auto report_source = open_sqlite_report_source(cfg.store_path, cfg.timezone);
  if (!report_source) {
    spdlog::critical("event=collector_failed error=\"{}\"", report_source.error());
    std::cerr << report_source.error() << "\n";
    return 1;
  }
  const std::string report_dir =
      !cfg.contract.report_dir.empty()
          ? cfg.contract.report_dir
          : (std::filesystem::path(cfg.store_path).parent_path() / "reports").string();
  ReportService reports(**report_source, cfg.contract, report_dir, [] { return now_epoch_ms(); });
  // Delivery goes through the alert channels and their sender (contract.reports.deliver).
  if (alerting) reports.set_delivery(report_delivery(cfg), [&alerting] { alerting->wake(); });
  api.set_reports(&reports);
  ConsoleAuth console(db, cfg.console, !cfg.http.tls_cert_file.empty());
  api.set_console(&console);
  ConsoleSources console_sources;
  console_sources.store = &db;
  console_sources.pipeline = alerting ? &alerting->pipeline() : nullptr;
  console_sources.alerts = alerting ? &alerting->store() : nullptr;
  console_sources.holidays = cfg.alerts.holidays;
  console_sources.reports = &reports;
  // The pages ask the console's authentication who is logged in, whether the address may use
  // the console at all, and for the security headers.
  ConsoleHooks console_hooks;
  console_hooks.session = [&console](const HttpRequest& r) -> std::optional<ConsoleViewer> {
    auto s = console.session(r);
    if (!s) return std::nullopt;
    return ConsoleViewer{s->user, s->role, s->csrf_token};
  };
  console_hooks.allowed = [&console](const HttpRequest& r) { return console.allowed(r); };
  console_hooks.secure = [](HttpResponse& r) { add_security_headers(r); };
  ConsolePages console_pages(std::move(console_sources), std::move(console_hooks));
  api.set_console_pages(&console_pages);
  HttpServer server(cfg.http, [&api](const HttpRequest& r) { return api(r); });
  auto port = server.start();
  if (!port) {
    spdlog::critical("event=collector_failed error=\"{}\"", port.error());
    std::cerr << port.error() << "\n";
    return 1;
  }
  db.audit("collector", "collector.start", "config:" + cfg.file,
           nlohmann::json{{"listen", cfg.http.listen}, {"port", *port}, {"store", cfg.store_path},
                          {"tls", !cfg.http.tls_cert_file.empty()}, {"version", XJ_VERSION}}
               .dump());
  spdlog::info("event=collector_started version={} listen={} port={} tls={} store={}", XJ_VERSION,
               cfg.http.listen, *port, cfg.http.tls_cert_file.empty() ? "off" : "on", cfg.store_path);

  if (alerting) alerting->start();
  ssh.start();
  if (!cfg.ssh.targets.empty()) {
    spdlog::info("event=ssh_targets_started targets={} workers={}", cfg.ssh.targets.size(),
                 cfg.ssh.workers);
  }

  // Housekeeping: liveness sweeps every half heartbeat, store maintenance every 5 minutes,
  // report schedules every minute.
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::thread housekeeping([&] {
    auto sweep_every = std::max<std::chrono::milliseconds>(cfg.heartbeat / 2, std::chrono::milliseconds(500));
    auto next_maintain = std::chrono::steady_clock::now();
    auto next_reports = next_maintain;
    std::unique_lock lock(mu);
    while (!stopping) {
      lock.unlock();
      liveness.sweep();
      chains.sweep();
      if (std::chrono::steady_clock::now() >= next_maintain) {
        if (auto m = db.maintain(now_epoch_ms()); !m) {
          spdlog::error("event=maintain_failed error=\"{}\"", m.error());
        }
        next_maintain = std::chrono::steady_clock::now() + std::chrono::minutes(5);
      }
      if (std::chrono::steady_clock::now() >= next_reports) {
        // A report due now needs its last day rolled up first.
        const std::int64_t now = now_epoch_ms();
        if (reports.any_due(now)) {
          if (auto m = db.maintain(now); !m) spdlog::error("event=maintain_failed error=\"{}\"", m.error());
          reports.run_due(now);
        }
        next_reports = std::chrono::steady_clock::now() + std::chrono::minutes(1);
      }
      lock.lock();
      cv.wait_for(lock, sweep_every, [&] { return stopping; });
    }
  });

  int sig = 0;
  // SIGHUP reopens the log file (after logrotate moved it); the config is read at start only.
  while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
    if (auto err = reopen_log_file(); !err.empty()) {
      spdlog::error("event=log_reopen_failed error=\"{}\"", err);
    } else {
      spdlog::info("event=log_reopened note=\"collector.yaml is read at start only; restart to apply "
                   "changes\"");
    }
  }
  spdlog::info("event=collector_stopping signal={}", sig);
  {
    std::lock_guard lock(mu);
    stopping = true;
  }
  cv.notify_all();
  server.stop();
  ssh.stop();
  housekeeping.join();
  if (alerting) alerting->stop();
  spdlog::info("event=collector_stopped");
  return 0;
}

}  // namespace xj
