// OpenSSL opened on first use, for xunjian-agent only (openssl_loader.hpp says why). This file
// defines every OpenSSL function the agent calls, with the prototypes of <openssl/*.h> (the
// definitions are extern "C", so a prototype that differs from the header's does not compile).
// The first call opens libssl.so.3 (which brings libcrypto.so.3) with RTLD_LOCAL and looks all
// of them up in THAT handle: never RTLD_DEFAULT or RTLD_NEXT, which could find these very
// definitions. The agent links this library instead of libssl/libcrypto, and does not export
// these names (-Wl,--exclude-libs in agent/CMakeLists.txt), so libpq, which the postgres check
// opens and which links libssl itself, binds to the real OpenSSL, opened once for both.
//
// When the library cannot be opened every function fails the way OpenSSL reports failure
// (nullptr, 0 or -1, nothing on the error queue); callers that start TLS work ask
// openssl_load_error() first and report its message. Nothing here aborts.
//
// A new OpenSSL call in common/ or checks/ that the agent reaches is a link error of the agent
// until its line is added below (list: nm -D --undefined-only <a linked agent> | grep OPENSSL_3).
#include <dlfcn.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/stack.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>

#include "xj/common/openssl_loader.hpp"

// X(return type, name, parameters, arguments, value when OpenSSL is not loaded);
// V(name, parameters, arguments) for the functions returning void.
#define XJ_OPENSSL_FUNCTIONS(X, V)                                                                \
  /* libcrypto: ASN.1, BIO, errors, keys, objects, PEM, stacks, X.509 */                          \
  X(const unsigned char*, ASN1_STRING_get0_data, (const ASN1_STRING* x), (x), nullptr)            \
  X(int, ASN1_STRING_length, (const ASN1_STRING* x), (x), 0)                                      \
  X(int, ASN1_TIME_to_tm, (const ASN1_TIME* s, struct tm* tm), (s, tm), 0)                        \
  X(long, BIO_ctrl, (BIO * bp, int cmd, long larg, void* parg), (bp, cmd, larg, parg), 0)         \
  X(size_t, BIO_ctrl_pending, (BIO * b), (b), 0)                                                  \
  X(int, BIO_free, (BIO * a), (a), 0)                                                             \
  X(BIO*, BIO_new, (const BIO_METHOD* type), (type), nullptr)                                     \
  X(int, BIO_new_bio_pair, (BIO * *bio1, size_t writebuf1, BIO * *bio2, size_t writebuf2),        \
    (bio1, writebuf1, bio2, writebuf2), 0)                                                        \
  X(BIO*, BIO_new_mem_buf, (const void* buf, int len), (buf, len), nullptr)                       \
  X(int, BIO_read, (BIO * b, void* data, int dlen), (b, data, dlen), -1)                          \
  X(const BIO_METHOD*, BIO_s_mem, (void), (), nullptr)                                            \
  X(int, BIO_write, (BIO * b, const void* data, int dlen), (b, data, dlen), -1)                   \
  V(CRYPTO_free, (void* ptr, const char* file, int line), (ptr, file, line))                      \
  V(ERR_clear_error, (void), ())                                                                  \
  X(unsigned long, ERR_get_error, (void), (), 0)                                                  \
  X(const char*, ERR_reason_error_string, (unsigned long e), (e), nullptr)                        \
  X(const char*, EVP_PKEY_get0_type_name, (const EVP_PKEY* key), (key), nullptr)                  \
  X(int, EVP_PKEY_get_utf8_string_param,                                                          \
    (const EVP_PKEY* pkey, const char* key_name, char* str, size_t max_buf_sz, size_t* out_sz),   \
    (pkey, key_name, str, max_buf_sz, out_sz), 0)                                                 \
  X(int, EVP_PKEY_is_a, (const EVP_PKEY* pkey, const char* name), (pkey, name), 0)                \
  V(GENERAL_NAMES_free, (GENERAL_NAMES * a), (a))                                                 \
  X(const char*, OBJ_nid2ln, (int n), (n), nullptr)                                               \
  X(int, OPENSSL_sk_num, (const OPENSSL_STACK* st), (st), -1)                                     \
  X(void*, OPENSSL_sk_value, (const OPENSSL_STACK* st, int i), (st, i), nullptr)                  \
  X(X509*, PEM_read_bio_X509, (BIO * out, X509 * *x, pem_password_cb * cb, void* u),              \
    (out, x, cb, u), nullptr)                                                                     \
  X(int, PEM_write_bio_X509, (BIO * out, const X509* x), (out, x), 0)                             \
  X(int, X509_NAME_print_ex, (BIO * out, const X509_NAME* nm, int indent, unsigned long flags),   \
    (out, nm, indent, flags), -1)                                                                 \
  X(int, X509_VERIFY_PARAM_set1_ip_asc, (X509_VERIFY_PARAM * param, const char* ipasc),           \
    (param, ipasc), 0)                                                                            \
  X(int, X509_check_host,                                                                         \
    (X509 * x, const char* chk, size_t chklen, unsigned int flags, char** peername),              \
    (x, chk, chklen, flags, peername), 0)                                                         \
  X(int, X509_check_ip_asc, (X509 * x, const char* ipasc, unsigned int flags), (x, ipasc, flags), \
    0)                                                                                            \
  V(X509_free, (X509 * a), (a))                                                                   \
  X(const ASN1_TIME*, X509_get0_notAfter, (const X509* x), (x), nullptr)                          \
  X(const ASN1_TIME*, X509_get0_notBefore, (const X509* x), (x), nullptr)                         \
  X(EVP_PKEY*, X509_get0_pubkey, (const X509* x), (x), nullptr)                                   \
  X(void*, X509_get_ext_d2i, (const X509* x, int nid, int* crit, int* idx), (x, nid, crit, idx),  \
    nullptr)                                                                                      \
  X(uint32_t, X509_get_extension_flags, (X509 * x), (x), 0)                                       \
  X(X509_NAME*, X509_get_issuer_name, (const X509* a), (a), nullptr)                              \
  X(int, X509_get_signature_nid, (const X509* x), (x), NID_undef)                                 \
  X(X509_NAME*, X509_get_subject_name, (const X509* a), (a), nullptr)                             \
  X(X509*, d2i_X509, (X509 * *a, const unsigned char** in, long len), (a, in, len), nullptr)      \
  X(int, i2d_X509, (const X509* a, unsigned char** out), (a, out), -1)                            \
  /* libssl */                                                                                    \
  X(long, SSL_CTX_ctrl, (SSL_CTX * ctx, int cmd, long larg, void* parg), (ctx, cmd, larg, parg),  \
    0)                                                                                            \
  V(SSL_CTX_free, (SSL_CTX * ctx), (ctx))                                                         \
  X(void*, SSL_CTX_get_default_passwd_cb_userdata, (SSL_CTX * ctx), (ctx), nullptr)               \
  X(void*, SSL_CTX_get_ex_data, (const SSL_CTX* ssl, int idx), (ssl, idx), nullptr)               \
  X(SSL_verify_cb, SSL_CTX_get_verify_callback, (const SSL_CTX* ctx), (ctx), nullptr)             \
  X(int, SSL_CTX_load_verify_locations, (SSL_CTX * ctx, const char* CAfile, const char* CApath),  \
    (ctx, CAfile, CApath), 0)                                                                     \
  X(SSL_CTX*, SSL_CTX_new, (const SSL_METHOD* meth), (meth), nullptr)                             \
  V(SSL_CTX_set_default_passwd_cb_userdata, (SSL_CTX * ctx, void* u), (ctx, u))                   \
  X(int, SSL_CTX_set_default_verify_paths, (SSL_CTX * ctx), (ctx), 0)                             \
  X(int, SSL_CTX_set_ex_data, (SSL_CTX * ssl, int idx, void* data), (ssl, idx, data), 0)          \
  X(uint64_t, SSL_CTX_set_options, (SSL_CTX * ctx, uint64_t op), (ctx, op), 0)                    \
  V(SSL_CTX_set_security_level, (SSL_CTX * ctx, int level), (ctx, level))                         \
  V(SSL_CTX_set_verify, (SSL_CTX * ctx, int mode, SSL_verify_cb callback), (ctx, mode, callback)) \
  X(int, SSL_CTX_use_PrivateKey_file, (SSL_CTX * ctx, const char* file, int type),                \
    (ctx, file, type), 0)                                                                         \
  X(int, SSL_CTX_use_certificate_chain_file, (SSL_CTX * ctx, const char* file), (ctx, file), 0)   \
  X(int, SSL_accept, (SSL * ssl), (ssl), -1)                                                      \
  X(int, SSL_connect, (SSL * ssl), (ssl), -1)                                                     \
  X(long, SSL_ctrl, (SSL * ssl, int cmd, long larg, void* parg), (ssl, cmd, larg, parg), 0)       \
  V(SSL_free, (SSL * ssl), (ssl))                                                                 \
  X(X509_VERIFY_PARAM*, SSL_get0_param, (SSL * ssl), (ssl), nullptr)                              \
  X(X509*, SSL_get1_peer_certificate, (const SSL* s), (s), nullptr)                               \
  X(int, SSL_get_error, (const SSL* s, int ret_code), (s, ret_code), SSL_ERROR_SSL)               \
  X(void*, SSL_get_ex_data, (const SSL* ssl, int idx), (ssl, idx), nullptr)                       \
  X(STACK_OF(X509)*, SSL_get_peer_cert_chain, (const SSL* s), (s), nullptr)                       \
  X(int, SSL_get_shutdown, (const SSL* ssl), (ssl), 0)                                            \
  X(long, SSL_get_verify_result, (const SSL* ssl), (ssl), X509_V_ERR_UNSPECIFIED)                 \
  X(SSL*, SSL_new, (SSL_CTX * ctx), (ctx), nullptr)                                               \
  X(int, SSL_read, (SSL * ssl, void* buf, int num), (ssl, buf, num), -1)                          \
  X(int, SSL_set1_host, (SSL * s, const char* hostname), (s, hostname), 0)                        \
  V(SSL_set_bio, (SSL * s, BIO * rbio, BIO * wbio), (s, rbio, wbio))                              \
  X(int, SSL_set_ex_data, (SSL * ssl, int idx, void* data), (ssl, idx, data), 0)                  \
  X(int, SSL_set_fd, (SSL * s, int fd), (s, fd), 0)                                               \
  V(SSL_set_hostflags, (SSL * s, unsigned int flags), (s, flags))                                 \
  X(int, SSL_write, (SSL * ssl, const void* buf, int num), (ssl, buf, num), -1)                   \
  X(const SSL_METHOD*, TLS_client_method, (void), (), nullptr)                                    \
  X(const SSL_METHOD*, TLS_method, (void), (), nullptr)                                           \
  X(const SSL_METHOD*, TLS_server_method, (void), (), nullptr)

namespace xj {

namespace {

struct Api {
#define XJ_MEMBER(ret, name, params, args, fail) decltype(&::name) name = nullptr;
#define XJ_VOID_MEMBER(name, params, args) decltype(&::name) name = nullptr;
  XJ_OPENSSL_FUNCTIONS(XJ_MEMBER, XJ_VOID_MEMBER)
  XJ_MEMBER(void, ERR_error_string_n, , , )
  XJ_MEMBER(const char*, X509_verify_cert_error_string, , , )
#undef XJ_MEMBER
#undef XJ_VOID_MEMBER
};

struct OpenSsl {
  Api api;            // all null unless every function was found
  std::string error;  // empty when loaded
};

OpenSsl open_openssl() {
  // For tests only (the failure path of a missing library), like XJ_TEST_LIBPQ_SONAME.
  const char* test_override = std::getenv("XJ_TEST_LIBSSL_SONAME");
  const std::string soname =
      test_override != nullptr && *test_override != '\0' ? test_override : "libssl.so.3";
  dlerror();  // clear a stale message
  // Never closed: OpenSSL registers atexit handlers.
  void* handle = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return {{}, "cannot load " + soname + ": " + (why != nullptr ? why : "unknown dlopen error")};
  }
  OpenSsl o;
  std::string missing;
  // dlsym on libssl's handle also searches what it depends on, i.e. libcrypto.so.3.
  auto bind = [&](auto& fn, const char* name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(handle, name));
    if (fn == nullptr) missing += (missing.empty() ? "" : ", ") + std::string(name);
  };
#define XJ_BIND(ret, name, params, args, fail) bind(o.api.name, #name);
#define XJ_VOID_BIND(name, params, args) bind(o.api.name, #name);
  XJ_OPENSSL_FUNCTIONS(XJ_BIND, XJ_VOID_BIND)
  XJ_BIND(, ERR_error_string_n, , , )
  XJ_BIND(, X509_verify_cert_error_string, , , )
#undef XJ_BIND
#undef XJ_VOID_BIND
  if (!missing.empty()) return {{}, "cannot load " + soname + ": it lacks " + missing};
  return o;
}

// Opened once, on the first call from any thread (a function-local static is thread-safe).
const OpenSsl& openssl() {
  static const OpenSsl o = open_openssl();
  return o;
}

}  // namespace

const std::string& openssl_load_error() { return openssl().error; }

}  // namespace xj

extern "C" {

#define XJ_FORWARD(ret, name, params, args, fail) \
  ret name params {                               \
    auto fn = xj::openssl().api.name;             \
    return fn != nullptr ? fn args : fail;        \
  }
#define XJ_VOID_FORWARD(name, params, args) \
  void name params {                        \
    auto fn = xj::openssl().api.name;       \
    if (fn != nullptr) fn args;             \
  }
XJ_OPENSSL_FUNCTIONS(XJ_FORWARD, XJ_VOID_FORWARD)
#undef XJ_FORWARD
#undef XJ_VOID_FORWARD

// These two write text callers print as is, so without OpenSSL they say why.
void ERR_error_string_n(unsigned long e, char* buf, size_t len) {
  const auto& o = xj::openssl();
  if (o.api.ERR_error_string_n != nullptr) return o.api.ERR_error_string_n(e, buf, len);
  if (len == 0) return;
  std::strncpy(buf, o.error.c_str(), len - 1);
  buf[len - 1] = '\0';
}

const char* X509_verify_cert_error_string(long n) {
  const auto& o = xj::openssl();
  return o.api.X509_verify_cert_error_string != nullptr ? o.api.X509_verify_cert_error_string(n)
                                                        : o.error.c_str();
}

}  // extern "C"
