// The RFC 5322 message the e-mail channel sends: From, To, Subject (RFC 2047 encoded-words
// when not plain ASCII), Date, Message-ID (from the idempotency key, so a resent message is
// recognisably the same), MIME text/plain; charset=UTF-8 in base64. CRLF line ends.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "xj/alerts/outbox.hpp"

namespace xj::alerts {

// The subject is the first line of the message text without Markdown marks, after `prefix`.
std::string build_email(const OutboxMessage& m, std::string_view from, std::string_view prefix,
                        std::int64_t now_ms);

// "=?UTF-8?B?...?=" words of at most 75 characters, folded with CRLF + space; ASCII text
// without specials stays as it is.
std::string encode_header_words(std::string_view text);

// "Tue, 01 Dec 2026 08:00:00 +0800" in the process's time zone.
std::string rfc5322_date(std::int64_t epoch_ms);

}  // namespace xj::alerts
