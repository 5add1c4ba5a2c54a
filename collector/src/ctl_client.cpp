#include "xj/collector/ctl_client.hpp"

#include <fstream>
#include <sstream>

#include "xj/collector/ctl_table.hpp"
#include "xj/common/http_client.hpp"

namespace xj {
namespace {

std::string trim(std::string s) {
  const char* ws = " \t\r\n";
  const auto first = s.find_first_not_of(ws);
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(ws) - first + 1);
}

// RFC 3986 unreserved characters stay, everything else (UTF-8 bytes included) is %XX, so a
// host id or label value with '&', '+', spaces or Chinese arrives unchanged.
std::string percent_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

std::string base_without_slash(std::string base) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

}  // namespace

Expected<std::string> load_ctl_token(const std::string& token_file, const char* env_token) {
  if (!token_file.empty()) {
    std::ifstream in(token_file, std::ios::binary);
    if (!in) return make_error("--token-file " + token_file + ": cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    std::string token = trim(text.str());
    if (token.empty()) return make_error("--token-file " + token_file + ": is empty");
    return token;
  }
  std::string token = trim(env_token != nullptr ? env_token : "");
  if (token.empty()) {
    return make_error(
        "no API token: set XJ_TOKEN or give --token-file FILE "
        "(create one with: xunjian-collector token create --api NAME --role viewer)");
  }
  return token;
}

std::string describe_http_status(int status) {
  switch (status) {
    case 400: return "the collector refused the request";
    case 401: return "token refused";
    case 403: return "token lacks the role for this";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 409: return "not possible in its current state";
    case 413: return "request too large";
    case 429: return "the collector is busy";
    case 503: return "the collector is unavailable";
    default: break;
  }
  if (status >= 500) return "the collector failed";
  return "unexpected answer";
}

Expected<ApiAnswer> api_get(const CtlConnection& conn, const std::string& path, const QueryParams& query) {
  return api_call(conn, "GET", path, query, "", true);
}

Expected<ApiAnswer> api_post(const CtlConnection& conn, const std::string& path, const nlohmann::json& body) {
  return api_call(conn, "POST", path, {}, body.dump(), true);
}

Expected<ApiAnswer> api_call(const CtlConnection& conn, const std::string& method, const std::string& path,
                             const QueryParams& query, const std::string& body, bool want_json) {
  std::string url = base_without_slash(conn.base_url) + path;
  char sep = '?';
  for (const auto& [k, v] : query) {
    url += sep + percent_encode(k) + "=" + percent_encode(v);
    sep = '&';
  }
  HttpClientRequest req;
  req.method = method;
  req.url = url;
  req.body = body;
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  req.timeout = conn.timeout;
  req.ca_file = conn.ca_file;
  // A fleet's check list can be large; a cut-off answer would only fail as "not JSON".
  req.max_body = 256ull * 1024 * 1024;
  req.headers.emplace_back("Authorization", "Bearer " + conn.token);
  req.headers.emplace_back("Accept", "application/json");
  auto resp = http_request(req);
  if (!resp) {
    // The client's message already starts "<METHOD> <url>: " and names the failed step.
    const auto kind = resp.failure().kind;
    if (kind == HttpErrorKind::kRequest) return make_error(resp.error());
    if (kind == HttpErrorKind::kTlsVerify) {
      return make_error(resp.error() + " (the collector's certificate is not trusted: give its CA with --ca-file)");
    }
    return make_error(resp.error() + " (cannot reach the collector at " + conn.base_url + ")");
  }
  ApiAnswer answer;
  answer.url = url;
  answer.body = std::move(resp->body);
  answer.json = nlohmann::json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
  answer.text = resp->header("content-type").value_or("").rfind("text/", 0) == 0;
  const int status = resp->status;
  if (status != 200 && status != 201) {
    std::string detail;
    if (answer.json.is_object() && answer.json.contains("error") && answer.json["error"].is_string()) {
      detail = answer.json["error"].get<std::string>();
    } else {
      detail = answer.body.substr(0, 200);
    }
    return make_error(method + " " + url + ": " + describe_http_status(status) + " (" + std::to_string(status) +
                      ")" + (detail.empty() ? "" : ": " + terminal_safe(detail)));
  }
  if (resp->body_truncated) {
    return make_error(method + " " + url + ": the answer is larger than 256 MiB; narrow it with --host or --kind");
  }
  if (want_json && answer.json.is_discarded() && !answer.text) {
    return make_error(method + " " + url + ": the answer is not JSON (is " + conn.base_url + " a xunjian collector?)");
  }
  return answer;
}

}  // namespace xj
