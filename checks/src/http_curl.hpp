// libcurl plumbing of the http check: global init, handle types, callbacks, certificate
// info. Private to checks/.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace xj {

// curl_global_init is not thread-safe; every path into curl goes through here first.
void ensure_curl_global();

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using CurlList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

// Where the response body goes: at most `limit` bytes, then the transfer stops.
struct BodySink {
  std::string data;
  std::size_t limit = 0;
  bool truncated = false;
};

// CURLOPT_WRITEFUNCTION for a BodySink.
std::size_t write_body(char* ptr, std::size_t size, std::size_t n, void* user);
// CURLOPT_XFERINFOFUNCTION aborting when the std::atomic<bool> it is given becomes true.
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t);

// Errors that say we could not make the request as configured, rather than that the server
// is down or misbehaving.
bool is_local_error(CURLcode rc);

// Days until the leaf certificate of the last transfer expires (CURLOPT_CERTINFO), adding
// its subject and expiry to details; nullopt without TLS or without an expiry date.
std::optional<double> leaf_cert_days_left(CURL* h, nlohmann::json& details);

}  // namespace xj
