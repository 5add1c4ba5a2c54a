// xunjianctl's side of the collector's JSON API: where the collector is, the operator's
// token (from the environment or a file, never from the command line, never printed), and a
// GET (and POST, for the licence registry) that turns every failure into one line naming the URL and the cause.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "xj/common/expected.hpp"

namespace xj {

struct CtlConnection {
  std::string base_url = "http://127.0.0.1:8443";  // --url, else $XJ_URL
  std::string token;                               // $XJ_TOKEN or --token-file
  std::string ca_file;                             // --ca-file: PEM CAs for an https collector
  std::chrono::milliseconds timeout{10'000};
};

// The token from `token_file` when given, else from `env_token` ($XJ_TOKEN), surrounding
// whitespace trimmed. Errors say where to put one; they never contain the token.
Expected<std::string> load_ctl_token(const std::string& token_file, const char* env_token);

// What a refused answer means to the operator: 401 "token refused", 403 "token lacks the
// role", 404 "not found", ...
std::string describe_http_status(int status);

using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct ApiAnswer {
  std::string url;   // what was asked, for messages
  std::string body;  // as received, for --json
  nlohmann::json json;
  bool text = false;  // the collector answered text (a Markdown report), not JSON
};

// GET base_url + path with the query percent-encoded. An answer that is not 200 with a JSON
// body is an error like "GET http://h:8443/api/v1/hosts: token refused (401): unknown or
// revoked token" or "GET http://h:8443/api/v1/hosts: cannot reach the collector: connect ...".
Expected<ApiAnswer> api_get(const CtlConnection& conn, const std::string& path, const QueryParams& query = {});
// POST a JSON body; the answer must be JSON.
Expected<ApiAnswer> api_post(const CtlConnection& conn, const std::string& path, const nlohmann::json& body);
// Any method; `want_json` false takes any body (a report file's bytes).
Expected<ApiAnswer> api_call(const CtlConnection& conn, const std::string& method, const std::string& path,
                             const QueryParams& query, const std::string& body, bool want_json = true);

}  // namespace xj
