// The personal channels (sms_http, aliyun_sms, email) against local stand-ins, since no real
// SMS provider or mail server can run here: tests/fixtures/sms_receiver.py plays a customer
// SMS gateway and Aliyun's SendSms (it verifies the RPC signature the way Aliyun documents
// it and answers its error codes); tests/fixtures/smtp_receiver.py is a real SMTP server
// (STARTTLS, AUTH, 451 and 550 on demand) that decodes what it receives.
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "memory_alert_store.hpp"
#include "robot_receiver.hpp"
#include "xj/alerts/channel.hpp"
#include "xj/alerts/email_message.hpp"
#include "xj/alerts/outbox_sender.hpp"

using namespace xj;
using namespace xj::alerts;
using xj::alerts::test::FixtureProcess;
using xj::alerts::test::MemoryAlertStore;
using xj::alerts::test::scratch;
using xj::alerts::test::wall;
namespace fs = std::filesystem;

namespace {

OutboxMessage message(const std::string& to, std::string text,
                      const std::string& key = "fp/1/firing/sms/x#1") {
  OutboxMessage m;
  m.idempotency_key = key;
  m.channel = "sms";
  m.transition = "firing";
  m.recipient = to;
  m.text = std::move(text);
  m.fields = {{"severity", "critical"}, {"host", "db-01"}, {"check", "disk:/"}};
  m.created_ms = wall();
  return m;
}

ChannelConfig gateway(const FixtureProcess& rx, const std::string& path) {
  ChannelConfig c;
  c.name = "sms";
  c.type = "sms_http";
  c.url = rx.base() + path;
  c.key = "gw-token";
  c.timeout = std::chrono::seconds(5);
  c.max_bytes = 500;
  c.max_chars = 70;
  c.sms.headers = {{"Authorization", "Bearer {{key}}"}};
  c.sms.success_pointer = "/code";
  c.sms.success_value = "0";
  return c;
}

ChannelConfig aliyun(const FixtureProcess& rx) {
  ChannelConfig c;
  c.name = "sms";
  c.type = "aliyun_sms";
  c.url = rx.base() + "/";
  c.key = "LTAItestkey";
  c.secret = "testsecret";
  c.timeout = std::chrono::seconds(5);
  c.aliyun.sign_name = "巡检平台";
  c.aliyun.template_code = "SMS_123456";
  c.aliyun.template_param = {{"host", "{{host}}"}, {"content", "{{text}}"}};
  return c;
}

const std::string kText = "【严重】db-01 disk:/ 告警：used \"93%\" & rising\n2026-11-22 22:03:10起";

}  // namespace

TEST_CASE("sms_http posts JSON with the text escaped and the key in a templated header", "[sms]") {
  FixtureProcess rx(scratch("sms-json"), "sms_receiver.py", {});
  auto cfg = gateway(rx, "/sms/json");
  cfg.sms.body = R"({"phone":"{{phone}}","text":"{{text}}","host":"{{host}}"})";
  auto o = make_channel(cfg, wall)->send(message("13800138000", kText));
  INFO(o.error);
  CHECK(o.delivered);
  auto got = rx.with_accepted(true);
  REQUIRE(got.size() == 1);
  CHECK(got[0]["service"] == "sms_json");
  CHECK(got[0]["phone"] == "13800138000");
  CHECK(got[0]["text"] == kText);  // quotes, newline and Chinese arrive intact
  CHECK(got[0]["fields"]["host"] == "db-01");
  CHECK(got[0]["key"] == "fp/1/firing/sms/x#1");
}

TEST_CASE("sms_http form-encodes the body for POST and the query for GET", "[sms]") {
  FixtureProcess rx(scratch("sms-form"), "sms_receiver.py", {});
  auto form = gateway(rx, "/sms/form");
  form.sms.content_type = "form";
  form.sms.body = "phone={{phone}}&text={{text}}";
  CHECK(make_channel(form, wall)->send(message("13800138000", kText)).delivered);
  auto get = gateway(rx, "/sms/get");
  get.sms.method = "GET";
  get.sms.body = "phone={{phone}}&text={{text}}";
  CHECK(make_channel(get, wall)->send(message("+8613900139000", kText)).delivered);
  auto got = rx.with_accepted(true);
  REQUIRE(got.size() == 2);
  CHECK(got[0]["service"] == "sms_form");
  CHECK(got[0]["text"] == kText);
  CHECK(got[1]["service"] == "sms_get");
  CHECK(got[1]["phone"] == "+8613900139000");  // '+' encoded, not read as a space
  CHECK(got[1]["text"] == kText);
}

TEST_CASE(
    "sms_http reads its success criterion: HTTP 200 with code 1001 is a failure, permanent when "
    "listed",
    "[sms]") {
  FixtureProcess rx(scratch("sms-code"), "sms_receiver.py", {"--bad-phone", "10000"});
  auto cfg = gateway(rx, "/sms/json");
  auto o = make_channel(cfg, wall)->send(message("10000", "x"));
  CHECK_FALSE(o.delivered);
  CHECK(o.retry);  // not listed as permanent: the sender's attempts decide
  CHECK(o.error.find("/code is 1001") != std::string::npos);
  cfg.sms.permanent_values = {"1001"};
  o = make_channel(cfg, wall)->send(message("10000", "x"));
  CHECK_FALSE(o.delivered);
  CHECK_FALSE(o.retry);
  CHECK(o.error.find("sms_http channel 'sms'") != std::string::npos);
  CHECK(rx.with_accepted(true).empty());
}

TEST_CASE("sms_http retries a 503 and gives up on a 401", "[sms]") {
  FixtureProcess rx(scratch("sms-http"), "sms_receiver.py", {"--fail", "1"});
  auto cfg = gateway(rx, "/sms/json");
  auto o = make_channel(cfg, wall)->send(message("13800138000", "x"));
  CHECK_FALSE(o.delivered);
  CHECK(o.retry);
  CHECK(o.error.find("HTTP 503") != std::string::npos);
  CHECK(make_channel(cfg, wall)->send(message("13800138000", "x")).delivered);
  cfg.key = "wrong";
  o = make_channel(cfg, wall)->send(message("13800138000", "x"));
  CHECK_FALSE(o.retry);
  CHECK(o.error.find("HTTP 401") != std::string::npos);
}

TEST_CASE("an SMS text over the gateway's limit is split into parts the gateway accepts", "[sms]") {
  FixtureProcess rx(scratch("sms-split"), "sms_receiver.py", {"--max-chars", "70"});
  std::string text;
  for (int i = 0; i < 50; ++i) text += "磁盘";  // 100 characters, 300 bytes
  const auto parts = split_utf8(text, 500, 70);
  REQUIRE(parts.size() == 2);
  auto ch = make_channel(gateway(rx, "/sms/json"), wall);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    CHECK(ch->send(message("13800138000", parts[i], "k#" + std::to_string(i + 1))).delivered);
  }
  auto got = rx.with_accepted(true);
  REQUIRE(got.size() == 2);
  CHECK(got[0]["text"].get<std::string>() + got[1]["text"].get<std::string>() == text);
  CHECK(rx.with_accepted(false).empty());
  // And the one-message alternative: cut to fit, ending in an ellipsis.
  const std::string cut = truncate_utf8(text, 500, 70);
  CHECK(cut.size() == 69 * 3 + 3);
  CHECK(cut.substr(cut.size() - 3) == "…");
}

TEST_CASE("aliyun_sms signs SendSms so that the Aliyun stand-in's verification passes",
          "[sms][aliyun]") {
  FixtureProcess rx(scratch("aliyun-ok"), "sms_receiver.py", {});
  auto o = make_channel(aliyun(rx), wall)->send(message("13800138000", kText));
  INFO(o.error);
  CHECK(o.delivered);
  auto got = rx.with_accepted(true);
  REQUIRE(got.size() == 1);
  CHECK(got[0]["phone"] == "13800138000");
  CHECK(got[0]["sign_name"] == "巡检平台");
  CHECK(got[0]["template_code"] == "SMS_123456");
  CHECK(got[0]["param"]["content"] == kText);
  CHECK(got[0]["param"]["host"] == "db-01");
  CHECK(got[0]["out_id"] == "fp/1/firing/sms/x#1");
}

TEST_CASE(
    "aliyun_sms maps Aliyun's codes: bad signature and bad number are final, flow control waits",
    "[sms][aliyun]") {
  FixtureProcess rx(scratch("aliyun-codes"), "sms_receiver.py",
                    {"--bad-phone", "12345", "--limit", "1"});
  auto cfg = aliyun(rx);
  auto ch = make_channel(cfg, wall);
  auto limited = ch->send(message("13800138000", "x"));  // the first request is flow-controlled
  CHECK_FALSE(limited.delivered);
  CHECK(limited.retry);
  CHECK(limited.retry_after_ms >= 60'000);
  CHECK(limited.error.find("isv.BUSINESS_LIMIT_CONTROL") != std::string::npos);
  auto bad = ch->send(message("12345", "x"));
  CHECK_FALSE(bad.delivered);
  CHECK_FALSE(bad.retry);
  CHECK(bad.error.find("isv.MOBILE_NUMBER_ILLEGAL") != std::string::npos);
  cfg.secret = "not-the-secret";
  auto forged = make_channel(cfg, wall)->send(message("13800138000", "x"));
  CHECK_FALSE(forged.retry);
  CHECK(forged.error.find("SignatureDoesNotMatch") != std::string::npos);
  CHECK(ch->send(message("13800138000", "x")).delivered);  // the nonce is fresh every time
  CHECK(rx.with_accepted(true).size() == 1);
}

TEST_CASE("aliyun_sms does not resend after a timeout, since SendSms is not idempotent",
          "[sms][aliyun]") {
  // A listener that accepts connections (the kernel's backlog) but never answers.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ChannelConfig cfg;
  cfg.name = "sms";
  cfg.type = "aliyun_sms";
  cfg.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  cfg.key = "k";
  cfg.secret = "s";
  cfg.timeout = std::chrono::milliseconds(300);
  auto o = make_channel(cfg, wall)->send(message("13800138000", "x"));
  ::close(fd);
  CHECK_FALSE(o.delivered);
  CHECK_FALSE(o.retry);
  CHECK(o.error.find("not idempotent") != std::string::npos);
}

namespace {

ChannelConfig mail(const FixtureProcess& rx) {
  ChannelConfig c;
  c.name = "mail";
  c.type = "email";
  c.url = "smtp://127.0.0.1:" + std::to_string(rx.port());
  c.email.from = "xunjian@example.com";
  c.email.starttls = false;
  c.timeout = std::chrono::seconds(5);
  c.max_bytes = 256 * 1024;
  return c;
}

OutboxMessage mail_message(const std::string& to, std::string text) {
  OutboxMessage m = message(to, std::move(text), "fp/1/firing/mail/" + to + "#1");
  m.channel = "mail";
  return m;
}

const std::string kMailText =
    "【严重】db-01.prod 磁盘 disk:/ 告警，请值班工程师尽快处理\n系统：电子政务外网\n主机：db-01\n"
    ".a line that starts with a dot\n";

void sh(const fs::path& dir, const std::string& cmd) {
  const std::string full = "cd " + dir.string() + " && { " + cmd + "; } >/dev/null 2>&1";
  INFO(full);
  REQUIRE(std::system(full.c_str()) == 0);
}

}  // namespace

TEST_CASE("email sends an RFC 5322 message: envelope, encoded Chinese subject, UTF-8 body",
          "[email]") {
  FixtureProcess rx(scratch("mail-ok"), "smtp_receiver.py", {});
  auto o = make_channel(mail(rx), wall)->send(mail_message("oncall@example.com", kMailText));
  INFO(o.error);
  CHECK(o.delivered);
  auto got = rx.with_accepted(true);
  REQUIRE(got.size() == 1);
  CHECK(got[0]["mail_from"] == "xunjian@example.com");
  CHECK(got[0]["rcpt"] == nlohmann::json::array({"oncall@example.com"}));
  CHECK(got[0]["subject"] == "[xunjian] 【严重】db-01.prod 磁盘 disk:/ 告警，请值班工程师尽快处理");
  const std::string raw = got[0]["raw_subject"];
  CHECK(raw.find("=?UTF-8?B?") != std::string::npos);  // RFC 2047, several words
  CHECK(got[0]["body"] == kMailText);
  CHECK(got[0]["crlf"] == true);       // the message's lines end in CRLF
  CHECK(got[0]["body_crlf"] == true);  // and so does the text inside the base64
  auto h = got[0]["headers"];
  CHECK(h["Content-Type"] == "text/plain; charset=\"UTF-8\"");  // Python quotes the parameter
  CHECK(h["Content-Transfer-Encoding"] == "base64");
  CHECK(h["To"] == "oncall@example.com");
  CHECK(h["Message-ID"].get<std::string>().find("@xunjian>") != std::string::npos);
  CHECK(h.contains("Date"));
  CHECK(h["X-Xunjian-Idempotency-Key"] == "fp/1/firing/mail/oncall@example.com#1");
}

TEST_CASE("email carries a report's files as MIME attachments, checked against their SHA-256", "[email]") {
  const fs::path dir = scratch("mail-attach");
  FixtureProcess rx(dir / "rx", "smtp_receiver.py", {});
  const std::string html = "<!doctype html><h1>运维服务月报</h1>\n";
  std::string pdf = "%PDF-1.4\n";
  for (int i = 0; i < 256; ++i) pdf += static_cast<char>(i);  // every byte value survives base64
  std::ofstream(dir / "r.html", std::ios::binary) << html;
  std::ofstream(dir / "r.pdf", std::ios::binary) << pdf;
  auto hex_sha256 = [](const std::string& bytes) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
    std::string out;
    char b[3];
    for (unsigned int i = 0; i < len; ++i) {
      std::snprintf(b, sizeof b, "%02x", md[i]);
      out += b;
    }
    return out;
  };
  OutboxMessage m = mail_message("pm@example.com", "运维服务月报\n总体结论：正常\n");
  m.fields["subject"] = "运维服务月报 2026-03-01 — 2026-03-31";
  m.fields["attachments"] =
      nlohmann::json::array({{{"path", (dir / "r.html").string()}, {"name", "r.html"}, {"type", "text/html; charset=utf-8"},
                              {"sha256", hex_sha256(html)}},
                             {{"path", (dir / "r.pdf").string()}, {"name", "r.pdf"}, {"type", "application/pdf"},
                              {"sha256", hex_sha256(pdf)}}})
          .dump();
  auto ch = make_channel(mail(rx), wall);
  auto o = ch->send(m);
  INFO(o.error);
  REQUIRE(o.delivered);
  auto got = rx.with_accepted(true);
  REQUIRE(got.size() == 1);
  CHECK(got[0]["subject"] == "[xunjian] 运维服务月报 2026-03-01 — 2026-03-31");
  CHECK(got[0]["body"] == "运维服务月报\n总体结论：正常\n");
  CHECK_THAT(got[0]["headers"]["Content-Type"].get<std::string>(), Catch::StartsWith("multipart/mixed; boundary="));
  const auto att = got[0]["attachments"];
  REQUIRE(att.size() == 2);
  CHECK(att[0]["filename"] == "r.html");
  CHECK(att[0]["content_type"] == "text/html");
  CHECK(att[0]["sha256"] == hex_sha256(html));
  CHECK(att[1]["filename"] == "r.pdf");
  CHECK(att[1]["content_type"] == "application/pdf");
  CHECK(att[1]["bytes"] == pdf.size());
  CHECK(att[1]["sha256"] == hex_sha256(pdf));

  // Changed since it was archived: refused for good, naming the file; nothing sent.
  std::ofstream(dir / "r.pdf", std::ios::app) << "x";
  auto changed = ch->send(m);
  CHECK_FALSE(changed.delivered);
  CHECK_FALSE(changed.retry);
  CHECK(changed.error == "email channel 'mail' to pm@example.com: attachment r.pdf: " + (dir / "r.pdf").string() +
                             " no longer matches its archived SHA-256");
  CHECK(rx.with_accepted(true).size() == 1);
}

TEST_CASE("email refuses for good on 550 with the server's words, and retries a 451 until accepted",
          "[email]") {
  FixtureProcess rx(scratch("mail-codes"), "smtp_receiver.py",
                    {"--reject", "nobody@example.com", "--tempfail", "grey@example.com"});
  auto ch = make_channel(mail(rx), wall);
  auto refused = ch->send(mail_message("nobody@example.com", "x"));
  CHECK_FALSE(refused.delivered);
  CHECK_FALSE(refused.retry);
  CHECK(refused.error.find("550 5.1.1") != std::string::npos);
  CHECK(refused.error.find("User unknown") != std::string::npos);

  // Through the sender: the 451 is retried after the backoff and delivered.
  MemoryAlertStore store;
  std::int64_t now = wall();
  std::map<std::string, std::unique_ptr<Channel>> chans;
  chans["mail"] = make_channel(mail(rx), wall);
  SenderOptions opt;
  opt.backoff_initial = std::chrono::seconds(1);
  OutboxSender sender(store, std::move(chans), opt, [&] { return now; });
  AlertChanges c;
  OutboxMessage m = mail_message("grey@example.com", "greylisted first");
  m.next_attempt_ms = now;
  c.messages.push_back(m);
  REQUIRE(store.commit(c));
  CHECK(sender.run_once() == 0);
  CHECK(store.outbox[0].last_error.find("451") != std::string::npos);
  CHECK(store.outbox[0].status == DeliveryStatus::kPending);
  now += 1000;
  CHECK(sender.run_once() == 1);
  CHECK(store.outbox[0].attempts == 2);
  CHECK(store.outbox[0].status == DeliveryStatus::kDelivered);
  auto got = rx.with_accepted(true);
  REQUIRE(got.size() == 1);
  CHECK(got[0]["rcpt"][0] == "grey@example.com");
}

TEST_CASE("email over STARTTLS with AUTH verifies the server against ca_file", "[email]") {
  auto dir = scratch("mail-tls");
  sh(dir,
     "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext "
     "subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout smtp.key -out smtp.pem");
  FixtureProcess rx(dir, "smtp_receiver.py",
                    {"--cert", (dir / "smtp.pem").string(), "--key", (dir / "smtp.key").string(),
                     "--user", "alerts", "--password", "s3cret"});
  auto cfg = mail(rx);
  cfg.email.starttls = true;
  cfg.key = "alerts";
  cfg.secret = "s3cret";

  // Verification is on by default: a self-signed certificate not in ca_file is refused.
  auto untrusted = make_channel(cfg, wall)->send(mail_message("oncall@example.com", "x"));
  CHECK_FALSE(untrusted.delivered);
  CHECK(untrusted.retry);
  CHECK(rx.with_accepted(true).empty());

  cfg.email.ca_file = (dir / "smtp.pem").string();
  auto o = make_channel(cfg, wall)->send(mail_message("oncall@example.com", kMailText));
  INFO(o.error);
  CHECK(o.delivered);
  auto got = rx.with_accepted(true);
  REQUIRE(got.size() == 1);
  CHECK(got[0]["tls"] == true);
  CHECK(got[0]["authed"] == true);
  CHECK(got[0]["body"] == kMailText);

  cfg.secret = "wrong";
  auto denied = make_channel(cfg, wall)->send(mail_message("oncall@example.com", "x"));
  CHECK_FALSE(denied.delivered);
  CHECK_FALSE(denied.retry);  // 535: a bad password does not get better by retrying
  CHECK(denied.error.find("535") != std::string::npos);
}

TEST_CASE(
    "an e-mail header of ASCII stays as is; a Chinese one is cut into words on character "
    "boundaries",
    "[email]") {
  CHECK(encode_header_words("disk alert") == "disk alert");
  std::string zh;
  for (int i = 0; i < 40; ++i) zh += "告";  // 120 bytes: three words of at most 45 bytes
  const std::string enc = encode_header_words(zh);
  std::size_t words = 0;
  for (std::size_t p = enc.find("=?UTF-8?B?"); p != std::string::npos;
       p = enc.find("=?UTF-8?B?", p + 1)) {
    ++words;
    const std::size_t end = enc.find("?=", p + 10);
    CHECK(end + 2 - p <= 75);
  }
  CHECK(words == 3);
  CHECK(enc.find("\r\n ") != std::string::npos);  // folded
}
