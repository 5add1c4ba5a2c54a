#include <chrono>
#include <cmath>
#include <cstdio>
#include <regex>

#include "detail/time_zone.hpp"
#include "xj/collector/licence_registry.hpp"

namespace xj {
namespace {

using json = nlohmann::json;
constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::size_t kMaxText = 200, kMaxNote = 1000;

HttpResponse answer(int status, const json& j) {
  HttpResponse r;
  r.status = status;
  r.body = j.dump();
  return r;
}

HttpResponse field_error(const std::string& field, const std::string& what) {
  return json_error(400, "field '" + field + "': " + what);
}

// A string field: absent -> `fallback`; wrong type or too long -> an error naming it.
std::optional<HttpResponse> text_field(const json& body, const std::string& field, std::size_t limit,
                                       bool required, std::string& out) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    if (required) return field_error(field, "is required");
    return std::nullopt;
  }
  if (!it->is_string()) return field_error(field, "must be a string");
  out = it->get<std::string>();
  if (required && out.find_first_not_of(" \t") == std::string::npos) return field_error(field, "must not be empty");
  if (out.size() > limit) return field_error(field, "longer than " + std::to_string(limit) + " bytes");
  for (unsigned char c : out) {
    if (c < 0x20 || c == 0x7f) return field_error(field, "contains control characters");
  }
  return std::nullopt;
}

std::optional<HttpResponse> only_fields(const json& body, std::initializer_list<const char*> allowed) {
  for (auto& [k, v] : body.items()) {
    bool ok = false;
    std::string list;
    for (const char* a : allowed) {
      ok = ok || k == a;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    if (!ok) return field_error(k, "unknown field; allowed: " + list);
  }
  return std::nullopt;
}

std::optional<std::int64_t> parse_id(const std::string& text) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoll(text);
}

}  // namespace

Expected<LicenceApi> LicenceApi::create(Store& store, const std::string& timezone) {
  auto tz = detail::TimeZone::load(timezone);
  if (!tz) return Error{tz.error()};
  return LicenceApi(store, std::make_shared<const detail::TimeZone>(std::move(tz).value()));
}

Expected<std::int64_t> LicenceApi::parse_expiry(const json& value) const {
  if (value.is_number_integer()) {
    const auto ms = value.get<std::int64_t>();
    if (ms <= 0) return make_error("epoch milliseconds must be positive");
    return ms;
  }
  if (!value.is_string()) return make_error("must be a date like 2026-10-31 or epoch milliseconds");
  static const std::regex date(R"((\d{4})-(\d{2})-(\d{2}))");
  std::smatch m;
  const std::string text = value.get<std::string>();
  if (!std::regex_match(text, m, date)) return make_error("'" + text + "' is not a date like 2026-10-31");
  using namespace std::chrono;
  const year_month_day ymd{year{std::stoi(m[1])}, month{static_cast<unsigned>(std::stoi(m[2]))},
                           day{static_cast<unsigned>(std::stoi(m[3]))}};
  if (!ymd.ok() || ymd.year() < year{1970}) return make_error("'" + text + "' is not a calendar date");
  const std::int64_t utc_midnight = sys_days{ymd}.time_since_epoch().count() * kDayMs;
  // Local midnight is within a day of UTC midnight; noon of the local day is safely inside it.
  const std::int64_t local_noon = utc_midnight + kDayMs / 2 - tz_->offset_ms(utc_midnight);
  // Valid through the day: the licence ends at the next local midnight.
  return tz_->next_day_start(tz_->day_start(local_noon));
}

std::string LicenceApi::last_day(std::int64_t expiry_ms) const {
  using namespace std::chrono;
  const std::int64_t last = expiry_ms - 1;
  const std::int64_t local = last + tz_->offset_ms(last);
  const std::int64_t days = local >= 0 ? local / kDayMs : (local - kDayMs + 1) / kDayMs;
  const year_month_day ymd{sys_days{std::chrono::days{days}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

json LicenceApi::to_json(const LicenceRow& l) const {
  const double days_left = static_cast<double>(l.expiry_ms - now_epoch_ms()) / kDayMs;
  return json{{"id", l.id},
              {"product", l.product},
              {"holder", l.holder},
              {"host", l.host},
              {"expiry", l.expiry_ms},
              {"valid_until", last_day(l.expiry_ms)},
              {"days_left", std::floor(days_left * 10) / 10},
              {"contract", l.contract},
              {"source", l.source},
              {"check", l.check},
              {"state", std::string(to_string(l.state))},
              {"created", l.created_ms},
              {"updated", l.updated_ms}};
}

HttpResponse LicenceApi::operator()(const HttpRequest& request, const std::string& actor) const {
  static const std::string base = "/api/v1/licences";
  const std::string rest = request.path.size() > base.size() ? request.path.substr(base.size() + 1) : "";
  json body = json::object();
  if (request.method == "POST") {
    if (!request.body.empty()) {
      body = json::parse(request.body, nullptr, false);
      if (body.is_discarded()) return json_error(400, "the body is not JSON");
    }
    if (!body.is_object()) return json_error(400, "the body must be a JSON object");
  } else if (request.method != "GET") {
    return json_error(405, request.method + " is not allowed on " + request.path);
  }
  if (rest.empty()) {
    return request.method == "GET" ? list() : add(body, actor);
  }
  const auto slash = rest.find('/');
  auto id = parse_id(rest.substr(0, slash));
  if (!id) return json_error(404, "no licence '" + rest.substr(0, slash) + "' (ids are numbers)");
  if (slash == std::string::npos) {
    if (request.method != "GET") return json_error(405, "POST to /api/v1/licences/{id}/renew, /activate or /revoke");
    return one(*id);
  }
  const std::string verb = rest.substr(slash + 1);
  if (verb != "renew" && verb != "revoke" && verb != "activate") {
    return json_error(404, "no such licence action '" + verb + "' (activate, renew, revoke)");
  }
  if (request.method != "POST") return json_error(405, "POST to " + request.path);
  return change(*id, verb, body, actor);
}

HttpResponse LicenceApi::list() const {
  json out = json::array();
  for (const auto& l : store_->licences()) out.push_back(to_json(l));
  return answer(200, {{"licences", std::move(out)}});
}

HttpResponse LicenceApi::one(std::int64_t id) const {
  auto l = store_->licence(id);
  if (!l) return json_error(404, "no licence " + std::to_string(id));
  json j = to_json(*l);
  json events = json::array();
  for (const auto& e : store_->licence_events(id)) {
    events.push_back({{"id", e.id},
                      {"ts", e.ts_ms},
                      {"event", std::string(to_string(e.event))},
                      {"event_zh", std::string(chinese_name(e.event))},
                      {"actor", e.actor},
                      {"detail", json::parse(e.detail, nullptr, false)},
                      {"audit_id", e.audit_id}});
  }
  j["events"] = std::move(events);
  return answer(200, j);
}

HttpResponse LicenceApi::add(const json& body, const std::string& actor) const {
  if (auto bad = only_fields(body, {"product", "holder", "host", "expiry", "contract", "state"})) return *bad;
  LicenceRow l;
  l.source = "operator";
  std::string state = "active";
  if (auto bad = text_field(body, "product", kMaxText, true, l.product)) return *bad;
  if (auto bad = text_field(body, "holder", kMaxText, true, l.holder)) return *bad;
  if (auto bad = text_field(body, "host", kMaxText, false, l.host)) return *bad;
  if (auto bad = text_field(body, "contract", kMaxText, false, l.contract)) return *bad;
  if (auto bad = text_field(body, "state", kMaxText, false, state)) return *bad;
  if (state != "applied" && state != "active") return field_error("state", "'" + state + "' is not applied or active");
  l.state = *parse_licence_state(state);
  auto expiry = body.find("expiry");
  if (expiry == body.end() || expiry->is_null()) return field_error("expiry", "is required");
  auto ms = parse_expiry(*expiry);
  if (!ms) return field_error("expiry", ms.error());
  l.expiry_ms = *ms;
  auto stored = store_->add_licence(l, actor);
  if (!stored) {
    const auto& f = stored.failure();
    if (f.kind == LicenceError::kInvalid) return field_error(f.field, f.message);
    return json_error(500, f.message);
  }
  return answer(201, {{"licence", to_json(*stored)}});
}

HttpResponse LicenceApi::change(std::int64_t id, const std::string& verb, const json& body,
                                const std::string& actor) const {
  LicenceUpdate u;
  LicenceEventKind event = LicenceEventKind::kRevoked;
  if (verb == "renew") {
    event = LicenceEventKind::kRenewed;
    if (auto bad = only_fields(body, {"expiry", "contract", "note"})) return *bad;
    auto expiry = body.find("expiry");
    if (expiry == body.end() || expiry->is_null()) return field_error("expiry", "is required to renew");
    auto ms = parse_expiry(*expiry);
    if (!ms) return field_error("expiry", ms.error());
    u.expiry_ms = *ms;
    if (auto bad = text_field(body, "contract", kMaxText, false, u.contract)) return *bad;
  } else {
    event = verb == "activate" ? LicenceEventKind::kActivated : LicenceEventKind::kRevoked;
    if (auto bad = only_fields(body, {"note"})) return *bad;
  }
  if (auto bad = text_field(body, "note", kMaxNote, false, u.note)) return *bad;
  auto changed = store_->change_licence(id, event, u, actor);
  if (!changed) {
    const auto& f = changed.failure();
    switch (f.kind) {
      case LicenceError::kNotFound: return json_error(404, f.message);
      case LicenceError::kConflict: return json_error(409, f.message);
      case LicenceError::kInvalid: return field_error(f.field, f.message);
      case LicenceError::kStore: break;
    }
    return json_error(500, f.message);
  }
  return answer(200, {{"licence", to_json(*changed)}});
}

}  // namespace xj
