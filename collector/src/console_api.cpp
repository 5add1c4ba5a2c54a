#include "xj/collector/console_api.hpp"

#include <nlohmann/json.hpp>

#include "xj/collector/liveness.hpp"

namespace xj {
namespace {

using json = nlohmann::json;

HttpResponse secured(HttpResponse r) {
  add_security_headers(r);
  return r;
}

HttpResponse error(int status, const std::string& message) {
  return secured(json_error(status, message));
}

HttpResponse ok(const json& j) {
  HttpResponse r;
  r.body = j.dump();
  return secured(std::move(r));
}

json session_json(const ConsoleSession& s) {
  return json{
      {"user", s.user}, {"role", std::string(to_string(s.role))}, {"csrf_token", s.csrf_token}};
}

json user_json(const UserRow& u, const ConsoleAuth& auth, Store& store) {
  const LoginFailures f = store.login_failures("user:" + u.name);
  return json{
      {"name", u.name},          {"role", std::string(to_string(u.role))},
      {"created", u.created_ms}, {"updated", u.updated_ms},
      {"disabled", u.disabled},  {"locked_until", is_locked(f, auth.now()) ? f.locked_until_ms : 0},
      {"failures", f.count}};
}

// The body as a JSON object, or the 400 to answer.
std::optional<HttpResponse> parse_object(const HttpRequest& r, json& body) {
  body = json::parse(r.body.empty() ? "{}" : r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return error(400, "the body must be a JSON object");
  return std::nullopt;
}

// body[key] as a non-empty string, or the 400 naming the field.
std::optional<HttpResponse> string_field(const json& body, const char* key, std::string& out) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_string() || it->get<std::string>().empty()) {
    return error(400, std::string("field '") + key + "' is required (a non-empty string)");
  }
  out = it->get<std::string>();
  return std::nullopt;
}

HttpResponse login(const HttpRequest& request, ConsoleAuth& auth) {
  // A cross-site form cannot send application/json without a CORS preflight we never answer.
  if (request.header("content-type").rfind("application/json", 0) != 0) {
    return error(415, "log in with Content-Type: application/json");
  }
  json body;
  if (auto bad = parse_object(request, body)) return *bad;
  std::string user, password;
  if (auto bad = string_field(body, "user", user)) return *bad;
  if (auto bad = string_field(body, "password", password)) return *bad;
  LoginResult r = auth.login(user, password, ConsoleAuth::address_of(request));
  switch (r.kind) {
    case LoginResult::Kind::kOk: {
      HttpResponse out = ok(session_json(r.session));
      out.headers["Set-Cookie"] = auth.session_cookie(r.session_id);
      return out;
    }
    case LoginResult::Kind::kWrong:
      return error(401, "user name or password is wrong");
    case LoginResult::Kind::kUserLocked:
    case LoginResult::Kind::kAddressLocked: {
      HttpResponse out = error(
          429, std::string(r.kind == LoginResult::Kind::kUserLocked
                               ? "this account is temporarily locked"
                               : "logins from this address are temporarily locked") +
                   " after too many failed logins, until " + format_local_time(r.locked_until_ms));
      json j = json::parse(out.body);
      j["locked_until"] = r.locked_until_ms;
      out.body = j.dump();
      out.headers["Retry-After"] =
          std::to_string(std::max<std::int64_t>(1, (r.locked_until_ms - auth.now() + 999) / 1000));
      return out;
    }
    case LoginResult::Kind::kError:
      return error(500, "cannot log in: " + r.message);
  }
  return error(500, "cannot log in");
}

}  // namespace

HttpResponse handle_session_api(const HttpRequest& request, ConsoleAuth& auth) {
  if (!auth.allowed(request))
    return error(403, "the console is not open to this address (console.allow)");
  if (request.method == "POST") return login(request, auth);
  auto session = auth.session(request);
  if (request.method == "GET") {
    if (!session) return error(401, "not logged in, or the session has expired");
    return ok(session_json(*session));
  }
  if (request.method == "DELETE") {
    if (!session) return error(401, "not logged in, or the session has expired");
    if (!ConsoleAuth::csrf_ok(*session, request)) return error(403, "missing or wrong CSRF token");
    auth.logout(request);
    HttpResponse out = ok(json{{"logged_out", session->user}});
    out.headers["Set-Cookie"] = auth.clearing_cookie();
    return out;
  }
  return error(405, request.method + " is not allowed on /api/v1/session (POST, GET, DELETE)");
}

HttpResponse handle_users_api(const HttpRequest& request, Store& store, ConsoleAuth& auth,
                              const std::string& actor) {
  const std::string base = "/api/v1/users";
  if (request.path == base) {
    if (request.method == "GET") {
      json out = json::array();
      for (const auto& u : store.users()) out.push_back(user_json(u, auth, store));
      return ok(json{{"users", std::move(out)}});
    }
    if (request.method != "POST") return error(405, request.method + " is not allowed on " + base);
    json body;
    if (auto bad = parse_object(request, body)) return *bad;
    std::string name, role_text, password;
    if (auto bad = string_field(body, "name", name)) return *bad;
    if (auto e = user_name_error(name); !e.empty()) return error(400, "field 'name': " + e);
    if (auto bad = string_field(body, "role", role_text)) return *bad;
    auto role = parse_role(role_text);
    if (!role)
      return error(400, "field 'role': '" + role_text + "' is not viewer, operator or admin");
    if (auto bad = string_field(body, "password", password)) return *bad;
    auto hash = auth.new_password(name, password);
    if (!hash) return error(400, "field 'password': " + hash.error());
    UserRow row;
    row.name = name;
    row.role = *role;
    row.password = *hash;
    auto created = store.create_user(row, actor);
    if (!created) {
      return error(created.failure().kind == UserErrorKind::kExists ? 409 : 500, created.error());
    }
    HttpResponse out = ok(user_json(*created, auth, store));
    out.status = 201;
    return out;
  }
  if (request.path.rfind(base + "/", 0) != 0)
    return error(404, "no such endpoint: " + request.path);
  const std::string rest = request.path.substr(base.size() + 1);
  const auto slash = rest.rfind('/');
  if (slash == std::string::npos) {
    if (request.method != "GET")
      return error(405, request.method + " is not allowed on " + request.path);
    auto u = store.user(rest);
    if (!u) return error(404, "no user '" + rest + "'");
    return ok(user_json(*u, auth, store));
  }
  const std::string name = rest.substr(0, slash), verb = rest.substr(slash + 1);
  if (request.method != "POST") return error(405, "POST to " + request.path);
  auto existing = store.user(name);
  if (!existing) return error(404, "no user '" + name + "'");
  json body;
  if (auto bad = parse_object(request, body)) return *bad;
  UserUpdate update;
  if (verb == "role") {
    std::string role_text;
    if (auto bad = string_field(body, "role", role_text)) return *bad;
    update.role = parse_role(role_text);
    if (!update.role)
      return error(400, "field 'role': '" + role_text + "' is not viewer, operator or admin");
  } else if (verb == "password") {
    std::string password;
    if (auto bad = string_field(body, "password", password)) return *bad;
    auto hash = auth.new_password(name, password);
    if (!hash) return error(400, "field 'password': " + hash.error());
    update.password = *hash;
  } else if (verb == "disable" || verb == "enable") {
    update.disabled = verb == "disable";
  } else if (verb == "unlock") {
    if (auto r = auth.unlock(name); !r)
      return error(500, "cannot unlock '" + name + "': " + r.error());
    store.audit(actor, "user.unlock", "user:" + name, "{}");
    return ok(user_json(*existing, auth, store));
  } else {
    return error(404, "no such action '" + verb + "' (role, password, unlock, disable, enable)");
  }
  auto changed = store.update_user(name, update, actor, "user." + verb);
  if (!changed) {
    return error(changed.failure().kind == UserErrorKind::kNotFound ? 404 : 500, changed.error());
  }
  return ok(user_json(*changed, auth, store));
}

}  // namespace xj
