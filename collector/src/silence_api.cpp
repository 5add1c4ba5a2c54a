#include "xj/collector/silence_api.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

#include "xj/common/duration.hpp"

namespace xj {

using json = nlohmann::json;
using alerts::Silence;

json to_json(const Silence& s, std::int64_t now_ms, const std::set<std::string>& holidays) {
  json matchers = json::array();
  for (const auto& m : s.matchers) matchers.push_back(m.str());
  json j{{"id", s.id},          {"label", s.label()},        {"maintenance", s.maintenance},
         {"matchers", matchers}, {"starts", s.starts_ms},     {"ends", s.ends_ms},
         {"author", s.author},   {"comment", s.comment},      {"created", s.created_ms},
         {"ended", s.ended_ms},  {"active", s.active_at(now_ms, holidays)},
         {"source", s.from_config ? "config" : "api"}};
  if (s.recurrence) {
    const auto& r = *s.recurrence;
    j["days"] = alerts::days_text(r.days);
    j["time"] = alerts::time_range_text(r.from_min, r.to_min);
    j["holidays"] = r.holidays == alerts::HolidayRule::kSkip ? "skip" : r.holidays == alerts::HolidayRule::kOnly ? "only" : "any";
  }
  return j;
}

SilenceApi::SilenceApi(alerts::AlertPipeline& pipeline, Store& audit, std::set<std::string> holidays)
    : pipeline_(pipeline), audit_(audit), holidays_(std::move(holidays)) {}

HttpResponse SilenceApi::operator()(const HttpRequest& r, const std::string& actor, Role role) const {
  const std::string base = "/api/v1/silences";
  if (r.method == "POST" && role < Role::kOperator) {
    return json_error(403, "this caller may not do this (needs role operator)");
  }
  const std::int64_t now = now_epoch_ms();
  if (r.path == base) {
    if (r.method == "POST") return create(r, actor);
    if (r.method != "GET") return json_error(405, r.method + " is not allowed on " + base);
    auto q = [&](const char* k) {
      auto it = r.query.find(k);
      return it == r.query.end() ? std::string() : it->second;
    };
    json out = json::array();
    for (const auto& s : pipeline_.silences()) {
      if ((q("active") == "1" || q("active") == "true") && !s.active_at(now, holidays_)) continue;
      if (!q("maintenance").empty() && s.maintenance != (q("maintenance") == "1" || q("maintenance") == "true")) continue;
      out.push_back(to_json(s, now, holidays_));
    }
    HttpResponse resp;
    resp.body = json{{"silences", std::move(out)}}.dump();
    return resp;
  }
  std::string rest = r.path.substr(base.size() + 1);
  const auto slash = rest.find('/');
  const std::string verb = slash == std::string::npos ? "" : rest.substr(slash + 1);
  rest = rest.substr(0, slash);
  if (rest.size() > 2 && (rest.rfind("S-", 0) == 0 || rest.rfind("M-", 0) == 0)) rest = rest.substr(2);
  const bool from_config = rest.rfind("config-", 0) == 0;  // M-config-1: a window of collector.yaml
  if (from_config) rest = rest.substr(7);
  std::int64_t id = 0;
  auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), id);
  if (ec != std::errc() || p != rest.data() + rest.size() || id <= 0 || verb != "expire") {
    return json_error(404, "no such endpoint: " + r.path + " (POST /api/v1/silences/{id}/expire)");
  }
  if (r.method != "POST") return json_error(405, "POST to " + r.path);
  auto ended = pipeline_.end_silence(from_config ? -id : id);
  if (!ended) return json_error(ended.failure().status, ended.error());
  if (auto a = audit_.audit(actor, "silence.expire", "silence:" + ended->label(), "{}"); !a) {
    return json_error(500, "the silence was ended but could not be audited: " + a.error());
  }
  HttpResponse resp;
  resp.body = json{{"silence", to_json(*ended, now, holidays_)}}.dump();
  return resp;
}

HttpResponse SilenceApi::create(const HttpRequest& r, const std::string& actor) const {
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return json_error(400, "the body must be a JSON object");
  static const std::set<std::string> allowed{"matchers", "comment", "maintenance", "starts", "ends",
                                             "duration", "days", "time", "holidays"};
  for (auto& [k, v] : j.items()) {
    if (!allowed.count(k)) {
      return json_error(400, "unknown field '" + k + "'; allowed: comment, days, duration, ends, holidays, "
                             "maintenance, matchers, starts, time");
    }
  }
  auto text = [&](const char* k) -> std::optional<std::string> {
    if (!j.contains(k)) return std::string();
    if (!j[k].is_string()) return std::nullopt;
    return j[k].get<std::string>();
  };
  Silence s;
  s.author = actor;
  if (!j.contains("matchers") || !j["matchers"].is_array() || j["matchers"].empty()) {
    return json_error(400, "'matchers' must be a non-empty list like [\"host=db-01\", \"check=~proc:.*\"]");
  }
  for (const auto& m : j["matchers"]) {
    if (!m.is_string()) return json_error(400, "every matcher must be a string like \"host=db-01\"");
    auto parsed = alerts::parse_matcher(m.get<std::string>());
    if (!parsed) return json_error(400, parsed.error());
    s.matchers.push_back(std::move(parsed).value());
  }
  auto comment = text("comment");
  if (!comment || comment->empty()) return json_error(400, "'comment' is required: say why (it is shown and audited)");
  s.comment = *comment;
  if (j.contains("maintenance")) {
    if (!j["maintenance"].is_boolean()) return json_error(400, "'maintenance' must be true or false");
    s.maintenance = j["maintenance"].get<bool>();
  }
  for (const char* k : {"starts", "ends"}) {
    if (!j.contains(k)) continue;
    if (!j[k].is_number_integer() || j[k].get<std::int64_t>() < 0) return json_error(400, std::string("'") + k + "' must be epoch ms");
    (std::string(k) == "starts" ? s.starts_ms : s.ends_ms) = j[k].get<std::int64_t>();
  }
  const std::int64_t now = now_epoch_ms();
  auto duration = text("duration");
  if (!duration) return json_error(400, "'duration' must be a string like 2h");
  if (!duration->empty()) {
    auto d = parse_duration(*duration);
    if (!d || d->count() <= 0) return json_error(400, "'duration' '" + *duration + "' is not a duration like 30m or 2h");
    if (s.starts_ms == 0) s.starts_ms = now;
    s.ends_ms = s.starts_ms + d->count();
  }
  auto time = text("time"), days = text("days"), holidays = text("holidays");
  if (!time || !days || !holidays) return json_error(400, "'time', 'days' and 'holidays' are strings");
  if (!time->empty()) {
    alerts::Recurrence rec;
    auto range = alerts::parse_time_range(*time);
    if (!range) return json_error(400, range.error());
    rec.from_min = range->first;
    rec.to_min = range->second;
    auto d = alerts::parse_days(*days);
    if (!d) return json_error(400, d.error());
    rec.days = *d;
    if (*holidays == "skip") {
      rec.holidays = alerts::HolidayRule::kSkip;
    } else if (*holidays == "only") {
      rec.holidays = alerts::HolidayRule::kOnly;
    } else if (!holidays->empty() && *holidays != "any") {
      return json_error(400, "'holidays' '" + *holidays + "' is not any, skip or only");
    }
    s.recurrence = rec;
  } else if (!days->empty() || !holidays->empty()) {
    return json_error(400, "'days' and 'holidays' need 'time' (a weekly window like 22:00-02:00)");
  } else if (s.starts_ms == 0) {
    s.starts_ms = now;
  }
  auto added = pipeline_.add_silence(std::move(s));
  if (!added) return json_error(added.failure().status, added.error());
  json detail = j;
  if (auto a = audit_.audit(actor, added->maintenance ? "maintenance.add" : "silence.add", "silence:" + added->label(),
                            detail.dump());
      !a) {
    return json_error(500, "the silence was added but could not be audited: " + a.error());
  }
  HttpResponse resp;
  resp.body = json{{"silence", to_json(*added, now, holidays_)}}.dump();
  return resp;
}

HttpResponse duty_response(const alerts::AlertsConfig& cfg, std::int64_t now_ms) {
  if (!cfg.duty.configured()) return json_error(404, "no duty roster: collector.yaml has no alerts.duty");
  auto person = [&](const std::string& id) {
    auto it = cfg.people.find(id);
    if (it == cfg.people.end()) return json{{"id", id}};
    const auto& p = it->second;
    return json{{"id", p.id}, {"name", p.name}, {"phone", p.phone}, {"email", p.email}, {"wecom_user", p.wecom_user}};
  };
  const auto d = alerts::duty_at(cfg.duty, now_ms, cfg.holidays);
  json j{{"now", now_ms},
         {"on_duty", person(d.person)},
         {"duty_date", d.duty_date},
         {"reason", d.reason},
         {"since", d.since_ms},
         {"handover", alerts::time_range_text(cfg.duty.handover_min, cfg.duty.handover_min).substr(0, 5)},
         {"period_days", cfg.duty.period_days},
         {"rotation", cfg.duty.rotation}};
  if (d.next_handover_ms != 0) j["next"] = json{{"at", d.next_handover_ms}, {"person", person(d.next_person)}};
  HttpResponse r;
  r.content_type = "application/json";
  r.body = j.dump();
  return r;
}

}  // namespace xj
