// E-mail over SMTP through libcurl (collector only: the agent does not link libcurl, see
// docs/ARCHITECTURE.md). One message per recipient, plain UTF-8 text in base64 (with a report's
// files as attachments), the subject as RFC 2047 encoded-words; 5xx answers are final, 4xx and
// connection failures are retried.
#include <curl/curl.h>

#include <cstring>
#include <ctime>
#include <mutex>

#include "detail/channel_factories.hpp"
#include "detail/signing.hpp"
#include "xj/alerts/email_message.hpp"

namespace xj::alerts {
namespace {

struct Upload {
  std::string_view data;
  std::size_t pos = 0;
};

std::size_t read_cb(char* buf, std::size_t size, std::size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  const std::size_t len = std::min(size * n, u->data.size() - u->pos);
  std::memcpy(buf, u->data.data() + u->pos, len);
  u->pos += len;
  return len;
}

// The server's replies arrive as "header" data: keep the last refusal (4xx, 5xx) for the
// error text (the 221 to QUIT comes after it).
int debug_cb(CURL*, curl_infotype type, char* data, std::size_t size, void* user) {
  if (type == CURLINFO_HEADER_IN && size > 0 && (data[0] == '4' || data[0] == '5')) {
    std::string line(data, size);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    *static_cast<std::string*>(user) = line;
  }
  return 0;
}

class EmailChannel final : public Channel {
 public:
  EmailChannel(ChannelConfig c, WallClock clock) : cfg_(std::move(c)), clock_(std::move(clock)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (cfg_.max_bytes == 0) cfg_.max_bytes = 256 * 1024;
  }
  const ChannelConfig& config() const override { return cfg_; }
  std::size_t max_text_bytes() const override { return cfg_.max_bytes; }

  SendOutcome send(const OutboxMessage& m) override {
    SendOutcome o;
    const std::string who = "email channel '" + cfg_.name + "' to " + m.recipient + ": ";
    if (m.recipient.empty()) {
      o.retry = false;
      o.error = "email channel '" + cfg_.name + "': the message has no recipient";
      return o;
    }
    // A delivered report's files: read at sending time and checked against the archive, so a
    // file changed since would never go out as the report (final: retrying changes nothing).
    auto attachments = load_attachments(m);
    if (!attachments) {
      o.retry = false;
      o.error = who + attachments.error();
      return o;
    }
    const std::string mail = build_email(m, cfg_.email.from, cfg_.email.subject_prefix, clock_(), *attachments);
    CURL* c = curl_easy_init();
    if (c == nullptr) {
      o.error = who + "cannot start libcurl";
      return o;
    }
    Upload up{mail};
    std::string last_reply;
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_slist* rcpt = curl_slist_append(nullptr, ("<" + m.recipient + ">").c_str());
    const std::string from = "<" + cfg_.email.from + ">";
    curl_easy_setopt(c, CURLOPT_URL, cfg_.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(cfg_.timeout.count()));
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, &last_reply);
    if (cfg_.url.rfind("smtp://", 0) == 0 && cfg_.email.starttls) {
      curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    }
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, cfg_.email.verify_tls ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, cfg_.email.verify_tls ? 2L : 0L);
    if (!cfg_.email.ca_file.empty())
      curl_easy_setopt(c, CURLOPT_CAINFO, cfg_.email.ca_file.c_str());
    if (!cfg_.key.empty()) {
      curl_easy_setopt(c, CURLOPT_USERNAME, cfg_.key.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, cfg_.secret.c_str());
    }
    const CURLcode res = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    if (res == CURLE_OK) {
      o.delivered = true;
      return o;
    }
    if (code >= 400 && code < 600 && !last_reply.empty()) {
      o.error = who + "the server answered " + last_reply;
    } else {
      o.error = who + (errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(res));
    }
    // 5xx: the server refused for good (unknown mailbox, relaying denied, bad login).
    // 4xx (greylisting, a full queue) and no answer at all: try again later.
    o.retry = !(code >= 500 && code < 600) && res != CURLE_URL_MALFORMAT &&
              res != CURLE_UNSUPPORTED_PROTOCOL;
    return o;
  }

 private:
  ChannelConfig cfg_;
  WallClock clock_;
};

}  // namespace

namespace detail {

std::unique_ptr<Channel> make_email_channel(const ChannelConfig& c, WallClock clock) {
  return std::make_unique<EmailChannel>(c, std::move(clock));
}

}  // namespace detail
}  // namespace xj::alerts
