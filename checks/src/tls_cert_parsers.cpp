#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>

#include "xj/checks/tls_cert_check.hpp"
#include "xj/common/openssl_loader.hpp"

namespace xj {

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

std::string name_text(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

std::int64_t epoch(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::vector<std::string> alt_names(X509* x) {
  std::vector<std::string> out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    if (g->type == GEN_DNS) {
      const auto* s = g->d.dNSName;
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                         static_cast<std::size_t>(ASN1_STRING_length(s))));
    } else if (g->type == GEN_IPADD) {
      const auto* s = g->d.iPAddress;
      const unsigned char* b = ASN1_STRING_get0_data(s);
      char buf[64] = {0};
      if (ASN1_STRING_length(s) == 4) {
        std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
      } else if (ASN1_STRING_length(s) == 16) {
        for (int k = 0; k < 16; k += 2) {
          std::snprintf(buf + std::strlen(buf), sizeof buf - std::strlen(buf), "%s%x", k ? ":" : "",
                        (b[k] << 8) | b[k + 1]);
        }
      }
      out.push_back(std::string("IP:") + buf);
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string key_type(X509* x) {
  EVP_PKEY* key = X509_get0_pubkey(x);
  if (key == nullptr) return "unknown";
  // An SM2 key in a certificate is an EC key on the SM2 curve.
  if (EVP_PKEY_is_a(key, "SM2")) return "SM2";
  if (EVP_PKEY_is_a(key, "EC")) {
    char curve[64] = {0};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof curve, &len) == 1 &&
        std::string(curve) == "SM2") {
      return "SM2";
    }
    return "EC";
  }
  const char* name = EVP_PKEY_get0_type_name(key);
  return name != nullptr ? name : "unknown";
}

CertInfo describe(X509* x) {
  CertInfo c;
  c.subject = name_text(X509_get_subject_name(x));
  c.issuer = name_text(X509_get_issuer_name(x));
  c.sans = alt_names(x);
  c.not_before = epoch(X509_get0_notBefore(x));
  c.not_after = epoch(X509_get0_notAfter(x));
  // EXFLAG_SS: issuer and subject match and (if present) the key identifiers do; that is how
  // OpenSSL itself decides a certificate is self-issued.
  c.self_signed = (X509_get_extension_flags(x) & EXFLAG_SS) != 0;
  c.key_type = key_type(x);
  c.signature = OBJ_nid2ln(X509_get_signature_nid(x));
  unsigned char* der = nullptr;
  const int n = i2d_X509(x, &der);
  if (n > 0) {
    c.der.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
  }
  return c;
}

}  // namespace

Expected<std::vector<CertInfo>> parse_certificates(std::string_view data) {
  if (const std::string& why = openssl_load_error(); !why.empty()) return make_error(why);
  std::vector<CertInfo> out;
  if (data.find("-----BEGIN") != std::string_view::npos) {
    BIO* bio = BIO_new_mem_buf(data.data(), static_cast<int>(data.size()));
    // PEM_read_bio_X509 skips blocks of other types (keys, parameters) on its way.
    while (X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      out.push_back(describe(x));
      X509_free(x);
    }
    BIO_free(bio);
    ERR_clear_error();  // the loop ends with "no start line"
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(data.size())));
    ERR_clear_error();
    if (x) out.push_back(describe(x.get()));
  }
  if (out.empty()) return make_error("no certificate found (neither PEM nor DER)");
  return out;
}

bool certificate_matches_host(const CertInfo& cert, const std::string& host) {
  const auto* p = reinterpret_cast<const unsigned char*>(cert.der.data());
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(cert.der.size())));
  if (!x) return false;
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (X509_check_ip_asc(x.get(), h.c_str(), 0) == 1) return true;
  return X509_check_host(x.get(), h.data(), h.size(), 0, nullptr) == 1;
}

}  // namespace xj
