// One POST of a JSON body for a channel, with the idempotency header; the reply parsed as JSON
// when it is JSON. Shared by the robot channels.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "xj/alerts/channel.hpp"

namespace xj::alerts::detail {

struct PostReply {
  bool transport_ok = false;  // a response came back
  int status = 0;
  nlohmann::json body;        // discarded when not JSON
  std::string raw;            // the body as received (at most 64 KiB)
  std::string error;          // transport error, or "HTTP 500: <body start>"
  // Without a response: whether the request may have reached the service (a timeout or a
  // broken exchange after connecting) — what a non-idempotent API must not resend blindly.
  bool maybe_sent = false;
};

// Any request of a channel, with the idempotency header; the URL (it may carry a key) never
// appears in the error.
PostReply send_request(const ChannelConfig& cfg, const std::string& method, const std::string& url,
                       std::vector<std::pair<std::string, std::string>> headers, const std::string& body,
                       const OutboxMessage& m);

PostReply post_json(const ChannelConfig& cfg, const std::string& url, const std::string& body,
                    const OutboxMessage& m);

// The robots' common verdict: HTTP 200 and `field` (errcode / code) equal to 0. HTTP 200 with
// another code is a failure; `rate_limited` codes hold the channel for `hold_ms`.
SendOutcome robot_verdict(const ChannelConfig& cfg, const PostReply& r, const char* field,
                          std::initializer_list<long> rate_limited, std::int64_t hold_ms);

}  // namespace xj::alerts::detail
