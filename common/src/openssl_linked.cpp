// openssl_load_error() of a program linked with libssl/libcrypto (everything but the agent,
// see openssl_loader.hpp): the loader already mapped them, there is nothing to fail.
#include "xj/common/openssl_loader.hpp"

namespace xj {

const std::string& openssl_load_error() {
  static const std::string none;
  return none;
}

}  // namespace xj
