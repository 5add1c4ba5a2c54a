// The collector's /metrics: its own counters (ingest, rejects, commit latency, store size) and
// the fleet — the latest value of every check metric of every host, with the host's labels —
// so an existing Prometheus scrapes the whole fleet from the collector alone.
#pragma once

#include <memory>
#include <string>

#include "xj/collector/store.hpp"

namespace prometheus {
class Registry;
class Counter;
template <typename T>
class Family;
class Histogram;
}  // namespace prometheus

namespace xj {

class CollectorMetrics {
 public:
  explicit CollectorMetrics(Store& store);
  ~CollectorMetrics();

  void count_results(std::size_t accepted, std::size_t duplicates);
  void count_reject(const std::string& reason);
  void observe_commit(double seconds);
  // Alert delivery: every failed send attempt (gave_up: the message will not be retried),
  // and alert commits the store refused.
  void count_alert_send_failure(const std::string& channel, bool gave_up);
  void count_alert_store_error();
  // Agentless SSH targets: every round, by how its session went.
  void count_ssh_round(const std::string& target, const std::string& outcome);

  // Prometheus text exposition format 0.0.4.
  std::string render();

 private:
  Store& store_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter* accepted_;
  prometheus::Counter* duplicates_;
  prometheus::Counter* batches_;
  prometheus::Family<prometheus::Counter>* rejects_;
  prometheus::Histogram* commit_;
  prometheus::Family<prometheus::Counter>* alert_send_failures_;
  prometheus::Counter* alert_store_errors_;
  prometheus::Family<prometheus::Counter>* ssh_rounds_;
};

// A Prometheus label name from any string: [a-zA-Z_][a-zA-Z0-9_]*, others become '_'.
std::string prometheus_label_name(const std::string& name);

}  // namespace xj
