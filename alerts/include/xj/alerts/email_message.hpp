// The RFC 5322 message the e-mail channel sends: From, To, Subject (RFC 2047 encoded-words
// when not plain ASCII), Date, Message-ID (from the idempotency key, so a resent message is
// recognisably the same), MIME text/plain; charset=UTF-8 in base64; with attachments (a
// delivered report's HTML and PDF) multipart/mixed, the text first. CRLF line ends.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "xj/common/expected.hpp"

#include "xj/alerts/outbox.hpp"

namespace xj::alerts {

struct EmailAttachment {
  std::string name;          // file name (ASCII: the report files are named so)
  std::string content_type;  // "text/html; charset=utf-8", "application/pdf"
  std::string bytes;
};

// The subject is fields["subject"] when given, else the first line of the message text without
// Markdown marks, after `prefix`.
std::string build_email(const OutboxMessage& m, std::string_view from, std::string_view prefix,
                        std::int64_t now_ms, const std::vector<EmailAttachment>& attachments = {});

// The files a message names in fields["attachments"] (a JSON list of {path, name, type,
// sha256}, written by report delivery), read now and checked against their SHA-256: a file
// gone or changed since it was archived is an error naming it, never sent as it is.
Expected<std::vector<EmailAttachment>> load_attachments(const OutboxMessage& m);

// "=?UTF-8?B?...?=" words of at most 75 characters, folded with CRLF + space; ASCII text
// without specials stays as it is.
std::string encode_header_words(std::string_view text);

// "Tue, 01 Dec 2026 08:00:00 +0800" in the process's time zone.
std::string rfc5322_date(std::int64_t epoch_ms);

}  // namespace xj::alerts
