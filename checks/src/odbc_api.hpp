// The unixODBC driver manager functions the odbc check calls, from libodbc.so.2 (Debian
// package libodbc2, which `unixodbc` installs) opened at first use (see
// shared_library.hpp). The driver manager loads the drivers itself. Call them as members of
// the table: `odbc.SQLFetch(st)`. Private to checks/.
#pragma once

#include <sql.h>
#include <sqlext.h>

#include <string>

#include "shared_library.hpp"
#include "xj/common/expected.hpp"

// Every driver manager function we use, once; the table below and its loader are made from it.
#define XJ_ODBC_FUNCTIONS(X)                                                                 \
  X(SQLAllocHandle) X(SQLFreeHandle) X(SQLSetEnvAttr) X(SQLSetConnectAttr) X(SQLDriverConnect) \
  X(SQLDisconnect) X(SQLGetDiagRec) X(SQLSetStmtAttr) X(SQLExecDirect) X(SQLNumResultCols)    \
  X(SQLDescribeCol) X(SQLFetch) X(SQLGetData)

namespace xj {

struct LibOdbc {
  XJ_ODBC_FUNCTIONS(XJ_API_MEMBER)
};

// The driver manager, loaded at the first call (once per process, thread-safe) from
// libodbc.so.2 or the test-only XJ_TEST_LIBODBC_SONAME. The error says which package to
// install.
Expected<const LibOdbc*> libodbc();

// Loads the table from a given soname; libodbc() calls it once.
Expected<LibOdbc> load_libodbc(const std::string& soname);

}  // namespace xj
