#include "xj/alerts/email_message.hpp"

#include <cstdio>
#include <ctime>

#include "detail/signing.hpp"

namespace xj::alerts {
namespace {

bool plain_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return s.find("=?") == std::string_view::npos;
}

std::string subject_of(const OutboxMessage& m) {
  std::string line = m.text.substr(0, m.text.find('\n'));
  std::size_t start = line.find_first_not_of("#> ");
  line = start == std::string::npos ? "" : line.substr(start);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line.empty() ? std::string("xunjian") : line;
}

std::string no_crlf(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

}  // namespace

std::string encode_header_words(std::string_view text) {
  if (plain_ascii(text) && text.size() <= 900) return std::string(text);
  // 75 characters per word: "=?UTF-8?B?" + 60 base64 characters + "?=" = 72, i.e. 45 bytes of
  // text per word, cut on a character boundary.
  std::string out;
  while (!text.empty()) {
    std::size_t cut = std::min<std::size_t>(45, text.size());
    while (cut > 0 && cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
      --cut;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + detail::base64(text.substr(0, cut)) + "?=";
    text.remove_prefix(cut);
  }
  return out;
}

std::string rfc5322_date(std::int64_t epoch_ms) {
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  const long off = tm.tm_gmtoff / 60;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
                off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
  return buf;
}

std::string build_email(const OutboxMessage& m, std::string_view from, std::string_view prefix,
                        std::int64_t now_ms) {
  std::string body = m.text;
  if (body.empty() || body.back() != '\n') body += '\n';
  std::string crlf;  // the body with CRLF line ends, as SMTP carries text
  for (char c : body) {
    if (c == '\n' && (crlf.empty() || crlf.back() != '\r')) crlf += '\r';
    crlf += c;
  }
  const std::string b64 = detail::base64(crlf);
  std::string mail;
  mail += "From: " + no_crlf(from) + "\r\n";
  mail += "To: " + no_crlf(m.recipient) + "\r\n";
  mail += "Subject: " + encode_header_words(std::string(prefix) + subject_of(m)) + "\r\n";
  mail += "Date: " + rfc5322_date(now_ms) + "\r\n";
  mail += "Message-ID: <" + detail::hex(detail::hmac_sha256("xunjian", m.idempotency_key)).substr(0, 32) +
          "@xunjian>\r\n";
  mail += "MIME-Version: 1.0\r\n";
  mail += "Content-Type: text/plain; charset=UTF-8\r\n";
  mail += "Content-Transfer-Encoding: base64\r\n";
  mail += "X-Xunjian-Idempotency-Key: " + no_crlf(m.idempotency_key) + "\r\n";
  mail += "\r\n";
  for (std::size_t i = 0; i < b64.size(); i += 76) mail += b64.substr(i, 76) + "\r\n";
  return mail;
}

}  // namespace xj::alerts
