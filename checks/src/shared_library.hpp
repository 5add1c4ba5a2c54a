// A client library opened with dlopen when a check first needs it. The database checks load
// their drivers this way (libpq_api.hpp, mariadb_api.hpp, odbc_api.hpp), so an agent without
// a database check never maps them nor what they pull in (GnuTLS, p11-kit, Kerberos, LDAP),
// and a missing driver is an `unknown` result naming the package instead of an agent that
// cannot start. Private to checks/.
#pragma once

#include <string>

#include "xj/common/expected.hpp"

namespace xj {

class SharedLibrary {
 public:
  // Opens soname with RTLD_NOW | RTLD_LOCAL and keeps it for the life of the process (the
  // drivers register atexit handlers, so they are never closed). The error names the
  // library, the Debian package that ships it and the loader's cause:
  // "libpq.so.5 cannot be loaded (install the Debian package libpq5): libpq.so.5: cannot
  // open shared object file: No such file or directory".
  static Expected<SharedLibrary> open(const std::string& soname, const std::string& package);

  // Points fn at the function `name` of the library, or at nullptr when it has none; after
  // the last bind, missing() says which ones were absent.
  template <class Fn>
  void bind(Fn& fn, const char* name) {
    fn = reinterpret_cast<Fn>(symbol(name));
  }
  // Empty when every bind() found its function, else an error message naming them.
  std::string missing() const;

 private:
  SharedLibrary(void* handle, std::string soname, std::string package)
      : handle_(handle), soname_(std::move(soname)), package_(std::move(package)) {}
  void* symbol(const char* name);

  void* handle_;
  std::string soname_, package_, missing_;
};

// The soname a loader opens: the value of the environment variable `test_override` when it
// is set, else default_soname. The variables (XJ_TEST_LIBPQ_SONAME, XJ_TEST_LIBMARIADB_SONAME,
// XJ_TEST_LIBODBC_SONAME) exist for tests, which point them at a library that does not
// exist to see the real dlopen failure; they are not a configuration interface.
std::string soname_or_test_override(const char* test_override, const char* default_soname);

// Opens soname and fills an API table (a struct of function pointers) with bind_all(lib,
// api); an error when the library cannot be opened or lacks one of the functions.
template <class Api, class BindAll>
Expected<Api> load_api(const std::string& soname, const std::string& package, BindAll bind_all) {
  auto lib = SharedLibrary::open(soname, package);
  if (!lib) return make_error(lib.error());
  Api api;
  bind_all(lib.value(), api);
  if (auto missing = lib->missing(); !missing.empty()) return make_error(missing);
  return api;
}

}  // namespace xj

// For the API tables: a member named and typed after the library's function `fn` (the type
// from the library's own header), and binding that member in a load_api bind_all.
#define XJ_API_MEMBER(fn) decltype(&::fn) fn = nullptr;
#define XJ_API_BIND(fn) lib.bind(api.fn, #fn);
