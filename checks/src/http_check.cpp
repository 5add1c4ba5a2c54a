#include "xj/checks/http_check.hpp"

#include <strings.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>

#include "xj/checks/kinds.hpp"
#include "xj/checks/utf8.hpp"
#include "xj/common/duration.hpp"
#include "xj/common/http_client.hpp"

namespace xj {

namespace {

// "2027-03-01T00:00:00Z"
std::string format_utc(std::chrono::sys_seconds t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{t - day};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  return buf;
}

class HttpCheck : public Check {
 public:
  HttpCheck(std::string id, const CheckOptions& o)
      : Check(std::move(id), "http"),
        url_(o.str("url")),
        method_(o.str("method")),
        what_(method_ + " " + url_),
        headers_(o.map("headers")),
        body_(o.str("body")),
        has_body_(o.has("body")),
        contains_(o.str("contains")),
        json_pointer_(o.str("json_pointer")),
        json_value_(o.str("json_value")),
        verify_tls_(o.boolean("verify_tls")),
        ca_file_(o.str("ca_file")),
        cert_file_(o.str("cert_file")),
        key_file_(o.str("key_file")),
        follow_redirects_(o.boolean("follow_redirects")),
        proxy_(o.str("proxy")),
        max_body_(o.size("max_body")) {
    for (const auto& p : o.list("expect_status")) {
      auto pattern = parse_status_pattern(p);
      if (!pattern) o.fail("expect_status", pattern.error());
      expect_status_.push_back(*pattern);
      expect_text_ += (expect_text_.empty() ? "" : " or ") + p;
    }
    if (o.has("regex")) {
      regex_text_ = o.str("regex");
      regex_ = std::regex(regex_text_);
    }
    if (o.has("latency_warn")) latency_warn_ = Range::above(o.duration("latency_warn").count());
    if (o.has("latency_crit")) latency_crit_ = Range::above(o.duration("latency_crit").count());
    auto days = [&](const char* key) -> std::optional<Range> {
      const double d = static_cast<double>(o.duration(key).count()) / 86'400'000.0;
      if (d <= 0) return std::nullopt;  // 0 switches the certificate threshold off
      return Range::below(d);
    };
    cert_warn_ = days("cert_warn");
    cert_crit_ = days("cert_crit");
  }

  Result run(const RunContext& ctx) override;

 private:
  bool status_expected(long code) const {
    return std::any_of(expect_status_.begin(), expect_status_.end(),
                       [code](const StatusPattern& p) { return p.matches(code); });
  }
  HttpClientRequest request(const RunContext& ctx) const;
  Result failed(const HttpClientError& e) const;
  // Days left of the server certificate, with its names and expiry added to details.
  void add_certificate(Result& r, const PeerCertificate& cert) const;
  // What is wrong with the answer (empty when it is as expected); body checks only run
  // when the status is one of the expected ones.
  std::vector<std::string> answer_problems(long code, const std::string& body) const;
  // "GET url: 200 in 12 ms, certificate expires in 40 days" plus problems and thresholds.
  std::string describe(const Result& r, long code, const std::vector<std::string>& problems,
                       bool truncated) const;

  std::string url_, method_, what_;
  std::map<std::string, std::string> headers_;
  std::string body_;
  bool has_body_;
  std::vector<StatusPattern> expect_status_;
  std::string expect_text_;
  std::string contains_;
  std::string regex_text_;
  std::optional<std::regex> regex_;
  std::string json_pointer_, json_value_;
  std::optional<Range> latency_warn_, latency_crit_;
  bool verify_tls_;
  std::string ca_file_, cert_file_, key_file_;
  std::optional<Range> cert_warn_, cert_crit_;
  bool follow_redirects_;
  std::string proxy_;
  std::uint64_t max_body_;
};

HttpClientRequest HttpCheck::request(const RunContext& ctx) const {
  HttpClientRequest req;
  req.method = method_;
  req.url = url_;
  bool has_agent = false;
  for (const auto& [name, value] : headers_) {
    req.headers.emplace_back(name, value);
    has_agent = has_agent || strcasecmp(name.c_str(), "User-Agent") == 0;
  }
  if (!has_agent) req.headers.emplace_back("User-Agent", "xunjian-agent/" XJ_VERSION);
  if (has_body_ || method_ == "POST") req.body = body_;
  // End a little before the deadline, so that this "timed out" result naming the URL is the
  // one reported, not the scheduler's generic one.
  const auto reserve =
      std::clamp(ctx.timeout / 20, std::chrono::milliseconds(5), std::chrono::milliseconds(200));
  req.timeout = ctx.timeout;
  req.deadline = ctx.deadline - reserve;
  req.verify_tls = verify_tls_;
  req.ca_file = ca_file_;
  req.cert_file = cert_file_;
  req.key_file = key_file_;
  req.max_body = max_body_;
  req.follow_redirects = follow_redirects_;
  req.proxy = proxy_;
  req.cancel = ctx.cancelled;
  return req;
}

Result HttpCheck::failed(const HttpClientError& e) const {
  Result r = make_result();
  r.details = {{"url", url_}, {"method", method_}, {"error", e.message}};
  // A request we could not make as configured, or were told to drop, says nothing about
  // the service.
  const bool ours = e.kind == HttpErrorKind::kRequest || e.kind == HttpErrorKind::kCancelled;
  r.status = ours ? Status::kUnknown : Status::kCritical;
  r.summary = e.message;
  return r;
}

void HttpCheck::add_certificate(Result& r, const PeerCertificate& cert) const {
  const std::chrono::sys_seconds expiry{std::chrono::seconds(cert.not_after)};
  const double days = cert_days_left(expiry, std::chrono::system_clock::now());
  r.metrics.push_back({"cert_days_left", days, "d", {}, cert_warn_, cert_crit_});
  r.details["cert_subject"] = utf8_clip(cert.subject);
  r.details["cert_issuer"] = utf8_clip(cert.issuer);
  r.details["cert_expires"] = format_utc(expiry);
}

std::vector<std::string> HttpCheck::answer_problems(long code, const std::string& body) const {
  if (!status_expected(code)) {
    if (body.empty()) return {};
    return {"body '" + body_excerpt(body) + "'"};
  }
  std::vector<std::string> problems;
  if (!contains_.empty() && body.find(contains_) == std::string::npos) {
    problems.push_back("body does not contain '" + contains_ + "'; got '" + body_excerpt(body) +
                       "'");
  }
  if (regex_ && !std::regex_search(body, *regex_)) {
    problems.push_back("body does not match /" + regex_text_ + "/; got '" + body_excerpt(body) +
                       "'");
  }
  if (!json_pointer_.empty()) {
    if (auto why = json_pointer_mismatch(body, json_pointer_, json_value_))
      problems.push_back(*why);
  }
  return problems;
}

std::string HttpCheck::describe(const Result& r, long code,
                                const std::vector<std::string>& problems, bool truncated) const {
  const bool status_ok = status_expected(code);
  const Metric& latency = r.metrics[1];
  char buf[96];
  if (status_ok) {
    std::snprintf(buf, sizeof buf, "%ld in %.0f ms", code, latency.value);
  } else {
    std::snprintf(buf, sizeof buf, "status %ld, expected %s (%.0f ms)", code, expect_text_.c_str(),
                  latency.value);
  }
  std::string out = what_ + ": " + buf;
  for (const auto& p : problems) out += "; " + p;
  if (const Status s = latency.evaluate(); s != Status::kOk) {
    const Range& limit = s == Status::kCritical ? *latency_crit_ : *latency_warn_;
    out += ", slower than " +
           format_duration(std::chrono::milliseconds(static_cast<std::int64_t>(limit.end())));
  }
  if (r.metrics.size() > 2) {
    const Metric& days = r.metrics[2];
    std::snprintf(buf, sizeof buf, ", certificate expires in %.0f days", std::floor(days.value));
    out += buf;
    if (const Status s = days.evaluate(); s != Status::kOk) {
      const Range& limit = s == Status::kCritical ? *cert_crit_ : *cert_warn_;
      std::snprintf(buf, sizeof buf, " (%s below %g days)",
                    s == Status::kCritical ? "critical" : "warning", limit.start());
      out += buf;
    }
  }
  if (truncated) out += " (body cut at max_body)";
  return out;
}

Result HttpCheck::run(const RunContext& ctx) {
  if (ctx.expired()) return unknown(what_ + ": no time left before the request started");
  auto answer = http_request(request(ctx));
  if (!answer) return failed(answer.failure());
  const HttpClientResponse& res = *answer;
  const long code = res.status;
  Result r = make_result();
  r.details = {{"url", url_},
               {"method", method_},
               {"status_code", code},
               {"body_bytes", res.body.size()},
               {"body_truncated", res.body_truncated},
               {"connect_ms", res.timings.connect_ms}};
  if (res.final_url != url_) r.details["effective_url"] = res.final_url;
  if (res.peer_cert) r.details["tls_ms"] = res.timings.tls_ms;
  r.metrics.push_back(
      {"status_code", static_cast<double>(code), "", {}, std::nullopt, std::nullopt});
  r.metrics.push_back({"latency_ms", res.timings.total_ms, "ms", {}, latency_warn_, latency_crit_});
  if (res.peer_cert) add_certificate(r, *res.peer_cert);
  const auto problems = answer_problems(code, res.body);
  r.status = (status_expected(code) && problems.empty()) ? r.metrics_status() : Status::kCritical;
  r.summary = describe(r, code, problems, res.body_truncated);
  return r;
}

}  // namespace

CheckSpec http_check_spec() {
  CheckSpec s;
  s.kind = "http";
  s.description =
      "One HTTP/1.1 request over HTTP or HTTPS: expected status, body content (substring, regex or "
      "a "
      "value at a JSON pointer), latency, and for HTTPS the days until the server certificate "
      "expires. TLS is verified unless `verify_tls: false`. Unreachable, wrong status or wrong "
      "body is critical.";
  s.keys = {
      {"url", KeyType::kString, "", "http:// or https:// URL to request", true},
      {"method", KeyType::kString, "GET", "request method: GET, HEAD, POST, PUT, ..."},
      {"headers", KeyType::kMap, "", "extra request headers, name: value"},
      {"body", KeyType::kString, "", "request body (sent with POST, PUT, ...)"},
      {"expect_status", KeyType::kStringList, "[200]",
       "accepted status codes; `2xx` accepts a class"},
      {"contains", KeyType::kString, "", "the response body must contain this text"},
      {"regex", KeyType::kRegex, "", "the response body must match this regular expression"},
      {"json_pointer", KeyType::kString, "", "RFC 6901 pointer into a JSON body, e.g. `/status`"},
      {"json_value", KeyType::kString, "", "the value at `json_pointer` must equal this text"},
      {"latency_warn", KeyType::kDuration, "", "total time above this is a warning"},
      {"latency_crit", KeyType::kDuration, "", "total time above this is critical"},
      {"verify_tls", KeyType::kBool, "true", "verify the server certificate and host name"},
      {"ca_file", KeyType::kString, "",
       "PEM file of CA certificates to trust instead of the system's"},
      {"cert_file", KeyType::kString, "", "client certificate (PEM) for mutual TLS"},
      {"key_file", KeyType::kString, "", "private key (PEM) of `cert_file`"},
      {"cert_warn", KeyType::kDuration, "30d",
       "server certificate expiring within this is a warning (0 = off)"},
      {"cert_crit", KeyType::kDuration, "7d",
       "server certificate expiring within this is critical (0 = off)"},
      {"follow_redirects", KeyType::kBool, "false", "follow 3xx redirects (at most 5)"},
      {"max_body", KeyType::kSize, "1MB", "read at most this much of the body"},
      {"proxy", KeyType::kString, "",
       "proxy URL, e.g. `http://proxy:3128`; default: connect directly (http_proxy is ignored)"},
  };
  s.metrics = {
      {"status_code", "", "HTTP status of the (last) response"},
      {"latency_ms", "ms", "total request time (latency_warn / latency_crit apply)"},
      {"cert_days_left", "d", "HTTPS only: days until the leaf certificate expires"},
  };
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    if (auto url = parse_url(o.str("url")); !url) o.fail("url", url.error());
    if (o.has("proxy")) {
      auto proxy = parse_url(o.str("proxy"));
      if (!proxy || proxy->https() || proxy->target != "/")
        o.fail("proxy", "'" + o.str("proxy") + "' is not of the form http://host:port");
    }
    const std::string method = o.str("method");
    if (method.empty() ||
        method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos) {
      o.fail("method", "'" + method + "' is not an HTTP method in capitals like GET or POST");
    }
    if (method == "HEAD" && (o.has("contains") || o.has("regex") || o.has("json_pointer"))) {
      o.fail("method", "a HEAD response has no body to match contains/regex/json_pointer against");
    }
    if (o.has("json_value") && !o.has("json_pointer")) o.fail("json_value", "needs json_pointer");
    if (o.has("json_pointer")) {
      if (!o.has("json_value")) o.fail("json_pointer", "needs json_value (the expected value)");
      try {
        nlohmann::json::json_pointer p(o.str("json_pointer"));
      } catch (const nlohmann::json::exception& e) {
        o.fail("json_pointer",
               "'" + o.str("json_pointer") + "' is not a JSON pointer: " + e.what());
      }
    }
    if (o.has("key_file") && !o.has("cert_file")) o.fail("key_file", "needs cert_file");
    if (o.list("expect_status").empty()) o.fail("expect_status", "must list at least one status");
    if (o.size("max_body") == 0) o.fail("max_body", "must be more than 0");
    return std::make_unique<HttpCheck>(std::move(id), o);
  };
  s.default_id = [](const CheckOptions& o) { return "http:" + o.str("url"); };
  return s;
}

}  // namespace xj
