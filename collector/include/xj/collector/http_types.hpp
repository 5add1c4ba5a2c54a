// Plain request/response types between the HTTP server (the only place Boost.Beast lives)
// and the handlers (ingest, API, /metrics), so handlers compile and test without Beast.
#pragma once

#include <functional>
#include <map>
#include <string>

namespace xj {

struct HttpRequest {
  std::string method;   // "GET", "POST"
  std::string target;   // "/api/v1/checks?status=critical"
  std::string path;     // "/api/v1/checks" (percent-decoded)
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;     // already gunzipped when Content-Encoding: gzip
  std::string remote;   // "127.0.0.1:53412"

  // Header value or "" (name is matched case-insensitively).
  std::string header(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// {"error": message} with the status.
HttpResponse json_error(int status, const std::string& message);

}  // namespace xj
