#include "shared_library.hpp"

#include <dlfcn.h>

#include <cstdlib>

namespace xj {

Expected<SharedLibrary> SharedLibrary::open(const std::string& soname, const std::string& package) {
  dlerror();  // clear a stale message
  void* h = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* why = dlerror();
    return make_error(soname + " cannot be loaded (install the Debian package " + package +
                      "): " + (why != nullptr ? why : "unknown dlopen error"));
  }
  return SharedLibrary(h, soname, package);
}

void* SharedLibrary::symbol(const char* name) {
  void* p = dlsym(handle_, name);
  if (p == nullptr) missing_ += (missing_.empty() ? "" : ", ") + std::string(name);
  return p;
}

std::string SharedLibrary::missing() const {
  if (missing_.empty()) return "";
  return soname_ + " lacks " + missing_ + " (is the Debian package " + package_ +
         " too old or replaced?)";
}

std::string soname_or_test_override(const char* test_override, const char* default_soname) {
  const char* v = std::getenv(test_override);
  return v != nullptr && *v != '\0' ? v : default_soname;
}

}  // namespace xj
