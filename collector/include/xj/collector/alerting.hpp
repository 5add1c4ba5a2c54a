// Alerting in the collector: the alerts' SQLite store, the pipeline evaluated on every
// committed batch (agent results and host:alive), and the sender thread that works the
// outbox and the no-data tick. Built by `serve` when collector.yaml has an `alerts:` section.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "xj/alerts/alert_pipeline.hpp"
#include "xj/alerts/outbox_sender.hpp"
#include "xj/collector/config.hpp"
#include "xj/collector/store.hpp"

namespace xj {

class CollectorMetrics;

class Alerting {
 public:
  // Opens the alert tables in cfg.store_path (open_sqlite_store first: it migrates), builds
  // the channels and restores the active alerts.
  static Expected<std::unique_ptr<Alerting>> open(const CollectorConfig& cfg, CollectorMetrics* metrics);
  ~Alerting();
  Alerting(const Alerting&) = delete;
  Alerting& operator=(const Alerting&) = delete;

  // After a batch is committed: evaluates its results as they arrive.
  void on_batch(const IngestBatch& batch);
  // Starts / stops the sender thread (stop is also done by the destructor).
  void start();
  void stop();
  // Wakes the sender thread: messages were enqueued elsewhere (a delivered report).
  void wake();

  alerts::AlertPipeline& pipeline() { return *pipeline_; }
  alerts::AlertStore& store() { return *store_; }

 private:
  Alerting() = default;
  void loop();

  std::unique_ptr<alerts::AlertStore> store_;
  std::unique_ptr<alerts::AlertPipeline> pipeline_;
  std::unique_ptr<alerts::OutboxSender> sender_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool wake_ = false;
  std::thread thread_;
};

}  // namespace xj
