#include "xj/collector/alerting.hpp"

#include <spdlog/spdlog.h>

#include "xj/collector/collector_metrics.hpp"
#include "xj/collector/sqlite_alert_store.hpp"

namespace xj {

Expected<std::unique_ptr<Alerting>> Alerting::open(const CollectorConfig& cfg, CollectorMetrics* metrics) {
  auto store = open_sqlite_alert_store(cfg.store_path);
  if (!store) return Error{store.error()};
  std::unique_ptr<Alerting> a(new Alerting());
  a->store_ = std::move(store).value();
  std::map<std::string, std::unique_ptr<alerts::Channel>> channels;
  std::map<std::string, std::size_t> limits;
  for (const auto& c : cfg.alerts.channels) {
    auto ch = alerts::make_channel(c, [] { return now_epoch_ms(); });
    limits[c.name] = ch->max_text_bytes();
    channels[c.name] = std::move(ch);
  }
  a->pipeline_ = std::make_unique<alerts::AlertPipeline>(*a->store_, cfg.alerts, limits,
                                                         [] { return now_epoch_ms(); });
  a->pipeline_->restore();
  Alerting* self = a.get();
  a->pipeline_->set_on_enqueued([self] { self->wake(); });
  if (metrics != nullptr) {
    a->pipeline_->set_on_store_error([metrics] { metrics->count_alert_store_error(); });
  }
  alerts::OutboxSender::OnFailure on_failure;
  if (metrics != nullptr) {
    on_failure = [metrics](const std::string& ch, bool gave_up) {
      metrics->count_alert_send_failure(ch, gave_up);
    };
  }
  a->sender_ = std::make_unique<alerts::OutboxSender>(*a->store_, std::move(channels), cfg.alerts.sender,
                                                      [] { return now_epoch_ms(); }, on_failure);
  spdlog::info("event=alerting_started channels={} routes={} active_alerts={}", cfg.alerts.channels.size(),
               cfg.alerts.routes.size(), a->pipeline_->active().size());
  return a;
}

Alerting::~Alerting() { stop(); }

void Alerting::on_batch(const IngestBatch& batch) {
  std::vector<Result> results;
  results.reserve(batch.results.size());
  for (const auto& sr : batch.results) results.push_back(sr.result);
  if (results.empty()) return;
  pipeline_->on_results(alerts::Subject{batch.agent.id, batch.agent.labels}, results);
}

void Alerting::wake() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

void Alerting::start() { thread_ = std::thread([this] { loop(); }); }

void Alerting::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Alerting::loop() {
  // Pending messages left by a previous run go out first: the outbox is the source of truth.
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    pipeline_->tick();
    sender_->run_once();
    std::int64_t wait_ms = 1000;  // the no-data tick needs no finer grain
    if (auto next = sender_->next_wakeup()) {
      wait_ms = std::clamp<std::int64_t>(*next - now_epoch_ms(), 0, wait_ms);
    }
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return stopping_ || wake_; });
    wake_ = false;
  }
}

}  // namespace xj
