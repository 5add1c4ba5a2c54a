// The text of a notification, from the alert and the templates: host, what, since when, value
// vs threshold, a link; on recovery, how long it lasted.
#pragma once

#include <cstdint>
#include <string>

#include "xj/alerts/alert.hpp"
#include "xj/alerts/channel.hpp"
#include "xj/alerts/incident_tracker.hpp"

namespace xj::alerts {

struct MessageContext {
  std::string locale = "zh-CN";
  std::string console_url;  // "https://xunjian.example" -> link to <url>/hosts/<host>
  int no_data_intervals = 3;
  // Markdown for the robots; plain text (e-mail) is the Markdown without its marks; SMS use
  // the compact sms_* templates.
  TextStyle style = TextStyle::kMarkdown;
};

// The Markdown of our templates as plain text: no heading or quote marks, "[text](url)" as
// "text: url", <font> tags and bold marks dropped.
std::string plain_text(std::string_view markdown);

// Markdown (WeCom, DingTalk, Feishu all read this subset).
// With `incident`, the message names the incident the alert belongs to (number and level).
// `repeat` > 0: the n-th reminder of a firing alert nobody acknowledged.
// `escalation`: level >= 2 of an escalation, after `unacked_ms`, to `recipients` (names).
struct EscalationInfo {
  int level = 0;
  std::int64_t unacked_ms = 0;
  std::string recipients;
};
std::string render_message(const Alert& alert, Transition transition, const MessageContext& ctx,
                           const Incident* incident = nullptr, int repeat = 0,
                           const EscalationInfo* escalation = nullptr);
// An incident notice: opened by an operator, 80 % of a deadline gone, a deadline breached.
std::string render_incident_notice(const IncidentNotice& notice, const MessageContext& ctx);
// The fault report (故障报告) of one incident as Markdown: its facts, the deadlines against
// the time taken, impact, cause, handling, the linked alerts and the whole timeline.
std::string render_fault_report(const Incident& incident, const std::vector<TimelineEntry>& timeline,
                                const MessageContext& ctx, std::int64_t now_ms);

// The words of the templates for a level ("一级故障"), a state ("处理中"), a timeline kind.
std::string level_words(IncidentLevel l, const MessageContext& ctx);
std::string state_words(IncidentState s, const MessageContext& ctx);
std::string timeline_words(const std::string& kind, const MessageContext& ctx);

// "2026-11-22 22:03:10" in the process's time zone (TZ is the contract's zone).
std::string format_local(std::int64_t epoch_ms);
// "1h2m3s", whole seconds.
std::string format_span(std::int64_t ms);

}  // namespace xj::alerts
