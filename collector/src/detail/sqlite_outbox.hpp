// Outbox rows in the collector's SQLite file, shared by the alert store (alert messages) and
// the report source (report deliveries written with their archive rows): one INSERT and one
// row reader, so both write and read the same columns the same way.
#pragma once

#include <vector>

#include "sqlite_conn.hpp"
#include "xj/alerts/outbox.hpp"

namespace xj::detail {

// The columns read_outbox_messages expects, in its order. A macro, since statements are cached
// by the address of their literal: "SELECT " XJ_OUTBOX_COLUMNS " FROM outbox ...".
#define XJ_OUTBOX_COLUMNS                                                                         \
  "id, idem_key, fingerprint, transition, channel, recipient, text, created, next_attempt, attempts," \
  " status, last_error, delivered, latency_ms, fields"

// INSERT OR IGNORE: the same idempotency key is never enqueued twice.
Expected<bool> insert_outbox_message(SqliteConn& conn, const alerts::OutboxMessage& m);
std::vector<alerts::OutboxMessage> read_outbox_messages(Query& q);

}  // namespace xj::detail
