// The collector store's schema, as an ordered list of migrations. Migration i (1-based)
// takes the schema from version i-1 to i; open() applies the missing ones, one transaction
// each, and records each in schema_version. Never edit a released migration: append one.
#pragma once

#include <vector>

namespace xj::detail {

const std::vector<const char*>& sqlite_migrations();

}  // namespace xj::detail
