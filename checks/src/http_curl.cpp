#include "http_curl.hpp"

#include <chrono>
#include <mutex>
#include <string_view>

#include "xj/checks/http_check.hpp"
#include "xj/checks/utf8.hpp"

namespace xj {

void ensure_curl_global() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t write_body(char* ptr, std::size_t size, std::size_t n, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const std::size_t len = size * n;
  const std::size_t room = sink->limit - sink->data.size();
  if (len > room) {
    sink->data.append(ptr, room);
    sink->truncated = true;
    return 0;  // stop reading: max_body is all we look at
  }
  sink->data.append(ptr, len);
  return len;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancelled = static_cast<const std::atomic<bool>*>(user);
  return (cancelled != nullptr && cancelled->load()) ? 1 : 0;
}

bool is_local_error(CURLcode rc) {
  switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_ABORTED_BY_CALLBACK:
      return true;
    default:
      return false;
  }
}

std::optional<double> leaf_cert_days_left(CURL* h, nlohmann::json& details) {
  curl_certinfo* info = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &info) != CURLE_OK || info == nullptr ||
      info->num_of_certs < 1) {
    return std::nullopt;
  }
  std::optional<double> days;
  for (curl_slist* item = info->certinfo[0]; item != nullptr; item = item->next) {
    std::string_view line(item->data);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const auto key = line.substr(0, colon);
    const auto value = line.substr(colon + 1);
    if (key == "Subject") details["cert_subject"] = utf8_clip(value);
    if (key != "Expire date") continue;
    details["cert_expires"] = utf8_clip(value);
    auto expiry = parse_cert_expiry(value);
    if (expiry) {
      days = cert_days_left(*expiry, std::chrono::system_clock::now());
    } else {
      details["cert_error"] = expiry.error();
    }
  }
  return days;
}

}  // namespace xj
