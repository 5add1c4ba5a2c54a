// The libpq functions the postgres check calls, from libpq.so.5 (Debian package libpq5)
// opened at first use (see shared_library.hpp). Call them as members of the table:
// `pq.PQfinish(conn)`. Private to checks/.
#pragma once

#include <libpq-fe.h>

#include <string>

#include "shared_library.hpp"
#include "xj/common/expected.hpp"

// Every libpq function we use, once; the table below and its loader are made from this list.
#define XJ_LIBPQ_FUNCTIONS(X)                                                                \
  X(PQconninfoParse) X(PQconninfoFree) X(PQfreemem) X(PQconnectStartParams) X(PQstatus)       \
  X(PQerrorMessage) X(PQsocket) X(PQconnectPoll) X(PQfinish) X(PQsendQuery) X(PQgetCancel)    \
  X(PQcancel) X(PQfreeCancel) X(PQflush) X(PQisBusy) X(PQconsumeInput) X(PQgetResult)         \
  X(PQresultStatus) X(PQnfields) X(PQntuples) X(PQfname) X(PQgetisnull) X(PQgetvalue)         \
  X(PQgetlength) X(PQresultErrorMessage) X(PQclear)

namespace xj {

struct LibPq {
  XJ_LIBPQ_FUNCTIONS(XJ_API_MEMBER)
};

// libpq, loaded at the first call (once per process, thread-safe) from libpq.so.5 or the
// test-only XJ_TEST_LIBPQ_SONAME. The error says which package to install.
Expected<const LibPq*> libpq();

// Loads the table from a given soname; libpq() calls it once.
Expected<LibPq> load_libpq(const std::string& soname);

}  // namespace xj
