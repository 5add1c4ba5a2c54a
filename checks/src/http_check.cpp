#include "xj/checks/http_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>

#include "http_curl.hpp"
#include "xj/checks/kinds.hpp"
#include "xj/common/duration.hpp"

namespace xj {

namespace {

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
  // Sets every option of the request; false only when memory runs out.
  bool configure(CURL* c, const RunContext& ctx, char* errbuf, BodySink& sink,
                 CurlList& header_list) const;
  Result transfer_failed(CURLcode rc, const std::string& cause, const RunContext& ctx) const;
  // What is wrong with the answer (empty when it is as expected); body checks only run
  // when the status is one of the expected ones.
  std::vector<std::string> answer_problems(long code, const BodySink& sink) const;
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

bool HttpCheck::configure(CURL* c, const RunContext& ctx, char* errbuf, BodySink& sink,
                          CurlList& header_list) const {
  for (const auto& [name, value] : headers_) {
    const std::string line = name + ": " + value;
    curl_slist* grown = curl_slist_append(header_list.get(), line.c_str());
    if (grown == nullptr) return false;
    (void)header_list.release();  // curl_slist_append returned the same list, grown
    header_list.reset(grown);
  }
  curl_easy_setopt(c, CURLOPT_URL, url_.c_str());
  // Always set: an empty proxy means a direct connection, whatever http_proxy the agent's
  // environment happens to carry.
  curl_easy_setopt(c, CURLOPT_PROXY, proxy_.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM games in a threaded agent
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  // End a little before the deadline, so that this "timed out" result naming the URL is the
  // one reported, not the scheduler's generic one.
  const auto reserve =
      std::clamp(ctx.timeout / 20, std::chrono::milliseconds(5), std::chrono::milliseconds(200));
  const auto budget = std::max<std::int64_t>(1, (ctx.remaining() - reserve).count());
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(budget));
  curl_easy_setopt(c, CURLOPT_USERAGENT, "xunjian-agent/" XJ_VERSION);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &write_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(ctx.cancelled));
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, follow_redirects_ ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, verify_tls_ ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, verify_tls_ ? 2L : 0L);
  if (!ca_file_.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, ca_file_.c_str());
  if (!cert_file_.empty()) curl_easy_setopt(c, CURLOPT_SSLCERT, cert_file_.c_str());
  if (!key_file_.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, key_file_.c_str());
  if (header_list) curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());
  if (method_ == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (has_body_ || method_ == "POST") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_.size()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body_.c_str());
    if (method_ != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method_.c_str());
  } else if (method_ != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method_.c_str());
  }
  return true;
}

Result HttpCheck::transfer_failed(CURLcode rc, const std::string& cause,
                                  const RunContext& ctx) const {
  Result r = make_result();
  r.details = {{"url", url_},
               {"method", method_},
               {"curl_code", static_cast<int>(rc)},
               {"curl_error", cause}};
  r.status = is_local_error(rc) ? Status::kUnknown : Status::kCritical;
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      r.summary = what_ + ": timed out after " + format_duration(ctx.timeout) + " (" + cause + ")";
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
      r.summary = what_ + ": TLS verification failed: " + cause;
      break;
    case CURLE_SSL_CONNECT_ERROR:
      r.summary = what_ + ": TLS handshake failed: " + cause;
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      r.summary = what_ + ": cancelled after the check's timeout";
      break;
    default:
      r.summary = what_ + ": " + cause;
  }
  return r;
}

std::vector<std::string> HttpCheck::answer_problems(long code, const BodySink& sink) const {
  if (!status_expected(code)) {
    if (sink.data.empty()) return {};
    return {"body '" + body_excerpt(sink.data) + "'"};
  }
  std::vector<std::string> problems;
  const std::string& body = sink.data;
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
  ensure_curl_global();
  if (ctx.expired()) return unknown(what_ + ": no time left before the request started");
  CurlHandle h(curl_easy_init(), &curl_easy_cleanup);
  if (!h) return unknown(what_ + ": cannot initialise libcurl");
  char errbuf[CURL_ERROR_SIZE] = {};
  BodySink sink;
  sink.limit = max_body_;
  CurlList header_list(nullptr, &curl_slist_free_all);
  if (!configure(h.get(), ctx, errbuf, sink, header_list)) {
    return unknown(what_ + ": out of memory building the request");
  }
  const CURLcode rc = curl_easy_perform(h.get());
  // Stopping at max_body is our doing, not a failed transfer.
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && sink.truncated)) {
    return transfer_failed(rc, errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc), ctx);
  }

  long code = 0;
  curl_off_t total_us = 0;
  char* effective = nullptr;
  curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo(h.get(), CURLINFO_TOTAL_TIME_T, &total_us);
  curl_easy_getinfo(h.get(), CURLINFO_EFFECTIVE_URL, &effective);
  Result r = make_result();
  r.details = {{"url", url_},
               {"method", method_},
               {"status_code", code},
               {"body_bytes", sink.data.size()},
               {"body_truncated", sink.truncated}};
  if (effective != nullptr && url_ != effective) r.details["effective_url"] = effective;
  r.metrics.push_back(
      {"status_code", static_cast<double>(code), "", {}, std::nullopt, std::nullopt});
  r.metrics.push_back({"latency_ms",
                       static_cast<double>(total_us) / 1000.0,
                       "ms",
                       {},
                       latency_warn_,
                       latency_crit_});
  if (const auto days = leaf_cert_days_left(h.get(), r.details)) {
    r.metrics.push_back({"cert_days_left", *days, "d", {}, cert_warn_, cert_crit_});
  }
  const auto problems = answer_problems(code, sink);
  r.status = (status_expected(code) && problems.empty()) ? r.metrics_status() : Status::kCritical;
  r.summary = describe(r, code, problems, sink.truncated);
  return r;
}

}  // namespace

CheckSpec http_check_spec() {
  ensure_curl_global();
  CheckSpec s;
  s.kind = "http";
  s.description =
      "One HTTP(S) request with libcurl: expected status, body content (substring, regex or a "
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
      {"follow_redirects", KeyType::kBool, "false", "follow 3xx redirects (at most 10)"},
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
    const std::string url = o.str("url");
    CURLU* u = curl_url();
    const CURLUcode uc = curl_url_set(u, CURLUPART_URL, url.c_str(), 0);
    char* scheme = nullptr;
    if (uc == CURLUE_OK) curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    const std::string sch = scheme != nullptr ? scheme : "";
    curl_free(scheme);
    curl_url_cleanup(u);
    if (uc != CURLUE_OK) o.fail("url", "'" + url + "' is not a URL: " + curl_url_strerror(uc));
    if (sch != "http" && sch != "https")
      o.fail("url", "'" + url + "' must start with http:// or https://");
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
