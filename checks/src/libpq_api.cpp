#include "libpq_api.hpp"

namespace xj {

Expected<LibPq> load_libpq(const std::string& soname) {
  return load_api<LibPq>(soname, "libpq5",
                         [](SharedLibrary& lib, LibPq& api) { XJ_LIBPQ_FUNCTIONS(XJ_API_BIND) });
}

Expected<const LibPq*> libpq() {
  static const Expected<LibPq> loaded =
      load_libpq(soname_or_test_override("XJ_TEST_LIBPQ_SONAME", "libpq.so.5"));
  if (!loaded) return make_error(loaded.error());
  return &loaded.value();
}

}  // namespace xj
