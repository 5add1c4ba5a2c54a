// The MariaDB Connector/C functions the mysql check calls, from libmariadb.so.3 (Debian
// package libmariadb3) opened at first use (see shared_library.hpp). Call them as members
// of the table: `my.mysql_close(m)`. Private to checks/.
#pragma once

#include <mysql.h>

#include <string>

#include "shared_library.hpp"
#include "xj/common/expected.hpp"

// Every Connector/C function we use, once; the table below and its loader are made from it.
// (mysql_library_init is a macro for mysql_server_init.)
#define XJ_MARIADB_FUNCTIONS(X)                                                              \
  X(mysql_server_init) X(mysql_init) X(mysql_options) X(mysql_real_connect) X(mysql_errno)    \
  X(mysql_error) X(mysql_close) X(mysql_real_query) X(mysql_store_result)                     \
  X(mysql_field_count) X(mysql_num_fields) X(mysql_fetch_fields) X(mysql_fetch_row)           \
  X(mysql_fetch_lengths) X(mysql_free_result)

namespace xj {

struct LibMariadb {
  XJ_MARIADB_FUNCTIONS(XJ_API_MEMBER)
};

// Connector/C, loaded and initialised (mysql_library_init, which is not thread-safe and so
// runs once here) at the first call, once per process, from libmariadb.so.3 or the
// test-only XJ_TEST_LIBMARIADB_SONAME. The error says which package to install.
Expected<const LibMariadb*> libmariadb();

// Loads the table from a given soname, without initialising; libmariadb() calls it once.
Expected<LibMariadb> load_libmariadb(const std::string& soname);

}  // namespace xj
