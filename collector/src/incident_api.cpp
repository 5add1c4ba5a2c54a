#include "xj/collector/incident_api.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

namespace xj {

using json = nlohmann::json;
using alerts::Incident;

namespace {

HttpResponse ok_json(const json& j) {
  HttpResponse r;
  r.body = j.dump();
  return r;
}

std::optional<std::int64_t> parse_id(std::string_view s) {
  if (s.rfind("INC-", 0) == 0) s.remove_prefix(4);  // people copy the number from a message
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

// A JSON object body with only string fields among `allowed`; the error names the field.
std::optional<std::string> read_body(const HttpRequest& r, std::initializer_list<std::string_view> allowed,
                                     std::map<std::string, std::string>& out) {
  if (r.body.empty()) return std::nullopt;
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "the body must be a JSON object";
  for (auto& [k, v] : j.items()) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return "unknown field '" + k + "'; allowed: " + list;
    }
    if (!v.is_string()) return "field '" + k + "' must be a string";
    out[k] = v.get<std::string>();
  }
  return std::nullopt;
}

}  // namespace

json to_json(const Incident& i) {
  json links = json::array();
  for (const auto& a : i.alerts) {
    links.push_back({{"fingerprint", a.fingerprint}, {"since", a.since_ms}, {"host", a.host},
                     {"check", a.check}, {"linked", a.linked_ms}, {"resolved", a.resolved_ms}});
  }
  return json{{"id", i.id},
              {"number", alerts::incident_number(i.id)},
              {"title", i.title},
              {"level", std::string(alerts::to_string(i.level))},
              {"state", std::string(alerts::to_string(i.state))},
              {"source", i.source},
              {"host", i.host},
              {"system", i.system},
              {"opened", i.opened_ms},
              {"opened_by", i.opened_by},
              {"acknowledged", i.acknowledged_ms},
              {"acknowledged_by", i.acknowledged_by},
              {"resolved", i.resolved_ms},
              {"resolved_by", i.resolved_by},
              {"closed", i.closed_ms},
              {"closed_by", i.closed_by},
              {"respond_due", i.respond_due_ms},
              {"repair_due", i.repair_due_ms},
              {"respond_warned", i.respond_warned},
              {"repair_warned", i.repair_warned},
              {"respond_breached", i.respond_breached},
              {"repair_breached", i.repair_breached},
              {"description", i.description},
              {"impact", i.impact},
              {"cause", i.cause},
              {"handling", i.handling},
              {"alerts", std::move(links)}};
}

json to_json(const alerts::TimelineEntry& e) {
  return json{{"id", e.id}, {"ts", e.ts_ms}, {"kind", e.kind}, {"actor", e.actor}, {"text", e.text}};
}

IncidentApi::IncidentApi(alerts::AlertPipeline& pipeline, alerts::AlertStore& alerts, Store& audit,
                         alerts::MessageContext message)
    : pipeline_(pipeline), alerts_(alerts), audit_(audit), message_(std::move(message)) {}

HttpResponse IncidentApi::operator()(const HttpRequest& r, const std::string& actor, Role role) const {
  const std::string base = "/api/v1/incidents";
  const bool post = r.method == "POST";
  if (post && role < Role::kOperator) {
    return json_error(403, "this caller may not do this (needs role operator)");
  }
  if (r.path == base) {
    if (post) return create(r, actor);
    if (r.method == "GET") return list(r);
    return json_error(405, r.method + " is not allowed on " + base);
  }
  std::string rest = r.path.substr(base.size() + 1);
  std::string verb;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    verb = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  auto id = parse_id(rest);
  if (!id) return json_error(404, "'" + rest + "' is not an incident number (like 42 or INC-0042)");
  if (verb.empty() || verb == "report") {
    if (r.method != "GET") return json_error(405, r.method + " is not allowed on " + r.path);
    return verb.empty() ? show(*id) : report(*id);
  }
  if (verb != "ack" && verb != "note" && verb != "resolve" && verb != "close") {
    return json_error(404, "no such incident action '" + verb + "' (ack, note, resolve, close, report)");
  }
  if (!post) return json_error(405, "POST to " + r.path);
  return act(*id, verb, r, actor);
}

HttpResponse IncidentApi::list(const HttpRequest& r) const {
  alerts::IncidentFilter f;
  if (auto it = r.query.find("state"); it != r.query.end() && !it->second.empty()) {
    auto s = alerts::parse_incident_state(it->second);
    if (!s) return json_error(400, "state '" + it->second + "' is not open, acknowledged, resolved or closed");
    f.state = *s;
  }
  if (auto it = r.query.find("active"); it != r.query.end()) f.active_only = it->second == "1" || it->second == "true";
  if (auto it = r.query.find("host"); it != r.query.end()) f.host = it->second;
  for (const char* key : {"from", "to", "limit"}) {
    auto it = r.query.find(key);
    if (it == r.query.end() || it->second.empty()) continue;
    auto v = parse_id(it->second);
    if (!v) return json_error(400, std::string("'") + key + "' must be a positive integer (epoch ms for from/to)");
    if (std::string(key) == "from") f.from_ms = *v;
    if (std::string(key) == "to") f.to_ms = *v;
    if (std::string(key) == "limit") f.limit = static_cast<std::size_t>(std::min<std::int64_t>(*v, 10'000));
  }
  json out = json::array();
  for (const auto& i : alerts_.incidents(f)) out.push_back(to_json(i));
  return ok_json({{"incidents", std::move(out)}});
}

HttpResponse IncidentApi::show(std::int64_t id) const {
  auto i = alerts_.incident(id);
  if (!i) return json_error(404, "no incident " + alerts::incident_number(id));
  json j = to_json(*i);
  json t = json::array();
  for (const auto& e : alerts_.timeline(id)) t.push_back(to_json(e));
  j["timeline"] = std::move(t);
  return ok_json(j);
}

HttpResponse IncidentApi::report(std::int64_t id) const {
  auto i = alerts_.incident(id);
  if (!i) return json_error(404, "no incident " + alerts::incident_number(id));
  HttpResponse r;
  r.content_type = "text/markdown; charset=utf-8";
  r.body = alerts::render_fault_report(*i, alerts_.timeline(id), message_, now_epoch_ms());
  return r;
}

HttpResponse IncidentApi::audited(const std::string& actor, const std::string& action, const Incident& i,
                                  const json& detail) const {
  // The change is committed; an audit entry that cannot be written is an error the operator
  // must see (the action is not undone: the timeline holds it with the actor).
  if (auto a = audit_.audit(actor, action, "incident:" + alerts::incident_number(i.id), detail.dump()); !a) {
    spdlog::error("event=audit_failed action={} incident={} error=\"{}\"", action, i.id, a.error());
    return json_error(500, "the change was made but could not be audited: " + a.error());
  }
  return ok_json({{"incident", to_json(i)}});
}

HttpResponse IncidentApi::create(const HttpRequest& r, const std::string& actor) const {
  std::map<std::string, std::string> f;
  if (auto bad = read_body(r, {"title", "level", "host", "system", "description"}, f)) return json_error(400, *bad);
  alerts::NewIncident n;
  n.title = f["title"];
  n.host = f["host"];
  n.system = f["system"];
  n.description = f["description"];
  n.actor = actor;
  if (!f["level"].empty()) {
    auto l = alerts::parse_incident_level(f["level"]);
    if (!l) return json_error(400, "level '" + f["level"] + "' is not P1, P2, P3 or P4");
    n.level = *l;
  }
  auto opened = pipeline_.open_incident(n);
  if (!opened) return json_error(opened.failure().status, opened.error());
  return audited(actor, "incident.open", *opened, json{{"title", n.title}, {"level", alerts::to_string(n.level)}});
}

HttpResponse IncidentApi::act(std::int64_t id, const std::string& verb, const HttpRequest& r,
                              const std::string& actor) const {
  std::map<std::string, std::string> f;
  if (auto bad = read_body(r, {"text", "impact", "cause", "handling"}, f)) return json_error(400, *bad);
  alerts::IncidentAction a;
  a.kind = verb == "ack"       ? alerts::ActionKind::kAcknowledge
           : verb == "note"    ? alerts::ActionKind::kNote
           : verb == "resolve" ? alerts::ActionKind::kResolve
                               : alerts::ActionKind::kClose;
  a.actor = actor;
  a.text = f["text"];
  a.impact = f["impact"];
  a.cause = f["cause"];
  a.handling = f["handling"];
  auto done = pipeline_.act(id, a);
  if (!done) return json_error(done.failure().status, done.error());
  json detail = json::object();
  for (const auto& [k, v] : f) detail[k] = v;
  return audited(actor, "incident." + verb, *done, detail);
}

}  // namespace xj
