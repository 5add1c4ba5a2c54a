// Personal channels in the pipeline: one message per recipient, the compact SMS text, the
// plain e-mail text, locales per channel; and their config (errors name file, line and key).
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>

#include "memory_alert_store.hpp"
#include "xj/alerts/alert_pipeline.hpp"
#include "xj/alerts/message_template.hpp"
#include "xj/common/config_error.hpp"
#include "xj/common/config_section.hpp"

using namespace xj;
using namespace xj::alerts;
using xj::alerts::test::MemoryAlertStore;

namespace {

constexpr std::int64_t kT0 = 1'760'000'000'000;

ChannelConfig channel(const std::string& name, const std::string& type,
                      std::vector<std::string> to = {}) {
  ChannelConfig c;
  c.name = name;
  c.type = type;
  c.key = "k";
  c.to = std::move(to);
  if (type == "sms_http" || type == "aliyun_sms") {
    c.max_bytes = 500;
    c.max_chars = 70;
  }
  return c;
}

Result disk(Status s, std::int64_t ts, double used) {
  Result r;
  r.check = "disk:/data";
  r.kind = "disk";
  r.status = s;
  r.summary = "/data 93% used";
  r.ts_ms = ts;
  Metric m;
  m.name = "disk.used_pct";
  m.value = used;
  m.unit = "%";
  m.crit = Range::parse_nagios("90").value();
  r.metrics.push_back(m);
  return r;
}

std::vector<OutboxMessage> of_channel(const MemoryAlertStore& s, const std::string& ch) {
  std::vector<OutboxMessage> out;
  for (const auto& m : s.outbox) {
    if (m.channel == ch) out.push_back(m);
  }
  return out;
}

AlertsConfig parse(const std::string& yaml) {
  return parse_alerts_config(ConfigSection(YAML::Load(yaml), "collector.yaml", "alerts"));
}

}  // namespace

TEST_CASE("a personal channel gets one message per recipient, a robot one per group") {
  MemoryAlertStore store;
  AlertsConfig cfg;
  cfg.enabled = true;
  cfg.channels = {channel("ops", "wecom"),
                  channel("sms", "sms_http", {"13800138000", "13900139000"}),
                  channel("mail", "email", {"oncall@example.com"})};
  AlertPipeline p(store, cfg, {{"ops", 4096}, {"sms", 500}, {"mail", 256 * 1024}},
                  [] { return kT0; });
  CHECK(p.on_results({"db-01", {{"system", "政务云"}}}, {disk(Status::kCritical, kT0, 93)}) == 4);
  auto sms = of_channel(store, "sms");
  REQUIRE(sms.size() == 2);
  CHECK(sms[0].recipient == "13800138000");
  CHECK(sms[1].recipient == "13900139000");
  CHECK(sms[0].idempotency_key != sms[1].idempotency_key);  // the recipient is part of the key
  CHECK(sms[0].idempotency_key.find("/13800138000#1") != std::string::npos);
  CHECK(sms[0].fields.at("severity") == "critical");
  CHECK(sms[0].fields.at("host") == "db-01");
  CHECK(sms[0].fields.at("system") == "政务云");
  CHECK(of_channel(store, "ops").at(0).recipient.empty());
}

TEST_CASE("SMS get the compact text within 70 characters, e-mail the text without Markdown marks") {
  MemoryAlertStore store;
  AlertsConfig cfg;
  cfg.enabled = true;
  cfg.channels = {channel("ops", "wecom"), channel("sms", "sms_http", {"13800138000"}),
                  channel("mail", "email", {"oncall@example.com"})};
  AlertPipeline p(store, cfg, {{"sms", 500}, {"mail", 256 * 1024}}, [] { return kT0; });
  p.on_results({"db-01", {}}, {disk(Status::kCritical, kT0, 93)});
  const std::string sms = of_channel(store, "sms").at(0).text;
  INFO(sms);
  CHECK(sms.rfind("【严重】db-01 disk:/data：", 0) == 0);
  CHECK(sms.find("disk.used_pct 93%(严重阈值90)") != std::string::npos);
  CHECK(sms.find("，" + format_local(kT0).substr(5, 11) + "起") !=
        std::string::npos);                     // "12-01 22:03起"
  CHECK(of_channel(store, "sms").size() == 1);  // one SMS, not split
  std::size_t chars = 0;
  for (unsigned char c : sms) chars += (c & 0xC0) != 0x80;
  CHECK(chars <= 70);
  const std::string mail = of_channel(store, "mail").at(0).text;
  INFO(mail);
  CHECK(mail.rfind("【严重】db-01 disk:/data 告警\n", 0) == 0);  // no "### "
  CHECK(mail.find("\n主机：db-01\n") != std::string::npos);      // no "> "
  CHECK(mail.find('#') == std::string::npos);
  const std::string md = of_channel(store, "ops").at(0).text;
  CHECK(md.rfind("### 【严重】", 0) == 0);
}

TEST_CASE("recipients passed with a message replace the channel's static list") {
  // The pipeline's enqueue takes per-channel recipients (for routing and duty rosters); with
  // none given the static `to:` applies. Checked here through repeat reminders' shared path.
  MemoryAlertStore store;
  AlertsConfig cfg;
  cfg.enabled = true;
  cfg.channels = {channel("sms", "sms_http", {})};
  AlertPipeline p(store, cfg, {{"sms", 500}}, [] { return kT0; });
  // No static recipients and none routed: nothing can be sent, and nothing is enqueued.
  CHECK(p.on_results({"db-01", {}}, {disk(Status::kCritical, kT0, 93)}) == 0);
  CHECK(store.outbox.empty());
}

TEST_CASE("the en locale renders every message in English, per channel or for all") {
  MemoryAlertStore store;
  AlertsConfig cfg;
  cfg.enabled = true;
  cfg.message.locale = "en";
  auto zh = channel("zh", "wecom");
  zh.locale = "zh-CN";
  cfg.channels = {channel("ops", "wecom"), zh, channel("sms", "sms_http", {"13800138000"})};
  std::int64_t now = kT0;
  AlertPipeline p(store, cfg, {{"sms", 500}}, [&] { return now; });
  p.on_results({"db-01", {{"system", "gov-cloud"}}}, {disk(Status::kCritical, now, 93)});
  const std::string en = of_channel(store, "ops").at(0).text;
  INFO(en);
  CHECK(en.rfind("### [Critical] db-01 disk:/data alert", 0) == 0);
  CHECK(en.find("> System: gov-cloud") != std::string::npos);
  CHECK(en.find("> Host: db-01") != std::string::npos);
  CHECK(en.find("> Check: disk:/data") != std::string::npos);
  CHECK(en.find("disk.used_pct: 93%, critical at 90") != std::string::npos);
  CHECK(en.find("> Summary: /data 93% used") != std::string::npos);
  for (unsigned char c : en) CHECK(c < 0x80);  // no Chinese left in the English text
  CHECK(of_channel(store, "zh").at(0).text.rfind("### 【严重】", 0) == 0);
  CHECK(of_channel(store, "sms")
            .at(0)
            .text.rfind("[Critical] db-01 disk:/data: disk.used_pct 93% (critical 90)", 0) == 0);
  now += 60'000;
  Result ok = disk(Status::kOk, now, 10);
  p.on_results({"db-01", {{"system", "gov-cloud"}}}, {ok});
  const std::string back = of_channel(store, "ops").at(1).text;
  INFO(back);
  CHECK(back.rfind("### [Resolved] db-01 disk:/data", 0) == 0);
  CHECK(back.find("> Duration: 1m") != std::string::npos);
}

TEST_CASE("every zh-CN message template has an en variant") {
  for (const char* name : {"firing",
                           "resolved",
                           "no_data",
                           "no_data_resolved",
                           "flapping",
                           "flapping_resolved",
                           "incident_opened",
                           "incident_deadline",
                           "incident_state",
                           "level_name",
                           "metric_line",
                           "severity_critical",
                           "severity_warning",
                           "severity_unknown",
                           "timeline_kind",
                           "verdict",
                           "fault_report",
                           "fault_report_alert",
                           "fault_report_line",
                           "sms_firing",
                           "sms_resolved",
                           "sms_no_data",
                           "sms_no_data_resolved",
                           "sms_flapping",
                           "sms_flapping_resolved",
                           "sms_incident_opened",
                           "sms_incident_deadline",
                           "sms_metric_line"}) {
    INFO(name);
    CHECK_FALSE(builtin_message_template("zh-CN", name).empty());
    CHECK_FALSE(builtin_message_template("en", name).empty());
  }
}

TEST_CASE("personal channel config: recipients, SMS limits and the gateway's success criterion") {
  auto cfg = parse(R"(
locale: en
channels:
  - name: sms
    type: sms_http
    url: https://sms.example.gov.cn/api/send
    content_type: form
    headers: {Authorization: "Bearer {{key}}"}
    body: "mobile={{phone}}&content={{text}}"
    success: {status: [200, 201], pointer: /code, equals: 0, permanent: [1001]}
    to: ["13800138000", "+8613900139000"]
    overflow: truncate
  - name: mail
    type: email
    url: smtps://smtp.example.com:465
    from: xunjian@example.com
    to: [oncall@example.com]
    locale: zh-CN
)");
  CHECK(cfg.message.locale == "en");
  const auto& sms = cfg.channels.at(0);
  CHECK(sms.to == std::vector<std::string>{"13800138000", "+8613900139000"});
  CHECK(sms.max_bytes == 500);
  CHECK(sms.max_chars == 70);
  CHECK(sms.truncate);
  CHECK(sms.rate_per_minute == 60);
  CHECK(sms.sms.content_type == "form");
  CHECK(sms.sms.success_status == std::set<int>{200, 201});
  CHECK(sms.sms.success_pointer == "/code");
  CHECK(sms.sms.success_value == "0");
  CHECK(sms.sms.permanent_values.count("1001") == 1);
  const auto& mail = cfg.channels.at(1);
  CHECK(mail.email.from == "xunjian@example.com");
  CHECK(mail.email.verify_tls);
  CHECK(mail.locale == "zh-CN");
}

TEST_CASE("personal channel config errors name the line and the key") {
  auto fails = [](const std::string& yaml, const std::string& want) {
    try {
      parse(yaml);
      FAIL("accepted: " << yaml);
    } catch (const ConfigError& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(want) != std::string::npos);
    }
  };
  fails("channels:\n  - {name: s, type: sms_http, url: 'https://x/', to: ['138-0013']}\n",
        "'138-0013' is not a phone number");
  fails("channels:\n  - {name: m, type: email, url: 'smtp://x:25', from: a@x, to: [nobody]}\n",
        "'nobody' is not an e-mail address");
  fails("channels:\n  - {name: m, type: email, url: 'http://x/', from: a@x}\n",
        "is not an smtp:// or smtps:// URL");
  fails("channels:\n  - {name: m, type: email, url: 'smtp://x:25', from: a@x, password: hunter2}\n",
        "secrets are not written inline");
  fails("channels:\n  - {name: r, type: wecom, key_env: HOME, to: ['13800138000']}\n",
        "'to' is for sms_http");
  fails(
      "channels:\n  - {name: s, type: sms_http, url: 'https://x/', success: {pointer: code, "
      "equals: 0}}\n",
      "'code' is not a JSON pointer");
  fails(
      "channels:\n  - {name: a, type: aliyun_sms, access_key_id: LTAI, access_key_secret_env: "
      "HOME}\n",
      "needs its SignName");
  fails("channels:\n  - {name: s, type: sms_http, url: 'https://x/', secret_file: /x}\n",
        "unknown key 'secret_file'");
  fails("locale: fr\n", "'fr' is not zh-CN or en");
  fails("channels:\n  - {name: s, type: sms_http, url: 'https://x/', method: PUT}\n",
        "'PUT' is not POST or GET");
}

TEST_CASE(
    "external alerts: fire once per fingerprint, resolve only what fired, survive a restart") {
  MemoryAlertStore store;
  AlertsConfig cfg;
  cfg.enabled = true;
  cfg.channels = {channel("ops", "wecom")};
  std::int64_t now = kT0;
  ExternalAlert x;
  x.source_fingerprint = "a3f1c09e5b7d2e41";
  x.host = "10.0.0.5:9100";
  x.check = "NodeFilesystemAlmostFull";
  x.labels = {{"alertname", "NodeFilesystemAlmostFull"}, {"severity", "critical"}};
  x.severity = Status::kCritical;
  x.summary = "3% left";
  x.starts_ms = kT0 - 60'000;
  {
    AlertPipeline p(store, cfg, {}, [&] { return now; });
    p.restore();
    CHECK(p.on_external({x}) == 1);
    now += 1000;
    CHECK(p.on_external({x}) == 0);  // Alertmanager's repeat: no second message
    auto active = p.active();
    REQUIRE(active.size() == 1);
    CHECK(active[0].kind == AlertKind::kExternal);
    CHECK(active[0].since_ms == kT0 - 60'000);
    ExternalAlert other = x;
    other.source_fingerprint = "ffff";
    other.firing = false;
    CHECK(p.on_external({other}) == 0);  // never "recovered" without its "down"
  }
  // A restarted collector knows the alert: the repeat still sends nothing, the resolve does.
  AlertPipeline p(store, cfg, {}, [&] { return now; });
  p.restore();
  CHECK(p.on_external({x}) == 0);
  x.firing = false;
  x.ends_ms = kT0 + 120'000;
  CHECK(p.on_external({x}) == 1);
  REQUIRE(store.outbox.size() == 2);
  CHECK(store.outbox[1].transition == "resolved");
  CHECK(store.outbox[1].text.find("持续时长：3m") != std::string::npos);
  CHECK(p.active().empty());
}
