// The odbc check's pure parts: connection strings and the dm / oracle evaluation.
#include <algorithm>
#include <cctype>
#include <cstdio>

#include "xj/checks/odbc_check.hpp"

namespace xj {
namespace {

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::string odbc_value(const std::string& v) {
  const bool plain = v.find_first_of(";{}") == std::string::npos && !v.empty() &&
                     !std::isspace(static_cast<unsigned char>(v.front())) &&
                     !std::isspace(static_cast<unsigned char>(v.back()));
  if (plain) return v;
  std::string out = "{";
  for (char c : v) {
    out += c;
    if (c == '}') out += '}';
  }
  return out + "}";
}

}  // namespace

std::string odbc_connection_string(const std::string& dsn, const std::string& connection_string,
                                   const std::string& user, const std::string& password) {
  std::string out;
  if (!dsn.empty()) out += "DSN=" + odbc_value(dsn) + ";";
  if (!connection_string.empty()) {
    out += connection_string;
    if (out.back() != ';') out += ';';
  }
  if (!user.empty()) out += "UID=" + odbc_value(user) + ";";
  if (!password.empty()) out += "PWD=" + odbc_value(password) + ";";
  return out;
}

std::string odbc_target(const std::string& dsn, const std::string& connection_string) {
  if (!dsn.empty()) return dsn;
  std::map<std::string, std::string> kv;
  std::size_t pos = 0;
  while (pos < connection_string.size()) {
    std::size_t eq = connection_string.find('=', pos);
    if (eq == std::string::npos) break;
    std::string key = upper(trim(connection_string.substr(pos, eq - pos)));
    std::string value;
    std::size_t next = eq + 1;
    if (next < connection_string.size() && connection_string[next] == '{') {
      std::size_t i = next + 1;
      for (; i < connection_string.size(); ++i) {
        if (connection_string[i] == '}') {
          if (i + 1 < connection_string.size() && connection_string[i + 1] == '}') {
            value += '}';
            ++i;
            continue;
          }
          break;
        }
        value += connection_string[i];
      }
      next = connection_string.find(';', i);
    } else {
      std::size_t semi = connection_string.find(';', next);
      value = trim(connection_string.substr(next, semi == std::string::npos ? semi : semi - next));
      next = semi;
    }
    kv[key] = value;
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  for (const char* k : {"SERVER", "HOST", "SERVERNAME", "DBQ"}) {
    auto it = kv.find(k);
    if (it == kv.end() || it->second.empty()) continue;
    for (const char* p : {"PORT", "TCP_PORT"}) {
      if (kv.count(p) && !kv[p].empty()) return it->second + ":" + kv[p];
    }
    return it->second;
  }
  return "odbc";
}

Expected<bool> evaluate_instance_dialect(const SqlSnapshot& s, const InstanceThresholds& t,
                                         const std::string& product, Result& r) {
  auto add = [&](std::string name, double v, std::string unit, Labels labels = {},
                 std::optional<Range> warn = {}, std::optional<Range> crit = {}) {
    r.metrics.push_back(
        Metric{std::move(name), v, std::move(unit), std::move(labels), warn, crit});
  };
  auto get = [&](const char* name) -> const SqlTable* {
    auto it = s.find(name);
    return it == s.end() ? nullptr : &it->second;
  };
  std::string status = "?", version, role;
  if (const SqlTable* i = get("instance")) {
    if (i->rows.empty()) return make_error("statement 'instance' returned no row");
    if (i->column("status") < 0) return make_error("statement 'instance' returned no column 'status'");
    status = trim(i->text(0, "status").value_or(""));
    version = trim(i->text(0, "version").value_or(""));
    role = trim(i->text(0, "role").value_or(""));
    r.details["instance_name"] = i->text(0, "instance_name").value_or("");
    r.details["status"] = status;
    r.details["role"] = role;
    r.details["version"] = version;
    add("instance_open", upper(status) == "OPEN" ? 1 : 0, "", {}, std::nullopt, Range::below(1));
  }
  double sessions = -1, max_sessions = 0;
  if (const SqlTable* ss = get("sessions")) {
    if (ss->rows.size() != 1) return make_error("statement 'sessions' must return one row");
    auto used = ss->number(0, "sessions");
    if (!used) return make_error("statement 'sessions' returned no number in column 'sessions'");
    sessions = *used;
    add("sessions", sessions, "");
    if (auto m = ss->number(0, "max_sessions"); m && *m > 0) {
      max_sessions = *m;
      add("max_sessions", max_sessions, "");
      add("sessions_pct", round_to(100.0 * sessions / max_sessions, 2), "%", {}, t.sessions_warn,
          t.sessions_crit);
    }
  }
  double fullest = -1;
  std::string fullest_name;
  if (const SqlTable* ts = get("tablespaces")) {
    for (std::size_t i = 0; i < ts->rows.size(); ++i) {
      const std::string name = trim(ts->text(i, "tablespace").value_or("?"));
      auto used = ts->number(i, "used_bytes");
      auto max = ts->number(i, "max_bytes");
      if (!used || !max) {
        return make_error("statement 'tablespaces' must return numbers in used_bytes and "
                          "max_bytes (tablespace " + name + ")");
      }
      Labels l{{"tablespace", name}};
      add("tablespace_used_bytes", *used, "B", l);
      add("tablespace_max_bytes", *max, "B", l);
      if (*max > 0) {
        const double pct = round_to(100.0 * *used / *max, 2);
        add("tablespace_used_pct", pct, "%", l, t.tablespace_warn, t.tablespace_crit);
        if (pct > fullest) {
          fullest = pct;
          fullest_name = name;
        }
      }
    }
  }
  r.status = worst(r.status, r.metrics_status());
  std::string text = product + (version.empty() ? "" : " " + version) + " " + status +
                     (role.empty() ? "" : " (" + role + ")");
  if (sessions >= 0) {
    text += ": " + std::to_string(static_cast<long long>(sessions)) +
            (max_sessions > 0 ? "/" + std::to_string(static_cast<long long>(max_sessions)) : "") +
            " sessions";
  }
  if (fullest >= 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, ", fullest tablespace %.2f%% (", fullest);
    text += buf + fullest_name + ")";
  }
  std::string alerts = describe_alerts(r.metrics);
  r.summary = alerts.empty() ? text : text + "; " + alerts;
  return true;
}

}  // namespace xj
