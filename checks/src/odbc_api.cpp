#include "odbc_api.hpp"

namespace xj {

Expected<LibOdbc> load_libodbc(const std::string& soname) {
  return load_api<LibOdbc>(soname, "libodbc2 (unixODBC; `apt install unixodbc` brings it)",
                           [](SharedLibrary& lib, LibOdbc& api) { XJ_ODBC_FUNCTIONS(XJ_API_BIND) });
}

Expected<const LibOdbc*> libodbc() {
  static const Expected<LibOdbc> loaded =
      load_libodbc(soname_or_test_override("XJ_TEST_LIBODBC_SONAME", "libodbc.so.2"));
  if (!loaded) return make_error(loaded.error());
  return &loaded.value();
}

}  // namespace xj
