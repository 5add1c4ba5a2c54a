// Channel: one configured notification target (a WeCom robot, a DingTalk robot, ...). Each
// knows its protocol's success criterion (errcode / code / HTTP status), its byte limit and
// its rate limit; the sender owns retries, backoff and pacing.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "xj/alerts/outbox.hpp"
#include "xj/common/expected.hpp"

namespace xj::alerts {

// How a channel wants its text: Markdown for the robots, plain text for e-mail, the compact
// SMS templates for phones.
enum class TextStyle { kMarkdown, kPlain, kSms };

// sms_http: a customer's own SMS gateway. Body and headers are templates over the fields
// phone, text, key (the secret), severity, host, check, system, transition, idempotency_key;
// values are escaped for the content type (JSON string content, or form encoding).
struct SmsHttpOptions {
  std::string method = "POST";          // POST or GET (GET: the body template is the query)
  std::string content_type = "json";    // json, form
  std::map<std::string, std::string> headers;  // values are templates too
  std::string body;                     // the template
  std::set<int> success_status{200};    // HTTP statuses that may mean success
  std::string success_pointer;          // JSON pointer into the reply ("/code"); "" = status only
  std::string success_value;            // what it must equal ("0", "OK")
  std::set<std::string> permanent_values;  // values at the pointer that are not worth a retry
};

// aliyun_sms: Dysmsapi SendSms with the RPC signature (HMAC-SHA1). `key` is the
// AccessKeyId, `secret` the AccessKeySecret.
struct AliyunSmsOptions {
  std::string sign_name;
  std::string template_code;
  // TemplateParam: parameter name -> template over the same fields as sms_http.
  std::map<std::string, std::string> template_param{{"content", "{{text}}"}};
  std::string region = "cn-hangzhou";
};

// email: SMTP through libcurl. `url` is smtp://host:port or smtps://host:port; `key` the
// user name, `secret` the password.
struct EmailOptions {
  std::string from;
  bool starttls = true;   // smtp://: require STARTTLS (refuse to send in clear)
  bool verify_tls = true;
  std::string ca_file;
  std::string subject_prefix = "[xunjian] ";
};

struct ChannelConfig {
  std::string name;  // referenced by routes, part of every idempotency key
  std::string type;  // wecom, dingtalk, feishu, webhook, sms_http, aliyun_sms, email
  std::string url;   // default: the service's public endpoint (wecom, dingtalk, feishu, aliyun)
  std::string key;     // wecom robot key / dingtalk access_token / feishu hook token / ...
  std::string secret;  // dingtalk / feishu signing secret ("" = signing off) / ...
  int rate_per_minute = 20;
  std::chrono::milliseconds timeout{10'000};
  // Static recipients (phone numbers, e-mail addresses) of a personal channel (sms_http,
  // aliyun_sms, email): one outbox message per recipient. A message routed with its own
  // recipient list (AlertPipeline::Recipients) uses that list instead.
  std::vector<std::string> to{};
  std::string locale{};  // "" = alerts.locale
  // Per message part: UTF-8 bytes and characters (0 = no character limit). SMS default 500
  // bytes and 70 characters; the others take their protocol's limit.
  std::size_t max_bytes = 0;
  std::size_t max_chars = 0;
  bool truncate = false;  // over the limit: cut to one part ending in "…" instead of splitting
  SmsHttpOptions sms{};
  AliyunSmsOptions aliyun{};
  EmailOptions email{};
};

struct SendOutcome {
  bool delivered = false;
  bool retry = true;               // false: the service refused for good (bad key, ...)
  std::int64_t retry_after_ms = 0;  // the service asked to wait (rate limited): at least this
  std::string error;
};

class Channel {
 public:
  virtual ~Channel() = default;
  virtual const ChannelConfig& config() const = 0;
  // Longest text one message may carry, in UTF-8 bytes.
  virtual std::size_t max_text_bytes() const = 0;
  // Longest text in characters (code points); 0 = no such limit (SMS have one).
  virtual std::size_t max_text_chars() const { return 0; }
  // Sends one outbox message (its text already fits). Never throws.
  virtual SendOutcome send(const OutboxMessage& message) = 0;
};

// Epoch ms for signatures; tests pass a fixed one.
using WallClock = std::function<std::int64_t()>;

// Throws std::invalid_argument naming the channel for an unknown type (config validates first).
std::unique_ptr<Channel> make_channel(const ChannelConfig& config, WallClock clock);
bool known_channel_type(std::string_view type);
// Personal channels send to recipients (`to:`), group robots to their group.
bool personal_channel_type(std::string_view type);
TextStyle text_style(std::string_view type);

// Splits text into parts of at most max_bytes, at a line end where one is in reach, never
// inside a UTF-8 sequence. One part when it fits.
std::vector<std::string> split_utf8(std::string_view text, std::size_t max_bytes);
// The same with a limit in characters (code points) too; max_chars 0 = bytes only.
std::vector<std::string> split_utf8(std::string_view text, std::size_t max_bytes,
                                    std::size_t max_chars);
// At most max_bytes and max_chars, cut on a character boundary and ending in "…" when cut.
std::string truncate_utf8(std::string_view text, std::size_t max_bytes, std::size_t max_chars);

// The header every request carries, so a receiver can count by idempotency key.
inline constexpr const char* kIdempotencyHeader = "X-Xunjian-Idempotency-Key";
// On a combined message (group, digest): the number of outbox messages it carries.
inline constexpr const char* kMembersHeader = "X-Xunjian-Members";

}  // namespace xj::alerts
