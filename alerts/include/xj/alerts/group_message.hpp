// The texts of combined messages: a group (one host's or system's alerts within the grouping
// window) and a storm digest (everything pending on a channel). Both are built from the member
// outbox rows' fields, so they need nothing but the outbox; both fit one message of the
// channel (bytes and characters) by listing fewer items, never by dropping a count: the
// counts by severity, system and host always add up to every member.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "xj/alerts/message_builder.hpp"
#include "xj/alerts/outbox.hpp"

namespace xj::alerts {

// A member of a combined message: one alert transition (its rows are the parts of one text).
struct GroupMember {
  const OutboxMessage* row = nullptr;  // its first part: the fields are the same in every part
  int rank = 0;                        // 0 most severe; the order of the listing
};

// The distinct (fingerprint, transition) of `rows`, in row order.
std::vector<GroupMember> group_members(const std::vector<const OutboxMessage*>& rows);

// `group`: the group's title ("db-01"); ignored for a digest. At most max_bytes UTF-8 bytes
// and max_chars characters (0: no character limit).
std::string render_combined(const std::vector<const OutboxMessage*>& rows, bool digest, const std::string& group,
                            const MessageContext& ctx, std::size_t max_bytes, std::size_t max_chars);

// "group-<n>-<hash>" / "digest-<n>-<hash>": derived from every member's idempotency key, so
// the same members resent after a crash carry the same key (a receiver can drop the repeat),
// and a different set of members never shares one.
std::string combined_key(bool digest, const std::vector<const OutboxMessage*>& rows);

}  // namespace xj::alerts
