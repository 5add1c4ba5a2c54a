// Fetching an endpoint's certificate chain: TCP with a deadline (tcp_connect.hpp), optional
// STARTTLS, a non-blocking OpenSSL handshake that does not verify, the chain as PEM.
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

#include "tcp_connect.hpp"
#include "xj/checks/tls_cert_check.hpp"
#include "xj/common/openssl_loader.hpp"

namespace xj {

namespace {

using Clock = std::chrono::steady_clock;

std::string ssl_error_text() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "connection closed during the handshake";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

Expected<bool> send_all(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    if (!wait_fd(fd, POLLOUT, deadline)) return make_error("timed out writing");
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return make_error(errno_text(errno));
    if (n > 0) data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Reads SMTP reply lines until the last one ("250 ok", not "250-more"); returns its code.
Expected<int> smtp_reply(int fd, Clock::time_point deadline) {
  std::string buf;
  while (buf.size() < 16384) {
    // Look for a complete final line: "ddd " at the start of a line, ending in \n.
    std::size_t start = 0;
    for (std::size_t nl; (nl = buf.find('\n', start)) != std::string::npos; start = nl + 1) {
      const std::string line = buf.substr(start, nl - start);
      if (line.size() >= 4 && line[3] == ' ') return std::atoi(line.substr(0, 3).c_str());
      if (line.size() == 3 || (line.size() == 4 && line[3] == '\r')) {
        return std::atoi(line.c_str());
      }
    }
    if (!wait_fd(fd, POLLIN, deadline)) return make_error("timed out waiting for the SMTP server");
    char chunk[1024];
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n == 0) return make_error("SMTP server closed the connection");
    if (n < 0 && errno != EAGAIN && errno != EINTR) return make_error(errno_text(errno));
    if (n > 0) buf.append(chunk, static_cast<std::size_t>(n));
  }
  return make_error("SMTP reply too long");
}

Expected<bool> start_tls(int fd, StartTls mode, Clock::time_point deadline) {
  if (mode == StartTls::kNone) return true;
  if (mode == StartTls::kPostgres) {
    // SSLRequest: length 8, code 80877103; the server answers 'S' (go ahead) or 'N'.
    static const char request[8] = {0, 0, 0, 8, 0x04, static_cast<char>(0xd2), 0x16, 0x2f};
    if (auto s = send_all(fd, std::string_view(request, 8), deadline); !s) return s;
    if (!wait_fd(fd, POLLIN, deadline)) return make_error("timed out waiting for PostgreSQL");
    char answer = 0;
    if (::recv(fd, &answer, 1, 0) != 1) return make_error("PostgreSQL closed the connection");
    if (answer != 'S') return make_error("PostgreSQL server does not offer SSL");
    return true;
  }
  auto greeting = smtp_reply(fd, deadline);
  if (!greeting) return make_error(greeting.error());
  if (*greeting != 220) return make_error("SMTP greeting " + std::to_string(*greeting));
  if (auto s = send_all(fd, "EHLO xunjian-agent\r\n", deadline); !s) return s;
  auto ehlo = smtp_reply(fd, deadline);
  if (!ehlo) return make_error(ehlo.error());
  if (*ehlo != 250) return make_error("SMTP EHLO answered " + std::to_string(*ehlo));
  if (auto s = send_all(fd, "STARTTLS\r\n", deadline); !s) return s;
  auto go = smtp_reply(fd, deadline);
  if (!go) return make_error(go.error());
  if (*go != 220) return make_error("SMTP STARTTLS answered " + std::to_string(*go));
  return true;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

Expected<std::vector<CertInfo>> fetch_certificates(const std::string& host, int port,
                                                   const std::string& sni, StartTls starttls,
                                                   Clock::time_point deadline) {
  const std::string where = host_port(host, port);
  auto fail = [&](const std::string& why) { return make_error(where + ": " + why); };
  if (const std::string& why = openssl_load_error(); !why.empty()) return fail(why);
  auto endpoints = resolve_tcp(host, port, deadline);
  if (!endpoints) return fail(endpoints.error());
  std::string last_error = "no address";
  for (const auto& ep : *endpoints) {
    auto sock = connect_tcp(ep, deadline);
    if (!sock) {
      last_error = "connect to " + ep.text + ": " + sock.error();
      continue;
    }
    if (auto s = start_tls(sock->get(), starttls, deadline); !s) return fail(s.error());
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                          &SSL_CTX_free);
    if (!ctx) return fail(ssl_error_text());
    // We inspect certificates, we do not trust them: no verification, and old algorithms
    // allowed so that a weak certificate is reported rather than hidden by a failed handshake.
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_security_level(ctx.get(), 0);
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), &SSL_free);
    SSL_set_fd(ssl.get(), sock->get());
    if (!sni.empty() && !is_ip_literal(sni)) SSL_set_tlsext_host_name(ssl.get(), sni.c_str());
    while (true) {
      const int rc = SSL_connect(ssl.get());
      if (rc == 1) break;
      const int err = SSL_get_error(ssl.get(), rc);
      short events = 0;
      if (err == SSL_ERROR_WANT_READ) events = POLLIN;
      if (err == SSL_ERROR_WANT_WRITE) events = POLLOUT;
      if (events == 0) return fail("TLS handshake: " + ssl_error_text());
      if (!wait_fd(sock->get(), events, deadline)) return fail("TLS handshake timed out");
    }
    STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl.get());
    if (chain == nullptr || sk_X509_num(chain) == 0) return fail("no certificate presented");
    BIO* bio = BIO_new(BIO_s_mem());
    for (int i = 0; i < sk_X509_num(chain); ++i) PEM_write_bio_X509(bio, sk_X509_value(chain, i));
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    auto certs = parse_certificates(std::string_view(data, static_cast<std::size_t>(n)));
    BIO_free(bio);
    if (!certs) return fail(certs.error());
    return certs;
  }
  return fail(last_error);
}

}  // namespace xj
