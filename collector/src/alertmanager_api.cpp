#include "xj/collector/alertmanager_api.hpp"

#include <spdlog/spdlog.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

namespace xj {
namespace {

using json = nlohmann::json;

// RFC 3339 as Alertmanager writes it: 2026-11-22T14:03:10.123456789Z or ...+08:00. The zero
// time (0001-01-01T00:00:00Z, an open end) is 0.
std::optional<std::int64_t> parse_rfc3339(const std::string& s) {
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0, used = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &used) != 6 ||
      used != 19) {
    return std::nullopt;
  }
  if (y <= 1) return 0;
  std::size_t i = 19;
  std::int64_t ms = 0;
  if (i < s.size() && s[i] == '.') {
    int digits = 0;
    for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i, ++digits) {
      if (digits < 3) ms = ms * 10 + (s[i] - '0');
    }
    for (; digits < 3; ++digits) ms *= 10;
  }
  std::int64_t offset_s = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    const int oh = std::atoi(s.substr(i + 1, 2).c_str()),
              om = std::atoi(s.substr(i + 4, 2).c_str());
    offset_s = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size() || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
    return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  return (static_cast<std::int64_t>(timegm(&tm)) - offset_s) * 1000 + ms;
}

std::string str_field(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Status alertmanager_severity(const std::string& label) {
  std::string l;
  for (char c : label) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "critical" || l == "error" || l == "page" || l == "high" || l == "p1" || l == "p2")
    return Status::kCritical;
  return Status::kWarning;
}

Expected<std::vector<alerts::ExternalAlert>> parse_alertmanager_payload(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return make_error("the body is not a JSON object (Alertmanager webhook payload)");
  if (j.contains("version") && j["version"] != "4") {
    return make_error(
        "version: '" +
        (j["version"].is_string() ? j["version"].get<std::string>() : j["version"].dump()) +
        "' is not supported (Alertmanager webhook payload version 4)");
  }
  if (!j.contains("alerts") || !j["alerts"].is_array())
    return make_error("alerts: missing or not a list");
  std::vector<alerts::ExternalAlert> out;
  for (std::size_t n = 0; n < j["alerts"].size(); ++n) {
    const json& a = j["alerts"][n];
    const std::string at = "alerts[" + std::to_string(n) + "]";
    if (!a.is_object()) return make_error(at + ": not an object");
    alerts::ExternalAlert x;
    const std::string status = str_field(a, "status");
    if (status != "firing" && status != "resolved") {
      return make_error(at + ".status: '" + status + "' is not firing or resolved");
    }
    x.firing = status == "firing";
    if (!a.contains("labels") || !a["labels"].is_object())
      return make_error(at + ".labels: missing or not an object");
    for (const auto& [k, v] : a["labels"].items()) {
      if (!v.is_string()) return make_error(at + ".labels." + k + ": not a string");
      x.labels[k] = v.get<std::string>();
    }
    x.check = x.labels.count("alertname") ? x.labels["alertname"] : "";
    if (x.check.empty()) return make_error(at + ".labels.alertname: missing");
    x.host = x.labels.count("instance") ? x.labels["instance"]
             : x.labels.count("host")   ? x.labels["host"]
                                        : "";
    if (x.host.empty()) x.host = "alertmanager";
    x.severity = alertmanager_severity(x.labels.count("severity") ? x.labels["severity"] : "");
    const json ann = a.contains("annotations") && a["annotations"].is_object() ? a["annotations"]
                                                                               : json::object();
    x.summary = str_field(ann, "summary");
    if (x.summary.empty()) x.summary = str_field(ann, "description");
    if (x.summary.empty()) x.summary = x.check;
    x.source_fingerprint = str_field(a, "fingerprint");
    if (x.source_fingerprint.empty()) {
      // Older Alertmanagers send no fingerprint: the sorted labels identify the alert.
      for (const auto& [k, v] : x.labels) x.source_fingerprint += k + "=" + v + ",";
    }
    for (const char* key : {"startsAt", "endsAt"}) {
      const std::string t = str_field(a, key);
      if (t.empty()) continue;
      auto ms = parse_rfc3339(t);
      if (!ms) return make_error(at + "." + key + ": '" + t + "' is not an RFC 3339 time");
      (std::string(key) == "startsAt" ? x.starts_ms : x.ends_ms) = *ms;
    }
    out.push_back(std::move(x));
  }
  return out;
}

HttpResponse AlertmanagerApi::operator()(const HttpRequest& r) const {
  if (r.method != "POST")
    return json_error(405, "POST Alertmanager's webhook payload to /api/v1/alertmanager");
  auto parsed = parse_alertmanager_payload(r.body);
  if (!parsed) return json_error(400, parsed.error());
  std::size_t firing = 0;
  for (const auto& x : *parsed) firing += x.firing;
  const std::size_t enqueued = pipeline_.on_external(*parsed);
  spdlog::info("event=alertmanager_received alerts={} firing={} messages={}", parsed->size(),
               firing, enqueued);
  HttpResponse resp;
  resp.body = json{
      {"alerts", parsed->size()},
      {"firing", firing},
      {"resolved", parsed->size() - firing},
      {"messages",
       enqueued}}.dump();
  return resp;
}

}  // namespace xj
