// Whether this process can use OpenSSL. xunjian-agent does not link libssl/libcrypto: it opens
// them on first use (src/openssl_lazy.cpp), so an agent without TLS work never maps them
// (issue 2's footprint: 1.7 MiB resident, most of it the loader's relocations). Every other
// program links them and is always ready (src/openssl_linked.cpp). Code about to start TLS
// work asks here first, so that a missing library is an error naming it, not a failure deep
// inside OpenSSL with an empty error queue.
#pragma once

#include <string>

namespace xj {

// Empty when OpenSSL can be used (opening it now if it was not yet), else why not:
// "cannot load libssl.so.3: libssl.so.3: cannot open shared object file: No such file or
// directory". Thread-safe; the answer never changes within a process.
const std::string& openssl_load_error();

}  // namespace xj
