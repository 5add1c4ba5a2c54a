// AlertPipeline: what the collector calls after each committed batch. Results go through the
// rule engine; each state change and the messages it causes (rendered, routed, split to the
// channel's byte limit) are committed to the AlertStore in one transaction; the sender is then
// woken. Thread-safe: ingest threads and the tick thread share one engine under a mutex.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "xj/alerts/alert_store.hpp"
#include "xj/alerts/alerts_config.hpp"
#include "xj/alerts/rule_engine.hpp"

namespace xj::alerts {

class AlertPipeline {
 public:
  using Clock = std::function<std::int64_t()>;
  // max_text_bytes: per channel name, the longest text it takes (Channel::max_text_bytes).
  AlertPipeline(AlertStore& store, AlertsConfig config,
                std::map<std::string, std::size_t> max_text_bytes, Clock clock);

  // Loads the active alerts from the store (call once, before the first result).
  void restore();
  // Results of one committed batch of a host. Returns the messages enqueued.
  std::size_t on_results(const Subject& subject, const std::vector<Result>& results);
  // No-data detection; call every few seconds.
  std::size_t tick();
  // Called after messages were committed (wakes the sender).
  void set_on_enqueued(std::function<void()> f) { on_enqueued_ = std::move(f); }
  // Called when a commit to the store failed (a counter in /metrics).
  void set_on_store_error(std::function<void()> f) { on_store_error_ = std::move(f); }

  std::vector<Alert> active();

 private:
  std::size_t apply(const std::vector<AlertEvent>& events);
  std::vector<std::string> channels_for(const Alert& a) const;

  AlertStore& store_;
  AlertsConfig cfg_;
  std::map<std::string, std::size_t> max_bytes_;
  Clock clock_;
  std::mutex mu_;
  RuleEngine engine_;
  std::function<void()> on_enqueued_;
  std::function<void()> on_store_error_;
};

}  // namespace xj::alerts
