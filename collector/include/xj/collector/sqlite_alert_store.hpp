// The alerts' storage (alerts::AlertStore) in the collector's SQLite file: tables alerts,
// alert_history and outbox (migration 2). Its own write connection, so an alert commit never
// waits inside the ingest group commit; SQLite serialises the two writers (WAL, busy timeout).
#pragma once

#include <memory>
#include <string>

#include "xj/alerts/alert_store.hpp"
#include "xj/common/expected.hpp"

namespace xj {

// Open after open_sqlite_store() on the same path (that brings the schema up to date).
Expected<std::unique_ptr<alerts::AlertStore>> open_sqlite_alert_store(const std::string& path);

}  // namespace xj
