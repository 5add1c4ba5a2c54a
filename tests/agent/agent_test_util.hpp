// Helpers for the agent tests: fresh scratch dirs under the build dir, an HTTP GET over
// loopback (libcurl), and reading one sample out of Prometheus text exposition.
#pragma once

#include <curl/curl.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <sstream>
#include <string>

namespace xj::test {

// An empty dir for one test, unique per process so parallel ctest runs do not collide.
inline std::filesystem::path scratch_dir(const std::string& name) {
  auto dir = std::filesystem::path(XJ_BINARY_DIR) / "agent_tests" /
             (name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

struct HttpReply {
  long code = 0;
  std::string body;
  std::string error;
};

inline HttpReply http_get(const std::string& url) {
  HttpReply reply;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 3000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* p, size_t size, size_t n, void* out) -> size_t {
        static_cast<std::string*>(out)->append(p, size * n);
        return size * n;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) reply.error = curl_easy_strerror(rc);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.code);
  curl_easy_cleanup(curl);
  return reply;
}

// Value of the sample whose name and labels are exactly `series`, e.g.
// `xunjian_check_runs_total{check="load",kind="load"}` or `xunjian_spool_depth`.
inline std::optional<double> metric_value(const std::string& exposition,
                                          const std::string& series) {
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto sp = line.rfind(' ');
    if (sp == std::string::npos || line.substr(0, sp) != series) continue;
    return std::stod(line.substr(sp + 1));
  }
  return std::nullopt;
}

}  // namespace xj::test
