// The console's JSON endpoints (security headers on every answer):
//   POST   /api/v1/session        {"user","password"} -> {"user","role","csrf_token"} + Set-Cookie
//   GET    /api/v1/session        the request's session (401 without)
//   DELETE /api/v1/session        logs out (X-CSRF-Token required), clears the cookie
//   GET    /api/v1/users                        admin
//   POST   /api/v1/users  {name, role, password} admin
//   POST   /api/v1/users/{name}/role {role} | password {password} | unlock | disable | enable admin
#pragma once

#include <string>

#include "xj/collector/console_auth.hpp"

namespace xj {

// /api/v1/session; refuses (403) addresses outside console.allow.
HttpResponse handle_session_api(const HttpRequest& request, ConsoleAuth& auth);
// /api/v1/users...; the caller is authorized as admin already, `actor` names it in the audit.
HttpResponse handle_users_api(const HttpRequest& request, Store& store, ConsoleAuth& auth,
                              const std::string& actor);

}  // namespace xj
