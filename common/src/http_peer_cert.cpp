// peer_certificate() of http_client_detail.hpp: what monitoring wants from the server's
// certificate, read with OpenSSL.
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>

#include "http_client_detail.hpp"

namespace xj::detail {

namespace {

// Epoch seconds of a broken-down UTC time, without timegm's dependence on the process.
std::int64_t epoch_seconds(const std::tm& tm) {
  using namespace std::chrono;
  const sys_days day = year(tm.tm_year + 1900) / month(static_cast<unsigned>(tm.tm_mon + 1)) /
                       std::chrono::day(static_cast<unsigned>(tm.tm_mday));
  return duration_cast<seconds>(day.time_since_epoch()).count() + tm.tm_hour * 3600 +
         tm.tm_min * 60 + tm.tm_sec;
}

std::string name_text(const X509_NAME* name) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  // RFC 2253 but UTF-8 kept as is: Chinese organisation names stay readable.
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
    return "";
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace

std::optional<PeerCertificate> peer_certificate(ssl_st* ssl) {
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl), &X509_free);
  std::tm tm{};
  if (!cert || ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) != 1) return std::nullopt;
  return PeerCertificate{epoch_seconds(tm), name_text(X509_get_subject_name(cert.get())),
                         name_text(X509_get_issuer_name(cert.get()))};
}

}  // namespace xj::detail
