// Grouping and the storm digest (OutboxSender) with an injected clock: rows written one per
// message as the pipeline writes them, combined only when the sender works the outbox.
#include <catch2/catch.hpp>
#include <deque>
#include <regex>

#include "memory_alert_store.hpp"
#include "xj/alerts/group_message.hpp"
#include "xj/alerts/outbox_sender.hpp"

using namespace xj;
using namespace xj::alerts;
using xj::alerts::test::MemoryAlertStore;

namespace {

constexpr std::int64_t kT0 = 1'760'000'000'000;

// What a robot received: the whole message, as the channel got it.
struct Got {
  std::int64_t at = 0;
  OutboxMessage m;
};

// A WeCom-like robot: 4096 bytes, a rate per minute it enforces itself (a send over it is a
// test failure, recorded), and a script of failures.
class RecordingRobot final : public Channel {
 public:
  RecordingRobot(int rate, std::vector<Got>* got, std::deque<SendOutcome>* script, const std::int64_t* now)
      : got_(got), script_(script), now_(now) {
    cfg_.name = "ops";
    cfg_.type = "wecom";
    cfg_.rate_per_minute = rate;
  }
  const ChannelConfig& config() const override { return cfg_; }
  std::size_t max_text_bytes() const override { return 4096; }
  SendOutcome send(const OutboxMessage& m) override {
    if (m.text.size() > 4096) over_limit = true;
    if (!script_->empty()) {
      SendOutcome o = script_->front();
      script_->pop_front();
      return o;
    }
    got_->push_back({*now_, m});
    return SendOutcome{true, true, 0, ""};
  }
  bool over_limit = false;

 private:
  ChannelConfig cfg_;
  std::vector<Got>* got_;
  std::deque<SendOutcome>* script_;
  const std::int64_t* now_;
};

struct Rig {
  std::int64_t now = kT0;
  MemoryAlertStore store;
  std::vector<Got> got;
  std::deque<SendOutcome> script;
  RecordingRobot* robot = nullptr;
  std::unique_ptr<OutboxSender> sender;

  explicit Rig(SenderOptions o = {}, int rate = 20) {
    o.backoff_initial = std::chrono::seconds(2);
    std::map<std::string, std::unique_ptr<Channel>> chans;
    auto r = std::make_unique<RecordingRobot>(rate, &got, &script, &now);
    robot = r.get();
    chans["ops"] = std::move(r);
    sender = std::make_unique<OutboxSender>(store, std::move(chans), o, [this] { return now; });
  }
  // One alert transition, as AlertPipeline writes it.
  void alert(const std::string& host, const std::string& check, const std::string& severity = "critical",
             const std::string& transition = "firing", const std::string& system = "平台",
             const std::string& summary = "down") {
    OutboxMessage m;
    m.fingerprint = "status/" + host + "/" + check;
    m.transition = transition;
    m.idempotency_key = idempotency_key(m.fingerprint, kT0, transition, "ops", "", 1);
    m.channel = "ops";
    m.text = "### " + host + " " + check + " " + transition;
    m.fields = {{"host", host}, {"check", check}, {"severity", severity}, {"system", system}, {"summary", summary}};
    m.created_ms = now;
    m.next_attempt_ms = now;
    store.commit({}, {m});
  }
  void notice(const std::string& key) {
    OutboxMessage m;
    m.fingerprint = "INC-0001";
    m.transition = "opened";
    m.idempotency_key = key;
    m.channel = "ops";
    m.text = key;
    m.created_ms = now;
    m.next_attempt_ms = now;
    store.commit({}, {m});
  }
  void advance(std::int64_t ms) { now += ms; }
  std::size_t run() { return sender->run_once(); }
  std::size_t delivered() const {
    return static_cast<std::size_t>(std::count_if(store.outbox.begin(), store.outbox.end(), [](const auto& m) {
      return m.status == DeliveryStatus::kDelivered;
    }));
  }
  // How many outbox rows the received messages stand for.
  std::size_t accounted() const {
    std::size_t n = 0;
    for (const auto& g : got) n += g.m.members.empty() ? 1 : g.m.members.size();
    return n;
  }
};

SenderOptions grouping(std::int64_t window_ms, std::vector<std::string> by = {"host"}, int threshold = 20) {
  SenderOptions o;
  o.grouping.window = std::chrono::milliseconds(window_ms);
  o.grouping.by = std::move(by);
  o.storm.threshold = threshold;
  return o;
}

// The numbers after the severity words of a digest's count line ("严重 12，警告 30").
std::size_t count_after(const std::string& text, const std::string& word) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(word + " ([0-9]+)"))) return 0;
  return std::stoul(m[1]);
}

}  // namespace

TEST_CASE("grouping: the first alert of a quiet host goes at once, the rest of its window together when it closes") {
  Rig r(grouping(10'000));
  r.alert("db-01", "host:alive");
  CHECK(r.run() == 1);  // no added delay for the first
  REQUIRE(r.got.size() == 1);
  CHECK(r.got[0].m.members.empty());
  CHECK(r.got[0].m.text == "### db-01 host:alive firing");  // its own text, unchanged

  r.advance(1'000);
  for (int i = 0; i < 11; ++i) r.alert("db-01", "disk:/d" + std::to_string(i));
  r.advance(1'000);
  r.alert("web-01", "proc:nginx");  // another host: its own quiet group, at once
  CHECK(r.run() == 1);
  REQUIRE(r.got.size() == 2);
  CHECK(r.got[1].m.text == "### web-01 proc:nginx firing");
  CHECK(r.sender->next_wakeup() == kT0 + 10'000);  // db-01's window closes then

  r.now = kT0 + 9'999;
  CHECK(r.run() == 0);
  r.now = kT0 + 10'000;
  CHECK(r.run() == 11);
  REQUIRE(r.got.size() == 3);
  const auto& g = r.got[2].m;
  INFO(g.text);
  CHECK(g.members.size() == 11);
  CHECK(g.transition == "group");
  CHECK_THAT(g.idempotency_key, Catch::StartsWith("group-11-"));
  CHECK_THAT(g.text, Catch::StartsWith("### 【严重】db-01：11 条告警消息"));
  CHECK_THAT(g.text, Catch::Contains("> 严重 11"));
  for (int i = 0; i < 11; ++i) CHECK_THAT(g.text, Catch::Contains("db-01 disk:/d" + std::to_string(i)));
  CHECK(r.delivered() == 13);
  // Each row keeps its own latency: the held ones waited for the window, the first did not.
  CHECK(r.store.outbox.at(0).latency_ms == 0);
  CHECK(r.store.outbox.at(1).latency_ms == 9'000);
  CHECK(r.store.outbox.at(12).latency_ms == 0);
}

TEST_CASE("grouping: alerts committed together go out at once as one message") {
  Rig r(grouping(10'000));
  for (int i = 0; i < 12; ++i) r.alert("db-01", "check-" + std::to_string(i), i == 3 ? "critical" : "warning");
  CHECK(r.run() == 12);
  REQUIRE(r.got.size() == 1);
  INFO(r.got[0].m.text);
  CHECK_THAT(r.got[0].m.text, Catch::Contains("【严重】db-01：12 条告警消息"));
  CHECK_THAT(r.got[0].m.text, Catch::Contains("严重 1，警告 11"));
  // The most severe is listed first.
  CHECK(r.got[0].m.text.find("db-01 check-3") < r.got[0].m.text.find("db-01 check-0"));
  CHECK(r.got[0].m.fields.at("severity") == "critical");
  CHECK(r.got[0].m.fields.at("host") == "db-01");
}

TEST_CASE("grouping: window 0 sends every alert as its own message") {
  Rig r(grouping(0));
  for (int i = 0; i < 5; ++i) r.alert("db-01", "check-" + std::to_string(i));
  CHECK(r.run() == 5);
  REQUIRE(r.got.size() == 5);
  for (const auto& g : r.got) CHECK(g.m.members.empty());
  CHECK(r.got[4].m.text == "### db-01 check-4 firing");
}

TEST_CASE("grouping by system: the hosts of one system share a window") {
  Rig r(grouping(10'000, {"system"}));
  r.alert("db-01", "host:alive", "critical", "firing", "平台A");
  CHECK(r.run() == 1);
  r.advance(500);
  r.alert("db-02", "host:alive", "critical", "firing", "平台A");
  r.alert("web-01", "host:alive", "warning", "firing", "平台B");
  r.alert("db-03", "host:alive", "warning", "firing", "平台A");
  CHECK(r.run() == 1);  // 平台B is quiet: at once; 平台A is held
  REQUIRE(r.got.size() == 2);
  CHECK(r.got[1].m.fields.at("host") == "web-01");
  r.now = kT0 + 10'000;
  CHECK(r.run() == 2);
  REQUIRE(r.got.size() == 3);
  INFO(r.got[2].m.text);
  CHECK_THAT(r.got[2].m.text, Catch::StartsWith("### 【严重】平台A：2 条告警消息"));
  CHECK(r.got[2].m.fields.at("system") == "平台A");
  CHECK(r.got[2].m.fields.count("host") == 0);  // two hosts: none named
}

TEST_CASE("incident notices are never grouped or held") {
  Rig r(grouping(10'000));
  r.alert("db-01", "a");
  CHECK(r.run() == 1);
  r.alert("db-01", "b");  // held by db-01's window
  r.notice("INC-0001/0/opened/ops/#1");
  r.notice("INC-0002/0/opened/ops/#1");
  CHECK(r.run() == 2);
  REQUIRE(r.got.size() == 3);
  CHECK(r.got[1].m.idempotency_key == "INC-0001/0/opened/ops/#1");
  CHECK(r.got[2].m.idempotency_key == "INC-0002/0/opened/ops/#1");
}

TEST_CASE("storm: over the threshold the channel gets one digest that accounts for every alert") {
  Rig r(grouping(10'000, {"host"}, 20));
  for (int i = 0; i < 50; ++i) r.alert("host-" + std::to_string(i), "host:alive", i < 5 ? "critical" : "warning");
  CHECK(r.run() == 50);
  REQUIRE(r.got.size() == 1);
  const auto& d = r.got[0].m;
  INFO(d.text);
  CHECK(d.transition == "digest");
  CHECK(d.members.size() == 50);
  CHECK_THAT(d.text, Catch::StartsWith("### 【告警风暴】50 条告警消息合并为摘要"));
  CHECK_THAT(d.text, Catch::Contains("> 严重 5，警告 45"));
  CHECK_THAT(d.text, Catch::Contains("主机（50 台）"));
  CHECK_THAT(d.text, Catch::Contains("平台 50"));

  // Still stormy: more alerts wait for the digest interval, then go as the next digest.
  r.advance(1'000);
  for (int i = 0; i < 5; ++i) r.alert("late-" + std::to_string(i), "host:alive");
  CHECK(r.run() == 0);
  CHECK(r.sender->next_wakeup() == kT0 + 10'000);
  r.now = kT0 + 10'000;
  CHECK(r.run() == 5);
  REQUIRE(r.got.size() == 2);
  CHECK(r.got[1].m.transition == "digest");  // 55 in the last minute: still a storm
  CHECK(r.got[1].m.members.size() == 5);

  // A minute without alerts: the storm has subsided, a new alert is a message of its own.
  r.now = kT0 + 80'000;
  r.alert("calm-01", "host:alive");
  CHECK(r.run() == 1);
  REQUIRE(r.got.size() == 3);
  CHECK(r.got[2].m.members.empty());
}

TEST_CASE("storm: a digest cut to 4096 bytes still counts every alert") {
  Rig r(grouping(10'000, {"host"}, 20));
  const std::string long_summary(200, 'x');
  for (int i = 0; i < 300; ++i) {
    const std::string sev = i % 3 == 0 ? "critical" : i % 3 == 1 ? "warning" : "unknown";
    r.alert("h" + std::to_string(i % 40), "check-" + std::to_string(i), sev, "firing",
            i % 2 == 0 ? "平台A" : "平台B", long_summary);
  }
  CHECK(r.run() == 300);
  REQUIRE(r.got.size() == 1);
  const std::string& text = r.got[0].m.text;
  INFO(text);
  CHECK(text.size() <= 4096);
  CHECK_FALSE(r.robot->over_limit);
  CHECK(count_after(text, "严重") + count_after(text, "警告") + count_after(text, "未知") == 300);
  CHECK(count_after(text, "严重") == 100);
  CHECK_THAT(text, Catch::Contains("平台A 150、平台B 150"));
  CHECK_THAT(text, Catch::Contains("主机（40 台）"));
  // Five hosts by name, the other 35 summed: the host counts add up to 300 too.
  std::smatch m;
  REQUIRE(std::regex_search(text, m, std::regex("其他 35 个共 ([0-9]+) 条")));
  const std::size_t others = std::stoul(m[1]);
  std::size_t named = 0;
  const std::string hosts_line = text.substr(text.find("主机（"), text.find('\n', text.find("主机（")) - text.find("主机（"));
  const std::regex host_count("h[0-9]+ ([0-9]+)");
  for (auto it = std::sregex_iterator(hosts_line.begin(), hosts_line.end(), host_count);
       it != std::sregex_iterator(); ++it) {
    named += std::stoul((*it)[1]);
  }
  CHECK(named + others == 300);
  // The listing is cut, and says by how much; the most severe come first.
  std::size_t listed = 0;
  for (std::size_t p = text.find("> - 【"); p != std::string::npos; p = text.find("> - 【", p + 1)) ++listed;
  CHECK(listed > 0);
  CHECK(listed < 300);
  CHECK_THAT(text, Catch::Contains("另有 " + std::to_string(300 - listed) + " 条未列出"));
  const bool critical_first = text.find("> - 【严重】") < text.find("> - 【警告】");
  CHECK(critical_first);
}

TEST_CASE("storm: 1,000 alerts over three minutes never exceed the rate limit, and all are accounted for") {
  Rig r(grouping(10'000, {"host"}, 20), 20);
  std::vector<std::int64_t> sends;
  int n = 0;
  for (std::int64_t t = 0; t < 400'000; t += 100) {
    r.now = kT0 + t;
    // 1,000 alerts in the first 180 s, over 100 hosts, then quiet.
    if (t < 180'000 && t % 1'000 == 0) {
      for (int k = 0; k < 6 && n < 1000; ++k, ++n) r.alert("host-" + std::to_string(n % 100), "c" + std::to_string(n));
    }
    const std::size_t before = r.got.size();
    r.run();
    for (std::size_t i = before; i < r.got.size(); ++i) sends.push_back(r.got[i].at);
  }
  CHECK(n == 1000);
  CHECK(r.delivered() == 1000);
  CHECK(r.accounted() == 1000);
  CHECK_FALSE(r.robot->over_limit);
  // No minute anywhere with more than 20 sends.
  for (std::size_t i = 0; i < sends.size(); ++i) {
    std::size_t in_minute = 0;
    for (std::size_t j = i; j < sends.size() && sends[j] < sends[i] + 60'000; ++j) ++in_minute;
    CHECK(in_minute <= 20);
  }
  std::size_t digests = 0;
  for (const auto& g : r.got) digests += g.m.transition == "digest";
  CHECK(digests > 0);
  CHECK(r.got.size() < 100);  // digests, not a thousand messages
}

TEST_CASE("a failed group is retried as a whole, with backoff, under the same key") {
  Rig r(grouping(10'000));
  r.alert("db-01", "a");
  CHECK(r.run() == 1);
  r.alert("db-01", "b");
  r.alert("db-01", "c");
  r.now = kT0 + 10'000;
  r.script.push_back(SendOutcome{false, true, 0, "HTTP 500"});
  CHECK(r.run() == 0);
  CHECK(r.store.outbox.at(1).attempts == 1);
  CHECK(r.store.outbox.at(2).attempts == 1);
  CHECK(r.store.outbox.at(1).next_attempt_ms == kT0 + 12'000);  // backoff.initial 2s
  CHECK(r.store.outbox.at(1).last_error == "HTTP 500");
  r.alert("web-01", "x");  // the channel is held: nothing overtakes the failed group
  r.now = kT0 + 11'999;
  CHECK(r.run() == 0);
  CHECK(r.got.size() == 1);
  r.now = kT0 + 12'000;
  CHECK(r.run() == 3);
  REQUIRE(r.got.size() == 3);
  CHECK(r.got[1].m.members.size() == 2);
  CHECK(r.got[1].m.idempotency_key == combined_key(false, {&r.store.outbox.at(1), &r.store.outbox.at(2)}));
  CHECK(r.store.outbox.at(1).attempts == 2);
  CHECK(r.store.outbox.at(1).status == DeliveryStatus::kDelivered);
  CHECK(r.got[2].m.fields.at("host") == "web-01");
}

TEST_CASE("never a recovery without its alert: a failing firing holds its recovery, which then goes after it") {
  Rig r(grouping(0));
  r.script.push_back(SendOutcome{false, true, 0, "HTTP 500"});
  r.alert("db-01", "a");
  CHECK(r.run() == 0);
  r.advance(500);
  r.alert("db-01", "a", "critical", "resolved");
  CHECK(r.run() == 0);  // held behind its firing
  CHECK(r.got.empty());
  r.now = kT0 + 2'000;
  CHECK(r.run() == 2);
  REQUIRE(r.got.size() == 2);
  CHECK(r.got[0].m.transition == "firing");
  CHECK(r.got[1].m.transition == "resolved");
}

TEST_CASE("never a recovery without its alert: in a group the alert is listed before its recovery") {
  Rig r(grouping(10'000));
  r.alert("db-01", "x");
  CHECK(r.run() == 1);
  r.alert("db-01", "a");
  r.advance(1'000);
  r.alert("db-01", "a", "critical", "resolved");
  r.now = kT0 + 10'000;
  CHECK(r.run() == 2);
  REQUIRE(r.got.size() == 2);
  const std::string& t = r.got[1].m.text;
  INFO(t);
  CHECK_THAT(t, Catch::Contains("严重 1，已恢复 1"));
  CHECK(t.find("【严重】db-01 a") < t.find("【已恢复】db-01 a"));
}

TEST_CASE("storm: recoveries of digested alerts may be digested; each is counted once") {
  Rig r(grouping(10'000, {"host"}, 20));
  for (int i = 0; i < 30; ++i) r.alert("h" + std::to_string(i), "c");
  CHECK(r.run() == 30);
  r.now = kT0 + 10'000;
  for (int i = 0; i < 30; ++i) r.alert("h" + std::to_string(i), "c", "critical", "resolved");
  CHECK(r.run() == 30);
  REQUIRE(r.got.size() == 2);
  CHECK(r.got[1].m.transition == "digest");
  CHECK_THAT(r.got[1].m.text, Catch::Contains("已恢复 30"));
  CHECK_THAT(r.got[1].m.text, Catch::StartsWith("### 【告警风暴】30 条"));
}

TEST_CASE("combined texts come in English from the en templates") {
  std::vector<OutboxMessage> rows(3);
  std::vector<const OutboxMessage*> ptrs;
  for (int i = 0; i < 3; ++i) {
    rows[i].fingerprint = "f" + std::to_string(i);
    rows[i].transition = i == 2 ? "resolved" : "firing";
    rows[i].idempotency_key = "k" + std::to_string(i);
    rows[i].fields = {{"host", "db-01"}, {"check", "c" + std::to_string(i)}, {"severity", "warning"}};
    ptrs.push_back(&rows[i]);
  }
  MessageContext ctx;
  ctx.locale = "en";
  const std::string g = render_combined(ptrs, false, "db-01", ctx, 4096, 0);
  INFO(g);
  CHECK_THAT(g, Catch::StartsWith("### [Warning] db-01: 3 alert messages"));
  CHECK_THAT(g, Catch::Contains("> Warning 2, Resolved 1"));
  ctx.style = TextStyle::kSms;
  const std::string sms = render_combined(ptrs, true, "", ctx, 500, 160);
  CHECK_THAT(sms, Catch::StartsWith("[Alert storm] 3 alert messages: Warning 2, Resolved 1; 1 hosts"));
  CHECK(sms.find('\n') == std::string::npos);
}
