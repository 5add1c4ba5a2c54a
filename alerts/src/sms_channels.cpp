// SMS: a customer's own HTTP gateway (sms_http) and Aliyun's SendSms (aliyun_sms). Both send
// one request per recipient (the outbox message's recipient); protocol facts in
// shared/REFERENCE.md.
#include <ctime>
#include <nlohmann/json.hpp>

#include "detail/channel_factories.hpp"
#include "detail/post_json.hpp"
#include "detail/signing.hpp"
#include "xj/alerts/message_template.hpp"

namespace xj::alerts {
namespace {

using nlohmann::json;

std::string json_escape(const std::string& s) {
  std::string quoted = json(s).dump();  // "..." with JSON escapes, UTF-8 kept
  return quoted.substr(1, quoted.size() - 2);
}

std::string no_newlines(std::string s) {
  for (char& c : s) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return s;
}

// The fields a body or header template may use, each passed through `escape`.
template <typename Escape>
TemplateVars sms_vars(const ChannelConfig& cfg, const OutboxMessage& m, Escape escape) {
  TemplateVars v;
  for (const auto& [k, val] : m.fields) v[k] = escape(val);
  v["phone"] = escape(m.recipient);
  v["text"] = escape(m.text);
  v["key"] = escape(cfg.key);
  v["transition"] = escape(m.transition);
  v["idempotency_key"] = escape(m.idempotency_key);
  return v;
}

SendOutcome no_recipient(const ChannelConfig& cfg) {
  SendOutcome o;
  o.retry = false;
  o.error = cfg.type + " channel '" + cfg.name + "': the message has no recipient";
  return o;
}

std::string reply_start(const detail::PostReply& r) { return r.raw.substr(0, 200); }

class SmsHttpChannel final : public Channel {
 public:
  explicit SmsHttpChannel(ChannelConfig c) : cfg_(std::move(c)) {
    if (cfg_.max_bytes == 0) cfg_.max_bytes = 500;  // made without the config's defaults
    if (cfg_.sms.body.empty()) {
      cfg_.sms.body = cfg_.sms.content_type == "form" || cfg_.sms.method == "GET"
                          ? "phone={{phone}}&text={{text}}"
                          : R"({"phone":"{{phone}}","text":"{{text}}"})";
    }
  }
  const ChannelConfig& config() const override { return cfg_; }
  std::size_t max_text_bytes() const override { return cfg_.max_bytes; }
  std::size_t max_text_chars() const override { return cfg_.max_chars; }

  SendOutcome send(const OutboxMessage& m) override {
    if (m.recipient.empty()) return no_recipient(cfg_);
    const bool form = cfg_.sms.content_type == "form" || cfg_.sms.method == "GET";
    const TemplateVars body_vars =
        form ? sms_vars(cfg_, m, [](const std::string& s) { return detail::url_encode(s); })
             : sms_vars(cfg_, m, json_escape);
    const std::string body = render_template(cfg_.sms.body, body_vars);
    const TemplateVars header_vars = sms_vars(cfg_, m, no_newlines);
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& [name, tpl] : cfg_.sms.headers)
      headers.emplace_back(name, render_template(tpl, header_vars));
    std::string url = cfg_.url;
    detail::PostReply r;
    if (cfg_.sms.method == "GET") {
      url += (url.find('?') == std::string::npos ? '?' : '&') + body;
      r = detail::send_request(cfg_, "GET", url, std::move(headers), "", m);
    } else {
      headers.emplace_back("Content-Type", form ? "application/x-www-form-urlencoded; charset=utf-8"
                                                : "application/json; charset=utf-8");
      r = detail::send_request(cfg_, "POST", url, std::move(headers), body, m);
    }
    return verdict(r);
  }

 private:
  SendOutcome verdict(const detail::PostReply& r) const {
    SendOutcome o;
    const std::string who = "sms_http channel '" + cfg_.name + "': ";
    if (!r.transport_ok) {
      o.error = who + r.error;
      return o;
    }
    if (!cfg_.sms.success_status.count(r.status)) {
      o.error = who + "HTTP " + std::to_string(r.status) + ": " + reply_start(r);
      // A 4xx other than 429 is the request itself (bad number, bad key): not worth repeating.
      o.retry = r.status == 429 || r.status >= 500 || r.status < 400;
      return o;
    }
    if (cfg_.sms.success_pointer.empty()) {
      o.delivered = true;
      return o;
    }
    const json::json_pointer ptr(cfg_.sms.success_pointer);
    if (r.body.is_discarded() || !r.body.contains(ptr)) {
      o.error = who + "the reply has no " + cfg_.sms.success_pointer + ": " + reply_start(r);
      return o;
    }
    const json& v = r.body.at(ptr);
    const std::string got = v.is_string() ? v.get<std::string>() : v.dump();
    if (got == cfg_.sms.success_value) {
      o.delivered = true;
      return o;
    }
    o.error = who + cfg_.sms.success_pointer + " is " + got + ", not " + cfg_.sms.success_value +
              ": " + reply_start(r);
    o.retry = !cfg_.sms.permanent_values.count(got);
    return o;
  }

  ChannelConfig cfg_;
};

// RFC 3339 in UTC, as the RPC signature's Timestamp wants it.
std::string utc_timestamp(std::int64_t epoch_ms) {
  std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Codes that describe the request itself (number, signature name, template, key): sending it
// again cannot succeed.
bool aliyun_permanent(const std::string& code) {
  static const std::set<std::string> codes{
      "isv.MOBILE_NUMBER_ILLEGAL",       "isv.SMS_SIGNATURE_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL",
      "isv.TEMPLATE_MISSING_PARAMETERS", "isv.INVALID_PARAMETERS",    "isv.BLACK_KEY_CONTROL_LIMIT",
      "isv.PARAM_LENGTH_LIMIT",          "isv.INVALID_JSON_PARAM",    "isv.DENY_IP_RANGE",
      "isv.ACCOUNT_NOT_EXISTS",          "isv.ACCOUNT_ABNORMAL",      "isv.MOBILE_COUNT_OVER_LIMIT",
      "InvalidAccessKeyId.NotFound",     "SignatureDoesNotMatch",     "MissingParameter"};
  return codes.count(code) > 0;
}

// The RPC signature's StringToSign: method & "%2F" & the percent-encoded, sorted query.
std::string aliyun_string_to_sign(const std::string& method,
                                  const std::map<std::string, std::string>& params) {
  std::string canonical;
  for (const auto& [k, v] : params) {
    canonical +=
        (canonical.empty() ? "" : "&") + detail::url_encode(k) + "=" + detail::url_encode(v);
  }
  return method + "&" + detail::url_encode("/") + "&" + detail::url_encode(canonical);
}

class AliyunSmsChannel final : public Channel {
 public:
  AliyunSmsChannel(ChannelConfig c, WallClock clock)
      : cfg_(std::move(c)), clock_(std::move(clock)) {
    if (cfg_.url.empty()) cfg_.url = "https://dysmsapi.aliyuncs.com/";
    if (cfg_.max_bytes == 0) cfg_.max_bytes = 500;
  }
  const ChannelConfig& config() const override { return cfg_; }
  std::size_t max_text_bytes() const override { return cfg_.max_bytes; }
  std::size_t max_text_chars() const override { return cfg_.max_chars; }

  SendOutcome send(const OutboxMessage& m) override {
    if (m.recipient.empty()) return no_recipient(cfg_);
    const TemplateVars vars = sms_vars(cfg_, m, [](const std::string& s) { return s; });
    json param = json::object();
    for (const auto& [name, tpl] : cfg_.aliyun.template_param)
      param[name] = render_template(tpl, vars);
    std::map<std::string, std::string> p{{"AccessKeyId", cfg_.key},
                                         {"Action", "SendSms"},
                                         {"Format", "JSON"},
                                         {"OutId", m.idempotency_key.substr(0, 256)},
                                         {"PhoneNumbers", m.recipient},
                                         {"RegionId", cfg_.aliyun.region},
                                         {"SignName", cfg_.aliyun.sign_name},
                                         {"SignatureMethod", "HMAC-SHA1"},
                                         {"SignatureNonce", detail::random_hex(16)},
                                         {"SignatureVersion", "1.0"},
                                         {"TemplateCode", cfg_.aliyun.template_code},
                                         {"TemplateParam", param.dump()},
                                         {"Timestamp", utc_timestamp(clock_())},
                                         {"Version", "2017-05-25"}};
    const std::string signature =
        detail::base64(detail::hmac_sha1(cfg_.secret + "&", aliyun_string_to_sign("POST", p)));
    std::string body;
    for (const auto& [k, v] : p) body += detail::url_encode(k) + "=" + detail::url_encode(v) + "&";
    body += "Signature=" + detail::url_encode(signature);
    auto r = detail::send_request(
        cfg_, "POST", cfg_.url,
        {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}}, body, m);
    return verdict(r, m);
  }

 private:
  SendOutcome verdict(const detail::PostReply& r, const OutboxMessage& m) const {
    SendOutcome o;
    const std::string who = "aliyun_sms channel '" + cfg_.name + "' to " + m.recipient + ": ";
    if (!r.transport_ok) {
      o.error = who + r.error;
      if (r.maybe_sent) {
        // SendSms is not idempotent: the SMS may have gone out. Resending could text the
        // engineer twice; a person checks the send records instead.
        o.retry = false;
        o.error +=
            " (the request may have reached Aliyun; SendSms is not idempotent, so it is not "
            "resent: see the SMS send records in the Aliyun console)";
      }
      return o;
    }
    const std::string code =
        r.body.is_object() && r.body.contains("Code") && r.body["Code"].is_string()
            ? r.body["Code"].get<std::string>()
            : "";
    if (code == "OK") {
      o.delivered = true;
      return o;
    }
    if (code.empty()) {
      o.error = who + "HTTP " + std::to_string(r.status) + " without a Code: " + reply_start(r);
      return o;
    }
    std::string msg = r.body.contains("Message") && r.body["Message"].is_string()
                          ? r.body["Message"].get<std::string>()
                          : "";
    o.error = who + "Code " + code + " " + msg;
    if (aliyun_permanent(code)) o.retry = false;
    // Per-number flow control (about one a minute, a few an hour): wait before the next.
    if (code == "isv.BUSINESS_LIMIT_CONTROL" || code.rfind("Throttling", 0) == 0)
      o.retry_after_ms = 60'000;
    return o;
  }

  ChannelConfig cfg_;
  WallClock clock_;
};

}  // namespace

namespace detail {

std::unique_ptr<Channel> make_sms_http_channel(const ChannelConfig& c) {
  return std::make_unique<SmsHttpChannel>(c);
}

std::unique_ptr<Channel> make_aliyun_sms_channel(const ChannelConfig& c, WallClock clock) {
  return std::make_unique<AliyunSmsChannel>(c, std::move(clock));
}

}  // namespace detail
}  // namespace xj::alerts
