#include "xj/agent/shipper_loop.hpp"

#include <spdlog/spdlog.h>

#include "xj/agent/agent_metrics.hpp"
#include "xj/common/http_client.hpp"

namespace xj {
namespace {

PostFn http_post(const CollectorLink& link, const std::atomic<bool>* cancel) {
  std::string url = link.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/api/v1/results";
  return [link, url, cancel](const std::string& body) -> Expected<PostReply> {
    HttpClientRequest req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Authorization", "Bearer " + link.token}, {"Content-Type", "application/json"}};
    req.body = body;
    req.timeout = link.timeout;
    req.ca_file = link.ca_file;
    req.cert_file = link.cert_file;
    req.key_file = link.key_file;
    req.max_body = 64 * 1024;
    req.cancel = cancel;
    auto resp = http_request(req);
    if (!resp) return make_error(resp.error());
    return PostReply{resp->status, resp->body};
  };
}

nlohmann::json agent_identity(const AgentConfig& cfg) {
  return {{"id", cfg.id}, {"hostname", local_hostname()}, {"version", XJ_VERSION}, {"labels", cfg.labels}};
}

ShipperOptions options_of(const CollectorLink& link) {
  ShipperOptions o;
  o.max_batch_results = link.batch_size;
  o.heartbeat = link.heartbeat;
  return o;
}

}  // namespace

ShipperLoop::ShipperLoop(Spool& spool, const AgentConfig& cfg, AgentMetrics* metrics)
    : spool_(spool),
      link_(cfg.collector),
      metrics_(metrics),
      shipper_(spool, agent_identity(cfg), http_post(cfg.collector, &cancel_), options_of(cfg.collector)) {}

ShipperLoop::~ShipperLoop() { stop(); }

void ShipperLoop::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void ShipperLoop::notify() {
  {
    std::lock_guard lock(mu_);
    pending_ = true;
  }
  cv_.notify_one();
}

void ShipperLoop::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cancel_ = true;
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void ShipperLoop::run() {
  spdlog::info("event=shipper_started collector={} backlog={}", link_.url, spool_.depth());
  bool failing = false;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    pending_ = false;
    lock.unlock();
    Shipper::Step step = shipper_.step(std::chrono::steady_clock::now());
    lock.lock();
    if (stopping_) break;
    switch (step.outcome) {
      case Shipper::Outcome::kShipped:
      case Shipper::Outcome::kHeartbeat:
        if (metrics_ != nullptr && step.acked > 0) metrics_->shipped(step.acked);
        if (failing) {
          spdlog::info("event=shipping_resumed collector={} backlog={}", link_.url, spool_.depth());
          failing = false;
        }
        if (spool_.depth() > 0) continue;  // more to send: go on at once
        break;
      case Shipper::Outcome::kSplit:
        spdlog::warn("event=ship_batch_split reason=\"{}\"", step.error);
        continue;
      case Shipper::Outcome::kQuarantined:
        if (metrics_ != nullptr) metrics_->quarantined();
        continue;
      case Shipper::Outcome::kRetry:
        if (metrics_ != nullptr) metrics_->ship_failed();
        if (!failing) {
          spdlog::warn("event=ship_failed collector={} error=\"{}\" backlog={} note=\"results stay "
                       "in the spool; retrying with backoff\"",
                       link_.url, step.error, spool_.depth());
          failing = true;
        }
        break;
      case Shipper::Outcome::kIdle:
        break;
    }
    // Wait for the step's delay; new results cut an idle wait short, never a backoff.
    const bool backing_off = step.outcome == Shipper::Outcome::kRetry;
    cv_.wait_for(lock, step.wait, [&] { return stopping_ || (pending_ && !backing_off); });
    // Woken by new results: let a batch gather for batch_age rather than posting each one.
    if (pending_ && !stopping_ && !backing_off) {
      cv_.wait_for(lock, link_.batch_age, [&] { return stopping_; });
    }
  }
  spdlog::info("event=shipper_stopped backlog={}", spool_.depth());
}

}  // namespace xj
