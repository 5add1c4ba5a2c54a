#include "xj/collector/api.hpp"

#include <nlohmann/json.hpp>

#include "xj/collector/console_api.hpp"
#include "xj/collector/console_pages.hpp"
#include "xj/collector/incident_api.hpp"
#include "xj/collector/alertmanager_api.hpp"
#include "xj/collector/silence_api.hpp"
#include "xj/collector/report_api.hpp"
#include "xj/collector/tokens.hpp"
#include "xj/common/duration.hpp"

namespace xj {

using json = nlohmann::json;

namespace {

int role_rank(Role r) { return static_cast<int>(r); }

HttpResponse ok_json(const json& j) {
  HttpResponse r;
  r.body = j.dump();
  return r;
}

// A time parameter: epoch milliseconds, or a duration before now ("24h" = 24 hours ago).
std::optional<std::int64_t> parse_time_param(const std::string& text, std::int64_t now) {
  if (auto n = parse_number(text)) return static_cast<std::int64_t>(*n);
  if (auto d = parse_duration(text)) return now - d->count();
  return std::nullopt;
}

}  // namespace

json to_json(const HostRow& h) {
  return json{{"id", h.agent.id},
              {"hostname", h.agent.hostname},
              {"version", h.agent.version},
              {"labels", h.agent.labels},
              {"first_seen", h.first_seen_ms},
              {"last_contact", h.last_contact_ms},
              {"status", std::string(to_string(h.worst))},
              {"checks",
               {{"ok", h.checks_ok},
                {"warning", h.checks_warning},
                {"critical", h.checks_critical},
                {"unknown", h.checks_unknown}}}};
}

json to_json(const CheckRow& c) {
  json metrics = json::array();
  for (const auto& m : c.metrics) metrics.push_back(xj::to_json(m));
  return json{{"host", c.host},       {"check", c.check},         {"kind", c.kind},
              {"status", std::string(to_string(c.status))},      {"summary", c.summary},
              {"since", c.since_ms},  {"last_ts", c.last_ts_ms},  {"metrics", std::move(metrics)}};
}

Api::Api(Store& store, CollectorMetrics& metrics, IngestHandler ingest, std::optional<LicenceApi> licences)
    : store_(store), metrics_(metrics), ingest_(std::move(ingest)), licences_(std::move(licences)) {}

std::optional<HttpResponse> Api::authorize(const HttpRequest& request, Role role, Caller* caller) const {
  // A bearer token wins over a cookie: no cookie is involved, so no CSRF token is needed.
  if (request.header("authorization").empty() && console_ != nullptr &&
      !ConsoleAuth::cookie_session_id(request).empty()) {
    return authorize_session(request, role, caller);
  }
  std::string token = bearer_token(request.header("authorization"));
  if (token.empty()) {
    metrics_.count_reject("unauthorized");
    return json_error(401, "missing bearer token (an API token: xunjian-collector token create --api NAME --role viewer) or console session");
  }
  auto row = store_.find_token(token_hash(token));
  if (!row || row->revoked) {
    metrics_.count_reject("unauthorized");
    return json_error(401, "unknown or revoked token");
  }
  if (!row->role || role_rank(*row->role) < role_rank(role)) {
    metrics_.count_reject("forbidden");
    return json_error(403, "this token may not do this (needs role " + std::string(to_string(role)) + ")");
  }
  if (caller != nullptr) *caller = Caller{"api:" + row->name, *row->role};
  return std::nullopt;
}

std::optional<HttpResponse> Api::authorize_session(const HttpRequest& request, Role role, Caller* caller) const {
  if (!console_->allowed(request)) {
    metrics_.count_reject("forbidden");
    return json_error(403, "the console is not open to this address (console.allow)");
  }
  auto session = console_->session(request);
  if (!session) {
    metrics_.count_reject("unauthorized");
    return json_error(401, "not logged in, or the session has expired");
  }
  if (request.method != "GET" && request.method != "HEAD" && !ConsoleAuth::csrf_ok(*session, request)) {
    metrics_.count_reject("forbidden");
    return json_error(403, "missing or wrong CSRF token");
  }
  if (role_rank(session->role) < role_rank(role)) {
    metrics_.count_reject("forbidden");
    return json_error(403, "user '" + session->user + "' (role " + std::string(to_string(session->role)) +
                               ") may not do this (needs role " + std::string(to_string(role)) + ")");
  }
  if (caller != nullptr) *caller = Caller{"user:" + session->user, session->role};
  return std::nullopt;
}

HttpResponse Api::operator()(const HttpRequest& request) const {
  const std::string& p = request.path;
  if (p == "/api/v1/results") {
    if (request.method != "POST") return json_error(405, "POST results to /api/v1/results");
    return ingest_(request);
  }
  if (p == "/healthz") return ok_json({{"status", "ok"}});
  if (console_pages_ != nullptr && (p == "/console" || p.rfind("/console/", 0) == 0)) return (*console_pages_)(request);
  if (p == "/metrics") {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics_.render();
    return r;
  }
  if (p.rfind("/api/v1/", 0) != 0) return json_error(404, "no such endpoint: " + p);
  if (console_ != nullptr && p == "/api/v1/session") return handle_session_api(request, *console_);
  if (console_ != nullptr && (p == "/api/v1/users" || p.rfind("/api/v1/users/", 0) == 0)) {
    Caller caller;
    if (auto denied = authorize(request, Role::kAdmin, &caller)) {
      add_security_headers(*denied);
      return *denied;
    }
    return handle_users_api(request, store_, *console_, caller.actor);
  }
  if (licences_ && (p == "/api/v1/licences" || p.rfind("/api/v1/licences/", 0) == 0)) {
    // Reading the registry is a viewer's; changing it an operator's, named in the audit log.
    Caller caller;
    if (auto denied = authorize(request, request.method == "GET" ? Role::kViewer : Role::kOperator, &caller)) {
      return *denied;
    }
    return (*licences_)(request, caller.actor);
  }
  if (p == "/api/v1/alertmanager") {
    // Alertmanager's webhook_configs with http_config.authorization (Bearer, an operator token).
    if (auto denied = authorize(request, Role::kOperator)) return *denied;
    if (alertmanager_ == nullptr) {
      return json_error(503, "the alertmanager endpoint needs alerting: collector.yaml has no alerts: section");
    }
    return (*alertmanager_)(request);
  }
  const bool incidents = p == "/api/v1/incidents" || p.rfind("/api/v1/incidents/", 0) == 0;
  const bool silences = p == "/api/v1/silences" || p.rfind("/api/v1/silences/", 0) == 0;
  if (incidents || silences) {
    Caller caller;
    if (auto denied = authorize(request, Role::kViewer, &caller)) return *denied;
    if ((incidents ? static_cast<const void*>(incidents_) : silences_) == nullptr) {
      return json_error(503, std::string(incidents ? "incidents" : "silences") +
                                 " need alerting: collector.yaml has no alerts: section");
    }
    if (request.method == "POST" && caller.role < Role::kOperator) metrics_.count_reject("forbidden");
    return incidents ? (*incidents_)(request, caller.actor, caller.role)
                     : (*silences_)(request, caller.actor, caller.role);
  }
  if (reports_ != nullptr && (p == "/api/v1/reports" || p.rfind("/api/v1/reports/", 0) == 0)) {
    Caller caller;
    if (auto denied = authorize(request, Role::kViewer, &caller)) return *denied;
    return handle_report_api(request, *reports_, store_, caller.actor, caller.role >= Role::kOperator);
  }
  if (request.method != "GET") return json_error(405, request.method + " is not allowed on " + p);
  if (auto denied = authorize(request, Role::kViewer)) return *denied;
  if (p == "/api/v1/duty") {
    return duty_ ? duty_() : json_error(503, "the duty roster needs alerting: collector.yaml has no alerts: section");
  }
  if (p == "/api/v1/hosts") return hosts();
  if (p.rfind("/api/v1/hosts/", 0) == 0) return host(p.substr(std::string("/api/v1/hosts/").size()));
  if (p == "/api/v1/checks") return checks(request);
  if (p == "/api/v1/series") return series(request);
  if (p == "/api/v1/audit/verify") {
    const AuditVerdict v = store_.verify_audit();
    return ok_json({{"ok", v.ok}, {"entries", v.entries}, {"first_bad_id", v.first_bad_id}, {"reason", v.reason}});
  }
  return json_error(404, "no such endpoint: " + p);
}

HttpResponse Api::hosts() const {
  json out = json::array();
  for (const auto& h : store_.hosts()) out.push_back(to_json(h));
  return ok_json({{"hosts", std::move(out)}});
}

HttpResponse Api::host(const std::string& id) const {
  auto h = store_.host(id);
  if (!h) return json_error(404, "no host '" + id + "'");
  json j = to_json(*h);
  json checks = json::array();
  CheckFilter f;
  f.host = id;
  for (const auto& c : store_.checks(f)) checks.push_back(to_json(c));
  j["check_list"] = std::move(checks);
  json gaps = json::array();
  for (const auto& g : store_.gaps(id)) {
    gaps.push_back({{"from_seq", g.from_seq}, {"to_seq", g.to_seq}, {"count", g.count},
                    {"from_ts", g.from_ts}, {"to_ts", g.to_ts}});
  }
  j["gaps"] = std::move(gaps);
  json changes = json::array();
  std::int64_t now = now_epoch_ms();
  for (const auto& c : store_.status_changes(id, now - 7 * 86'400'000LL, now)) {
    changes.push_back({{"check", c.check}, {"from", std::string(to_string(c.from))},
                       {"to", std::string(to_string(c.to))}, {"ts", c.ts_ms}, {"summary", c.summary}});
  }
  j["changes"] = std::move(changes);
  return ok_json(j);
}

HttpResponse Api::checks(const HttpRequest& request) const {
  CheckFilter f;
  if (auto it = request.query.find("status"); it != request.query.end() && !it->second.empty()) {
    auto s = parse_status(it->second);
    if (!s) return json_error(400, "status '" + it->second + "' is not ok, warning, critical or unknown");
    f.status = *s;
  }
  if (auto it = request.query.find("host"); it != request.query.end()) f.host = it->second;
  if (auto it = request.query.find("kind"); it != request.query.end()) f.kind = it->second;
  json out = json::array();
  for (const auto& c : store_.checks(f)) out.push_back(to_json(c));
  return ok_json({{"checks", std::move(out)}});
}

HttpResponse Api::series(const HttpRequest& request) const {
  SeriesQuery q;
  const std::int64_t now = now_epoch_ms();
  for (const char* required : {"host", "check", "metric"}) {
    auto it = request.query.find(required);
    if (it == request.query.end() || it->second.empty()) {
      return json_error(400, std::string("query parameter '") + required + "' is required");
    }
  }
  q.host = request.query.at("host");
  q.check = request.query.at("check");
  q.metric = request.query.at("metric");
  q.from_ms = now - 86'400'000LL;
  q.to_ms = now;
  for (const char* key : {"from", "to"}) {
    auto it = request.query.find(key);
    if (it == request.query.end()) continue;
    auto t = parse_time_param(it->second, now);
    if (!t) return json_error(400, std::string("'") + key + "' must be epoch ms or a duration ago like 24h");
    (std::string(key) == "from" ? q.from_ms : q.to_ms) = *t;
  }
  if (q.from_ms > q.to_ms) return json_error(400, "'from' is after 'to'");
  if (auto it = request.query.find("step"); it != request.query.end()) {
    auto d = parse_duration(it->second);
    if (!d) return json_error(400, "'step' must be a duration like 0, 1h, 1d");
    q.step_ms = d->count();
  }
  for (const auto& [k, v] : request.query) {
    if (k.rfind("label.", 0) == 0) q.labels[k.substr(6)] = v;
  }
  json out = json::array();
  for (const auto& s : store_.series(q)) {
    json points = json::array();
    for (const auto& p : s.points) {
      points.push_back({{"ts", p.ts_ms}, {"min", p.min}, {"max", p.max}, {"avg", p.avg},
                        {"last", p.last}, {"count", p.count}});
    }
    out.push_back({{"host", s.host}, {"check", s.check}, {"metric", s.metric}, {"unit", s.unit},
                   {"labels", s.labels}, {"source", s.source}, {"points", std::move(points)}});
  }
  return ok_json({{"series", std::move(out)}});
}

}  // namespace xj
