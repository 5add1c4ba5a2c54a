// WeCom, DingTalk and Feishu group robots (protocol facts: shared/REFERENCE.md).
#include <nlohmann/json.hpp>

#include "detail/channel_factories.hpp"
#include "detail/post_json.hpp"
#include "detail/signing.hpp"

namespace xj::alerts {
namespace {

using nlohmann::json;

// With a query already in the URL, append with '&'.
std::string with_param(std::string url, const std::string& name, const std::string& value) {
  if (value.empty()) return url;
  url += (url.find('?') == std::string::npos ? '?' : '&');
  return url + name + "=" + detail::url_encode(value);
}

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.front() == '#' || line.front() == ' ')) line.erase(0, 1);
  return line.empty() ? std::string("xunjian") : line;
}

class WeComChannel final : public Channel {
 public:
  explicit WeComChannel(ChannelConfig c) : cfg_(std::move(c)) {
    if (cfg_.url.empty()) cfg_.url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send";
  }
  const ChannelConfig& config() const override { return cfg_; }
  std::size_t max_text_bytes() const override { return 4096; }  // markdown; 40058 beyond
  SendOutcome send(const OutboxMessage& m) override {
    json body{{"msgtype", "markdown"}, {"markdown", {{"content", m.text}}}};
    auto r = detail::post_json(cfg_, with_param(cfg_.url, "key", cfg_.key), body.dump(), m);
    return detail::robot_verdict(cfg_, r, "errcode", {45009}, 60'000);
  }

 private:
  ChannelConfig cfg_;
};

class DingTalkChannel final : public Channel {
 public:
  DingTalkChannel(ChannelConfig c, WallClock clock) : cfg_(std::move(c)), clock_(std::move(clock)) {
    if (cfg_.url.empty()) cfg_.url = "https://oapi.dingtalk.com/robot/send";
  }
  const ChannelConfig& config() const override { return cfg_; }
  // The body limit is 20000 bytes (460101); leave room for the JSON around the text and
  // for escaping.
  std::size_t max_text_bytes() const override { return 16'000; }
  SendOutcome send(const OutboxMessage& m) override {
    std::string url = with_param(cfg_.url, "access_token", cfg_.key);
    if (!cfg_.secret.empty()) {
      const std::string ts = std::to_string(clock_());
      const std::string sign =
          detail::base64(detail::hmac_sha256(cfg_.secret, ts + "\n" + cfg_.secret));
      url = with_param(with_param(url, "timestamp", ts), "sign", sign);
    }
    json body{{"msgtype", "markdown"},
              {"markdown", {{"title", first_line(m.text)}, {"text", m.text}}}};
    auto r = detail::post_json(cfg_, url, body.dump(), m);
    // 130101: sent too fast; DingTalk then throttles the robot for 10 minutes.
    return detail::robot_verdict(cfg_, r, "errcode", {130101}, 600'000);
  }

 private:
  ChannelConfig cfg_;
  WallClock clock_;
};

class FeishuChannel final : public Channel {
 public:
  FeishuChannel(ChannelConfig c, WallClock clock) : cfg_(std::move(c)), clock_(std::move(clock)) {
    if (cfg_.url.empty()) cfg_.url = "https://open.feishu.cn/open-apis/bot/v2/hook/";
  }
  const ChannelConfig& config() const override { return cfg_; }
  std::size_t max_text_bytes() const override { return 16'000; }  // body <= 20 KB
  SendOutcome send(const OutboxMessage& m) override {
    // An interactive card with lark_md renders the same markdown the other robots get.
    json body{{"msg_type", "interactive"},
              {"card",
               {{"elements", json::array({{{"tag", "div"},
                                           {"text", {{"tag", "lark_md"}, {"content", m.text}}}}})}}}};
    if (!cfg_.secret.empty()) {
      const std::string ts = std::to_string(clock_() / 1000);
      body["timestamp"] = ts;
      body["sign"] = detail::base64(detail::hmac_sha256(ts + "\n" + cfg_.secret, ""));
    }
    std::string url = cfg_.url;
    if (!cfg_.key.empty()) url += cfg_.key;
    auto r = detail::post_json(cfg_, url, body.dump(), m);
    // 11232: frequency limited.
    return detail::robot_verdict(cfg_, r, "code", {11232}, 60'000);
  }

 private:
  ChannelConfig cfg_;
  WallClock clock_;
};

// A generic JSON webhook: the outbox text is the whole JSON document; any 2xx is success.
class WebhookChannel final : public Channel {
 public:
  explicit WebhookChannel(ChannelConfig c) : cfg_(std::move(c)) {}
  const ChannelConfig& config() const override { return cfg_; }
  std::size_t max_text_bytes() const override { return 1024 * 1024; }
  SendOutcome send(const OutboxMessage& m) override {
    json body{{"idempotency_key", m.idempotency_key}, {"fingerprint", m.fingerprint},
              {"status", m.transition}, {"text", m.text}};
    // A group or digest names every outbox message it carries, so a receiver can account for
    // (and deduplicate) each one.
    if (!m.members.empty()) body["members"] = m.members;
    auto r = detail::post_json(cfg_, cfg_.url, body.dump(), m);
    SendOutcome o;
    o.delivered = r.transport_ok && r.status >= 200 && r.status < 300;
    if (!o.delivered) {
      o.error = "webhook channel '" + cfg_.name + "': " +
                (r.transport_ok ? "HTTP " + std::to_string(r.status) : r.error);
    }
    return o;
  }

 private:
  ChannelConfig cfg_;
};

}  // namespace

bool known_channel_type(std::string_view type) {
  return type == "wecom" || type == "dingtalk" || type == "feishu" || type == "webhook" ||
         personal_channel_type(type);
}

bool personal_channel_type(std::string_view type) {
  return type == "sms_http" || type == "aliyun_sms" || type == "email";
}

TextStyle text_style(std::string_view type) {
  if (type == "sms_http" || type == "aliyun_sms") return TextStyle::kSms;
  if (type == "email") return TextStyle::kPlain;
  return TextStyle::kMarkdown;
}

std::unique_ptr<Channel> make_channel(const ChannelConfig& config, WallClock clock) {
  if (config.type == "wecom") return std::make_unique<WeComChannel>(config);
  if (config.type == "dingtalk") return std::make_unique<DingTalkChannel>(config, std::move(clock));
  if (config.type == "feishu") return std::make_unique<FeishuChannel>(config, std::move(clock));
  if (config.type == "webhook") return std::make_unique<WebhookChannel>(config);
  if (config.type == "sms_http") return detail::make_sms_http_channel(config);
  if (config.type == "aliyun_sms") return detail::make_aliyun_sms_channel(config, std::move(clock));
  if (config.type == "email") return detail::make_email_channel(config, std::move(clock));
  throw std::invalid_argument("channel '" + config.name + "': unknown type '" + config.type + "'");
}

}  // namespace xj::alerts
