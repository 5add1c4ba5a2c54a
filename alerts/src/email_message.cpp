#include "xj/alerts/email_message.hpp"

#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

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
  if (auto it = m.fields.find("subject"); it != m.fields.end() && !it->second.empty()) return it->second;
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
                        std::int64_t now_ms, const std::vector<EmailAttachment>& attachments) {
  std::string body = m.text;
  if (body.empty() || body.back() != '\n') body += '\n';
  std::string crlf;  // the body with CRLF line ends, as SMTP carries text
  for (char c : body) {
    if (c == '\n' && (crlf.empty() || crlf.back() != '\r')) crlf += '\r';
    crlf += c;
  }
  const std::string message_id = detail::hex(detail::hmac_sha256("xunjian", m.idempotency_key)).substr(0, 32);
  auto base64_lines = [](std::string_view bytes) {
    const std::string b64 = detail::base64(bytes);
    std::string out;
    for (std::size_t i = 0; i < b64.size(); i += 76) out += b64.substr(i, 76) + "\r\n";
    return out;
  };
  std::string mail;
  mail += "From: " + no_crlf(from) + "\r\n";
  mail += "To: " + no_crlf(m.recipient) + "\r\n";
  mail += "Subject: " + encode_header_words(std::string(prefix) + no_crlf(subject_of(m))) + "\r\n";
  mail += "Date: " + rfc5322_date(now_ms) + "\r\n";
  mail += "Message-ID: <" + message_id + "@xunjian>\r\n";
  mail += "MIME-Version: 1.0\r\n";
  mail += "X-Xunjian-Idempotency-Key: " + no_crlf(m.idempotency_key) + "\r\n";
  if (attachments.empty()) {
    mail += "Content-Type: text/plain; charset=UTF-8\r\n";
    mail += "Content-Transfer-Encoding: base64\r\n\r\n";
    return mail + base64_lines(crlf);
  }
  // The boundary cannot occur in base64 text (it has '=' and '_' around no base64 run).
  const std::string boundary = "=_xunjian_" + message_id;
  mail += "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n";
  mail += "This is a MIME message with attachments.\r\n";
  mail += "--" + boundary + "\r\nContent-Type: text/plain; charset=UTF-8\r\n"
          "Content-Transfer-Encoding: base64\r\n\r\n" + base64_lines(crlf);
  for (const auto& a : attachments) {
    const std::string name = no_crlf(a.name);
    mail += "--" + boundary + "\r\nContent-Type: " + no_crlf(a.content_type) + "; name=\"" + name + "\"\r\n" +
            "Content-Disposition: attachment; filename=\"" + name + "\"\r\n" +
            "Content-Transfer-Encoding: base64\r\n\r\n" + base64_lines(a.bytes);
  }
  return mail + "--" + boundary + "--\r\n";
}

Expected<std::vector<EmailAttachment>> load_attachments(const OutboxMessage& m) {
  std::vector<EmailAttachment> out;
  auto it = m.fields.find("attachments");
  if (it == m.fields.end() || it->second.empty()) return out;
  const auto list = nlohmann::json::parse(it->second, nullptr, false);
  if (!list.is_array()) return make_error("the message's attachment list is not a JSON list");
  for (const auto& a : list) {
    const std::string path = a.value("path", ""), name = a.value("name", "");
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error("attachment " + name + ": cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    EmailAttachment att{name, a.value("type", "application/octet-stream"), ss.str()};
    if (detail::hex(detail::sha256(att.bytes)) != a.value("sha256", "")) {
      return make_error("attachment " + name + ": " + path + " no longer matches its archived SHA-256");
    }
    out.push_back(std::move(att));
  }
  return out;
}

}  // namespace xj::alerts
