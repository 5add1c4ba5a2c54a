// Channel: one configured notification target (a WeCom robot, a DingTalk robot, ...). Each
// knows its protocol's success criterion (errcode / code / HTTP status), its byte limit and
// its rate limit; the sender owns retries, backoff and pacing.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "xj/alerts/outbox.hpp"
#include "xj/common/expected.hpp"

namespace xj::alerts {

struct ChannelConfig {
  std::string name;  // referenced by routes, part of every idempotency key
  std::string type;  // wecom, dingtalk, feishu, webhook
  std::string url;   // default: the service's public endpoint (wecom, dingtalk, feishu)
  std::string key;     // wecom robot key / dingtalk access_token / feishu hook token
  std::string secret;  // dingtalk / feishu signing secret ("" = signing off)
  int rate_per_minute = 20;
  std::chrono::milliseconds timeout{10'000};
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
  // Sends one outbox message (its text already fits). Never throws.
  virtual SendOutcome send(const OutboxMessage& message) = 0;
};

// Epoch ms for signatures; tests pass a fixed one.
using WallClock = std::function<std::int64_t()>;

// Throws std::invalid_argument naming the channel for an unknown type (config validates first).
std::unique_ptr<Channel> make_channel(const ChannelConfig& config, WallClock clock);
bool known_channel_type(std::string_view type);

// Splits text into parts of at most max_bytes, at a line end where one is in reach, never
// inside a UTF-8 sequence. One part when it fits.
std::vector<std::string> split_utf8(std::string_view text, std::size_t max_bytes);

// The header every request carries, so a receiver can count by idempotency key.
inline constexpr const char* kIdempotencyHeader = "X-Xunjian-Idempotency-Key";

}  // namespace xj::alerts
