// The text of a notification, from the alert and the templates: host, what, since when, value
// vs threshold, a link; on recovery, how long it lasted.
#pragma once

#include <cstdint>
#include <string>

#include "xj/alerts/alert.hpp"

namespace xj::alerts {

struct MessageContext {
  std::string locale = "zh-CN";
  std::string console_url;  // "https://xunjian.example" -> link to <url>/hosts/<host>
  int no_data_intervals = 3;
};

// Markdown (WeCom, DingTalk, Feishu all read this subset).
std::string render_message(const Alert& alert, Transition transition, const MessageContext& ctx);

// "2026-11-22 22:03:10" in the process's time zone (TZ is the contract's zone).
std::string format_local(std::int64_t epoch_ms);
// "1h2m3s", whole seconds.
std::string format_span(std::int64_t ms);

}  // namespace xj::alerts
