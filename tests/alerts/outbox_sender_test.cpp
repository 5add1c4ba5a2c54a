// The sender against a scripted channel and the in-memory store, with an injected clock.
#include <catch2/catch.hpp>
#include <deque>

#include "memory_alert_store.hpp"
#include "xj/alerts/outbox_sender.hpp"

using namespace xj;
using namespace xj::alerts;
using xj::alerts::test::MemoryAlertStore;

namespace {

constexpr std::int64_t kT0 = 1'760'000'000'000;

// Answers from a script (delivered unless told otherwise) and records what it was sent.
class ScriptedChannel final : public Channel {
 public:
  ScriptedChannel(std::string name, int rate, std::deque<SendOutcome>* script,
                  std::vector<std::string>* sent)
      : script_(script), sent_(sent) {
    cfg_.name = std::move(name);
    cfg_.type = "wecom";
    cfg_.rate_per_minute = rate;
  }
  const ChannelConfig& config() const override { return cfg_; }
  std::size_t max_text_bytes() const override { return 4096; }
  SendOutcome send(const OutboxMessage& m) override {
    sent_->push_back(m.idempotency_key);
    if (script_->empty()) return SendOutcome{true, true, 0, ""};
    SendOutcome o = script_->front();
    script_->pop_front();
    return o;
  }

 private:
  ChannelConfig cfg_;
  std::deque<SendOutcome>* script_;
  std::vector<std::string>* sent_;
};

struct Rig {
  std::int64_t now = kT0;
  MemoryAlertStore store;
  std::deque<SendOutcome> script;
  std::vector<std::string> sent;
  int failures = 0;
  std::unique_ptr<OutboxSender> sender;

  explicit Rig(int rate = 20, SenderOptions o = {}) {
    std::map<std::string, std::unique_ptr<Channel>> chans;
    chans["ops"] = std::make_unique<ScriptedChannel>("ops", rate, &script, &sent);
    sender = std::make_unique<OutboxSender>(store, std::move(chans), o, [this] { return now; },
                                            [this](const std::string&, bool) { ++failures; });
  }
  void enqueue(const std::string& key) {
    OutboxMessage m;
    m.idempotency_key = key;
    m.channel = "ops";
    m.text = key;
    m.created_ms = now;
    m.next_attempt_ms = now;
    store.commit({}, {m});
  }
};

SendOutcome failure(std::string err, std::int64_t retry_after = 0) {
  return SendOutcome{false, true, retry_after, std::move(err)};
}

}  // namespace

TEST_CASE("a delivered message is recorded with its attempts and latency") {
  Rig r;
  r.enqueue("a");
  r.now += 250;
  CHECK(r.sender->run_once() == 1);
  const auto& m = r.store.outbox.at(0);
  CHECK(m.status == DeliveryStatus::kDelivered);
  CHECK(m.attempts == 1);
  CHECK(m.latency_ms == 250);
  CHECK(r.sender->run_once() == 0);  // and never sent again
  CHECK(r.sent.size() == 1);
}

TEST_CASE("a failed send is retried with exponential backoff and its error kept") {
  SenderOptions o;
  o.backoff_initial = std::chrono::seconds(2);
  Rig r(20, o);
  r.script = {failure("HTTP 500"), failure("HTTP 500"), failure("HTTP 500")};
  r.enqueue("a");
  CHECK(r.sender->run_once() == 0);
  CHECK(r.store.outbox[0].last_error == "HTTP 500");
  CHECK(r.store.outbox[0].next_attempt_ms == kT0 + 2000);
  r.now += 1999;
  r.sender->run_once();
  CHECK(r.sent.size() == 1);  // not due yet
  r.now = kT0 + 2000;
  r.sender->run_once();
  CHECK(r.store.outbox[0].next_attempt_ms == r.now + 4000);
  r.now += 4000;
  r.sender->run_once();
  CHECK(r.store.outbox[0].next_attempt_ms == r.now + 8000);
  r.now += 8000;
  CHECK(r.sender->run_once() == 1);
  CHECK(r.store.outbox[0].attempts == 4);
  CHECK(r.store.outbox[0].last_error.empty());
  CHECK(r.failures == 3);
}

TEST_CASE("a rate-limited answer holds the whole channel for the time the service asked") {
  Rig r;
  r.script = {failure("errcode 45009 api freq out of limit", 60'000)};
  r.enqueue("a");
  r.enqueue("b");
  r.sender->run_once();
  r.now += 30'000;
  CHECK(r.sender->run_once() == 0);
  r.now += 30'000;
  CHECK(r.sender->run_once() == 2);
  CHECK(r.sent == std::vector<std::string>{"a", "a", "b"});
}

TEST_CASE("a channel delivers in order: a later message never overtakes a failing one") {
  Rig r;
  r.script = {failure("HTTP 500")};
  r.enqueue("firing");
  r.enqueue("resolved");
  r.sender->run_once();
  CHECK(r.sent == std::vector<std::string>{"firing"});
  r.now += 600'000;
  r.sender->run_once();
  CHECK(r.sent == std::vector<std::string>{"firing", "firing", "resolved"});
}

TEST_CASE("never more than rate_per_minute messages go to a channel in any minute") {
  Rig r(20);
  for (int i = 0; i < 50; ++i) r.enqueue("m" + std::to_string(i));
  std::vector<std::int64_t> times;
  for (int step = 0; step < 400; ++step) {  // 200 s in half-second steps
    std::size_t before = r.sent.size();
    r.sender->run_once();
    for (std::size_t i = before; i < r.sent.size(); ++i) times.push_back(r.now);
    r.now += 500;
  }
  REQUIRE(times.size() == 50);
  for (std::size_t i = 20; i < times.size(); ++i) CHECK(times[i] - times[i - 20] >= 60'000);
  for (const auto& m : r.store.outbox) CHECK(m.attempts == 1);  // waiting is not a failed attempt
}

TEST_CASE("a message is marked failed after max_attempts and stops blocking its channel") {
  SenderOptions o;
  o.max_attempts = 2;
  o.backoff_initial = std::chrono::seconds(1);
  Rig r(20, o);
  r.script = {failure("x"), failure("x")};
  r.enqueue("a");
  r.enqueue("b");
  r.sender->run_once();
  r.now += 1000;
  r.sender->run_once();
  CHECK(r.store.outbox[0].status == DeliveryStatus::kFailed);
  CHECK(r.store.outbox[1].status == DeliveryStatus::kDelivered);
}

TEST_CASE("backoff doubles up to its maximum") {
  MemoryAlertStore s;
  SenderOptions o;
  o.backoff_initial = std::chrono::seconds(1);
  o.backoff_max = std::chrono::seconds(10);
  OutboxSender sender(s, {}, o, [] { return kT0; });
  CHECK(sender.backoff_ms(1) == 1000);
  CHECK(sender.backoff_ms(2) == 2000);
  CHECK(sender.backoff_ms(4) == 8000);
  CHECK(sender.backoff_ms(5) == 10000);
  CHECK(sender.backoff_ms(40) == 10000);
}
