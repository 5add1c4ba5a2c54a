// ShipperLoop: runs the Shipper on its own thread against the collector over HTTP(S), waking
// when results arrive, sleeping through backoffs, stopping promptly on request.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "xj/agent/config.hpp"
#include "xj/agent/shipper.hpp"

namespace xj {

class AgentMetrics;

class ShipperLoop {
 public:
  ShipperLoop(Spool& spool, const AgentConfig& cfg, AgentMetrics* metrics);
  ~ShipperLoop();  // stops
  ShipperLoop(const ShipperLoop&) = delete;
  ShipperLoop& operator=(const ShipperLoop&) = delete;

  void start();
  void notify();  // new results in the spool
  void stop();    // abandons a request in flight; results stay spooled

 private:
  void run();

  Spool& spool_;
  CollectorLink link_;
  AgentMetrics* metrics_;
  Shipper shipper_;
  std::atomic<bool> cancel_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool pending_ = false;
  std::thread thread_;
};

}  // namespace xj
