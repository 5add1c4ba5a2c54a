// Channels against tests/fixtures/robot_receiver.py, which stands in for the real WeCom,
// DingTalk and Feishu services and enforces their documented protocol (keys, signatures and
// timestamps, byte limits, error codes).
#include <catch2/catch.hpp>
#include <unistd.h>

#include "memory_alert_store.hpp"
#include "robot_receiver.hpp"
#include "xj/alerts/channel.hpp"
#include "xj/alerts/outbox_sender.hpp"

using namespace xj;
using namespace xj::alerts;
using xj::alerts::test::MemoryAlertStore;
using xj::alerts::test::scratch;
using xj::alerts::test::wall;
using xj::alerts::test::RobotReceiver;
namespace fs = std::filesystem;

namespace {

OutboxMessage message(const std::string& key, std::string text) {
  OutboxMessage m;
  m.idempotency_key = key;
  m.channel = "ops";
  m.text = std::move(text);
  m.created_ms = wall();
  return m;
}

ChannelConfig robot(const std::string& type, const RobotReceiver& rx) {
  ChannelConfig c;
  c.name = "ops";
  c.type = type;
  c.timeout = std::chrono::seconds(5);
  if (type == "wecom") {
    c.url = rx.base() + "/cgi-bin/webhook/send";
    c.key = "wecom-key";
  } else if (type == "dingtalk") {
    c.url = rx.base() + "/robot/send";
    c.key = "ding-token";
    c.secret = "SECdingsecret";
  } else {
    c.url = rx.base() + "/open-apis/bot/v2/hook/";
    c.key = "feishu-token";
    c.secret = "feishusecret";
  }
  return c;
}

}  // namespace

TEST_CASE("wecom delivers a markdown message with its idempotency key") {
  RobotReceiver rx(scratch("wecom-ok"));
  auto ch = make_channel(robot("wecom", rx), wall);
  auto o = ch->send(message("fp/1/firing/ops/#1", "### 【严重】db-01 磁盘"));
  CHECK(o.delivered);
  auto got = rx.accepted("wecom");
  REQUIRE(got.size() == 1);
  CHECK(got[0]["key"] == "fp/1/firing/ops/#1");
  CHECK(got[0]["content"] == "### 【严重】db-01 磁盘");
}

TEST_CASE("wecom answering HTTP 200 with a non-zero errcode is a failure, not a delivery") {
  RobotReceiver rx(scratch("wecom-badkey"));
  auto cfg = robot("wecom", rx);
  cfg.key = "not-the-key";
  auto o = make_channel(cfg, wall)->send(message("k", "text"));
  CHECK_FALSE(o.delivered);
  CHECK_THAT(o.error, Catch::Contains("errcode 93000"));
  CHECK_THAT(o.error, !Catch::Contains("not-the-key"));  // the key is a secret
}

TEST_CASE("wecom refuses markdown over 4096 bytes with 40058, and split parts all get through") {
  RobotReceiver rx(scratch("wecom-long"));
  auto ch = make_channel(robot("wecom", rx), wall);
  std::string text;
  while (text.size() < 6000) text += "> 磁盘 /data 使用率 93%，严重阈值 90\n";
  auto whole = ch->send(message("whole", text));
  CHECK_FALSE(whole.delivered);
  CHECK_THAT(whole.error, Catch::Contains("40058"));
  auto parts = split_utf8(text, ch->max_text_bytes());
  REQUIRE(parts.size() == 2);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    CHECK(ch->send(message("part" + std::to_string(i), parts[i])).delivered);
  }
  std::string joined;
  for (auto& e : rx.accepted("wecom")) joined += e["content"].get<std::string>();
  CHECK(joined == text);
}

TEST_CASE("wecom rate limited with 45009 for a while: retried later and delivered once") {
  RobotReceiver rx(scratch("wecom-45009"), {"--fail", "2", "--fail-mode", "45009"});
  std::int64_t now = wall();
  MemoryAlertStore store;
  std::map<std::string, std::unique_ptr<Channel>> chans;
  chans["ops"] = make_channel(robot("wecom", rx), wall);
  OutboxSender sender(store, std::move(chans), {}, [&] { return now; });
  store.commit({}, {message("k1", "告警"), message("k2", "恢复")});
  for (auto& m : store.outbox) m.next_attempt_ms = now;
  sender.run_once();
  CHECK(store.outbox[0].status == DeliveryStatus::kPending);
  CHECK_THAT(store.outbox[0].last_error, Catch::Contains("45009"));
  // The service asked for a pause: nothing is sent before a minute has passed.
  now += 30'000;
  sender.run_once();
  CHECK(rx.accepted("wecom").empty());
  for (int i = 0; i < 3; ++i) {
    now += 61'000;
    sender.run_once();
  }
  auto got = rx.accepted("wecom");
  REQUIRE(got.size() == 2);
  CHECK(got[0]["key"] == "k1");  // in order
  CHECK(got[1]["key"] == "k2");
  CHECK(store.outbox[0].status == DeliveryStatus::kDelivered);
  CHECK(store.outbox[0].attempts == 3);
}

TEST_CASE("a robot answering HTTP 500 for a while: retried with backoff and delivered once") {
  RobotReceiver rx(scratch("wecom-500"), {"--fail", "3", "--fail-mode", "500"});
  std::int64_t now = wall();
  MemoryAlertStore store;
  std::map<std::string, std::unique_ptr<Channel>> chans;
  chans["ops"] = make_channel(robot("wecom", rx), wall);
  OutboxSender sender(store, std::move(chans), {}, [&] { return now; });
  store.commit({}, {message("k1", "告警")});
  store.outbox[0].next_attempt_ms = now;
  for (int i = 0; i < 10 && store.outbox[0].status == DeliveryStatus::kPending; ++i) {
    sender.run_once();
    now += 120'000;
  }
  CHECK(store.outbox[0].status == DeliveryStatus::kDelivered);
  CHECK(store.outbox[0].attempts == 4);
  CHECK(rx.accepted("wecom").size() == 1);
}

TEST_CASE("dingtalk signs its requests and the receiver verifies signature and timestamp") {
  RobotReceiver rx(scratch("dingtalk"));
  CHECK(make_channel(robot("dingtalk", rx), wall)->send(message("k", "### 告警\n> 主机 db-01")).delivered);
  REQUIRE(rx.accepted("dingtalk").size() == 1);
  CHECK(rx.accepted("dingtalk")[0]["content"] == "### 告警\n> 主机 db-01");

  auto wrong = robot("dingtalk", rx);
  wrong.secret = "SECwrong";
  auto o = make_channel(wrong, wall)->send(message("k2", "x"));
  CHECK_FALSE(o.delivered);
  CHECK_THAT(o.error, Catch::Contains("errcode 310000"));
  // A timestamp two hours old is refused even with the right secret.
  auto stale = make_channel(robot("dingtalk", rx), [] { return wall() - 2 * 3600 * 1000; });
  CHECK_FALSE(stale->send(message("k3", "x")).delivered);
}

TEST_CASE("feishu signs its requests and a bad signature is code 19021") {
  RobotReceiver rx(scratch("feishu"));
  CHECK(make_channel(robot("feishu", rx), wall)->send(message("k", "**告警** db-01")).delivered);
  REQUIRE(rx.accepted("feishu").size() == 1);
  auto wrong = robot("feishu", rx);
  wrong.secret = "nope";
  auto o = make_channel(wrong, wall)->send(message("k2", "x"));
  CHECK_FALSE(o.delivered);
  CHECK_THAT(o.error, Catch::Contains("code 19021"));
}

TEST_CASE("a robot that cannot be reached is a failure naming the channel") {
  ChannelConfig c;
  c.name = "ops";
  c.type = "wecom";
  c.url = "http://127.0.0.1:1/cgi-bin/webhook/send";
  c.key = "k";
  c.timeout = std::chrono::seconds(2);
  auto o = make_channel(c, wall)->send(message("k", "x"));
  CHECK_FALSE(o.delivered);
  CHECK_THAT(o.error, Catch::Contains("wecom channel 'ops'"));
}
