#include "mariadb_api.hpp"

namespace xj {

Expected<LibMariadb> load_libmariadb(const std::string& soname) {
  return load_api<LibMariadb>(soname, "libmariadb3", [](SharedLibrary& lib, LibMariadb& api) {
    XJ_MARIADB_FUNCTIONS(XJ_API_BIND)
  });
}

Expected<const LibMariadb*> libmariadb() {
  static const Expected<LibMariadb> loaded = []() -> Expected<LibMariadb> {
    auto api =
        load_libmariadb(soname_or_test_override("XJ_TEST_LIBMARIADB_SONAME", "libmariadb.so.3"));
    if (api && api->mysql_server_init(0, nullptr, nullptr) != 0) {
      return make_error("libmariadb.so.3 failed to initialise (mysql_library_init)");
    }
    return api;
  }();
  if (!loaded) return make_error(loaded.error());
  return &loaded.value();
}

}  // namespace xj
