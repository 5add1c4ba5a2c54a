#include "xj/collector/ctl_render.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>

#include "xj/collector/ctl_table.hpp"

namespace xj {
namespace {

using json = nlohmann::json;

const json& field(const json& j, const char* key) {
  static const json null;
  if (!j.is_object()) return null;
  auto it = j.find(key);
  return it == j.end() ? null : *it;
}

std::string str(const json& j, const char* key) {
  const json& v = field(j, key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return format_value(v.get<double>());
  return "";
}

std::int64_t ms(const json& j, const char* key) {
  const json& v = field(j, key);
  return v.is_number() ? v.get<std::int64_t>() : 0;
}

const json& list(const json& j, const char* key) {
  static const json empty = json::array();
  const json& v = field(j, key);
  return v.is_array() ? v : empty;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// {"role":"db","system":"平台"} -> "role=db system=平台" (keys in order, as JSON keeps them).
std::string labels_text(const json& labels) {
  std::string out;
  if (!labels.is_object()) return out;
  for (const auto& [k, v] : labels.items()) {
    if (!out.empty()) out += ' ';
    out += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

std::string number(const json& j, const char* key) {
  const json& v = field(j, key);
  return v.is_number() ? format_value(v.get<double>()) : "";
}

std::string time_of(const json& j, const char* key, const ContractZone& zone) {
  const std::int64_t t = ms(j, key);
  return t == 0 ? "-" : zone.format(t);
}

std::string check_table(const json& checks, const ContractZone& zone, bool with_host) {
  std::vector<std::string> header{"STATUS", "CHECK", "KIND", "SINCE", "SUMMARY"};
  if (with_host) header.insert(header.begin(), "HOST");
  Table t(header);
  for (const auto& c : checks) {
    std::vector<std::string> row{upper(str(c, "status")), str(c, "check"), str(c, "kind"),
                                 time_of(c, "since", zone), str(c, "summary")};
    if (with_host) row.insert(row.begin(), str(c, "host"));
    t.add(std::move(row));
  }
  return t.render();
}

}  // namespace

std::string format_value(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf");
  char buf[40];
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.6g", v);
  }
  return buf;
}

std::string render_hosts(const json& answer, const ContractZone& zone) {
  const json& hosts = list(answer, "hosts");
  if (hosts.empty()) return "no hosts have reported yet\n";
  Table t({"HOST", "STATUS", "OK", "WARN", "CRIT", "UNKN", "LAST CONTACT", "VERSION", "LABELS"});
  for (const auto& h : hosts) {
    const json& n = field(h, "checks");
    t.add({str(h, "id"), upper(str(h, "status")), number(n, "ok"), number(n, "warning"),
           number(n, "critical"), number(n, "unknown"), time_of(h, "last_contact", zone),
           str(h, "version"), labels_text(field(h, "labels"))});
  }
  return t.render();
}

std::string render_host(const json& h, const ContractZone& zone) {
  Table about({});
  about.add({"host", str(h, "id")});
  about.add({"hostname", str(h, "hostname")});
  about.add({"status", upper(str(h, "status"))});
  about.add({"version", str(h, "version")});
  about.add({"labels", labels_text(field(h, "labels"))});
  about.add({"first seen", time_of(h, "first_seen", zone)});
  about.add({"last contact", time_of(h, "last_contact", zone)});
  std::string out = about.render();

  const json& checks = list(h, "check_list");
  out += "\n";
  out += checks.empty() ? "no checks\n" : check_table(checks, zone, false);

  const json& gaps = list(h, "gaps");
  if (!gaps.empty()) {
    // A gap is what the agent's spool had to drop when full: the reports say "no data".
    Table g({"NO DATA FROM", "TO", "RESULTS LOST", "SEQ"});
    for (const auto& gap : gaps) {
      g.add({time_of(gap, "from_ts", zone), time_of(gap, "to_ts", zone), number(gap, "count"),
             number(gap, "from_seq") + "-" + number(gap, "to_seq")});
    }
    out += "\ngaps (results the agent dropped)\n" + g.render();
  }

  const json& changes = list(h, "changes");
  if (!changes.empty()) {
    Table c({"TIME", "CHECK", "FROM", "TO", "SUMMARY"});
    for (const auto& ch : changes) {
      c.add({time_of(ch, "ts", zone), str(ch, "check"), upper(str(ch, "from")), upper(str(ch, "to")),
             str(ch, "summary")});
    }
    out += "\nstatus changes (last 7 days)\n" + c.render();
  }
  return out;
}

std::string render_checks(const json& answer, const ContractZone& zone) {
  const json& checks = list(answer, "checks");
  if (checks.empty()) return "no checks match\n";
  return check_table(checks, zone, true);
}

std::string render_series(const json& answer, const ContractZone& zone) {
  const json& series = list(answer, "series");
  if (series.empty()) return "no data in this period\n";
  std::string out;
  for (const auto& s : series) {
    if (!out.empty()) out += "\n";
    std::string title = str(s, "host") + "  " + str(s, "check") + "  " + str(s, "metric");
    if (!str(s, "unit").empty()) title += " (" + str(s, "unit") + ")";
    if (!labels_text(field(s, "labels")).empty()) title += "  " + labels_text(field(s, "labels"));
    title += "  [" + str(s, "source") + "]";
    out += terminal_safe(title) + "\n";
    Table t({"TIME", "MIN", "MAX", "AVG", "LAST", "COUNT"});
    for (const auto& p : list(s, "points")) {
      t.add({time_of(p, "ts", zone), number(p, "min"), number(p, "max"), number(p, "avg"),
             number(p, "last"), number(p, "count")});
    }
    out += t.empty() ? "no points\n" : t.render();
  }
  return out;
}

namespace {

// 12.3 days left -> "12"; expired 0.5 days ago -> "-1" (whole days, rounded down, so a
// licence that expires today shows 0 and one that expired today -1).
std::string days_left(const json& l) {
  const json& v = field(l, "days_left");
  if (!v.is_number()) return "";
  return format_value(std::floor(v.get<double>()));
}

}  // namespace

std::string render_licences(const json& answer, const ContractZone& zone) {
  (void)zone;
  const json& licences = list(answer, "licences");
  if (licences.empty()) return "no licences registered\n";
  Table t({"ID", "DAYS LEFT", "VALID UNTIL", "STATE", "PRODUCT", "HOLDER", "HOST", "CONTRACT", "SOURCE"});
  for (const auto& l : licences) {
    t.add({number(l, "id"), days_left(l), str(l, "valid_until"), upper(str(l, "state")), str(l, "product"),
           str(l, "holder"), str(l, "host"), str(l, "contract"),
           str(l, "source") == "check" ? "check " + str(l, "check") : str(l, "source")});
  }
  return t.render();
}

std::string render_licence(const json& answer, const ContractZone& zone) {
  const json& l = field(answer, "licence").is_object() ? field(answer, "licence") : answer;
  Table about({});
  about.add({"licence", number(l, "id")});
  about.add({"product", str(l, "product")});
  about.add({"holder", str(l, "holder")});
  about.add({"host", str(l, "host")});
  about.add({"valid until", str(l, "valid_until") + " (" + days_left(l) + " days left)"});
  about.add({"state", upper(str(l, "state"))});
  about.add({"contract", str(l, "contract")});
  about.add({"source", str(l, "source") == "check" ? "check " + str(l, "check") : str(l, "source")});
  about.add({"updated", time_of(l, "updated", zone)});
  std::string out = about.render();
  const json& events = list(l, "events");
  if (!events.empty()) {
    Table e({"TIME", "EVENT", "ACTOR", "AUDIT", "DETAIL"});
    for (const auto& ev : events) {
      const json& d = field(ev, "detail");
      std::string detail;
      if (d.is_object()) {
        for (const char* key : {"from_expiry", "expiry", "contract", "note"}) {
          if (!d.contains(key)) continue;
          const json& v = d[key];
          std::string text = v.is_string() ? v.get<std::string>() : v.dump();
          if ((std::string(key) == "expiry" || std::string(key) == "from_expiry") && v.is_number()) {
            text = zone.format(v.get<std::int64_t>());
          }
          detail += (detail.empty() ? "" : " ") + std::string(key) + "=" + text;
        }
      }
      e.add({time_of(ev, "ts", zone), str(ev, "event_zh") + " " + str(ev, "event"), str(ev, "actor"),
             "#" + number(ev, "audit_id"), detail});
    }
    out += "\nlifecycle\n" + e.render();
  }
  return out;
}

std::string render_incidents(const json& answer, const ContractZone& zone) {
  const json& incidents = list(answer, "incidents");
  if (incidents.empty()) return "no incidents match\n";
  Table t({"NUMBER", "LEVEL", "STATE", "OPENED", "RESPOND BY", "REPAIR BY", "BREACH", "HOST", "TITLE"});
  for (const auto& i : incidents) {
    std::string breach;
    if (field(i, "respond_breached") == true) breach = "respond";
    if (field(i, "repair_breached") == true) breach += breach.empty() ? "repair" : ",repair";
    t.add({str(i, "number"), str(i, "level"), str(i, "state"), time_of(i, "opened", zone),
           time_of(i, "respond_due", zone), time_of(i, "repair_due", zone), breach.empty() ? "-" : breach,
           str(i, "host"), str(i, "title")});
  }
  return t.render();
}

std::string render_incident(const json& answer, const ContractZone& zone) {
  // An action answers {"incident": {...}}; show answers the incident itself with its timeline.
  const json& i = field(answer, "incident").is_object() ? field(answer, "incident") : answer;
  auto who = [&](const char* at, const char* by) {
    const std::string t = time_of(i, at, zone);
    return str(i, by).empty() ? t : t + "  " + str(i, by);
  };
  auto deadline = [&](const char* due, const char* breached) {
    return time_of(i, due, zone) + (field(i, breached) == true ? "  BREACHED" : "");
  };
  Table about({});
  about.add({"incident", str(i, "number")});
  about.add({"title", str(i, "title")});
  about.add({"level", str(i, "level")});
  about.add({"state", str(i, "state")});
  about.add({"host", str(i, "host")});
  about.add({"system", str(i, "system")});
  about.add({"opened", who("opened", "opened_by")});
  about.add({"acknowledged", who("acknowledged", "acknowledged_by")});
  about.add({"resolved", who("resolved", "resolved_by")});
  about.add({"closed", who("closed", "closed_by")});
  about.add({"respond by", deadline("respond_due", "respond_breached")});
  about.add({"repair by", deadline("repair_due", "repair_breached")});
  for (const char* k : {"impact", "cause", "handling"}) {
    if (!str(i, k).empty()) about.add({k, str(i, k)});
  }
  std::string out = about.render();
  const json& alerts = list(i, "alerts");
  if (!alerts.empty()) {
    Table a({"HOST", "CHECK", "SINCE", "RESOLVED"});
    for (const auto& l : alerts) {
      a.add({str(l, "host"), str(l, "check"), time_of(l, "since", zone), time_of(l, "resolved", zone)});
    }
    out += "\nalerts\n" + a.render();
  }
  const json& timeline = list(i, "timeline");
  if (!timeline.empty()) {
    Table tl({"TIME", "EVENT", "BY", "TEXT"});
    for (const auto& e : timeline) tl.add({time_of(e, "ts", zone), str(e, "kind"), str(e, "actor"), str(e, "text")});
    out += "\ntimeline\n" + tl.render();
  }
  return out;
}

std::string render_silences(const json& answer, const ContractZone& zone) {
  // One silence (an add or expire answers {"silence": ...}) or the list.
  json rows = field(answer, "silence").is_object() ? json::array({field(answer, "silence")}) : list(answer, "silences");
  if (rows.empty()) return "none in force (--all shows every one)\n";
  Table t({"ID", "ACTIVE", "FROM", "TO", "WEEKLY", "MATCHERS", "AUTHOR", "COMMENT"});
  for (const auto& s : rows) {
    std::string matchers;
    for (const auto& m : list(s, "matchers")) matchers += (matchers.empty() ? "" : " ") + (m.is_string() ? m.get<std::string>() : "");
    std::string weekly = str(s, "time").empty() ? "-" : str(s, "days") + " " + str(s, "time");
    if (!str(s, "holidays").empty() && str(s, "holidays") != "any") weekly += " holidays:" + str(s, "holidays");
    const std::int64_t ended = ms(s, "ended");
    t.add({str(s, "label"), field(s, "active") == true ? "yes" : "no", time_of(s, "starts", zone),
           ended != 0 ? zone.format(ended) + " (ended)" : time_of(s, "ends", zone), weekly, matchers, str(s, "author"),
           str(s, "comment")});
  }
  return t.render();
}

std::string render_duty(const json& answer, const ContractZone& zone) {
  auto who = [](const json& p) {
    std::string s = str(p, "name").empty() ? str(p, "id") : str(p, "name") + " (" + str(p, "id") + ")";
    if (!str(p, "phone").empty()) s += "  " + str(p, "phone");
    if (!str(p, "email").empty()) s += "  " + str(p, "email");
    return s;
  };
  std::string out = "on duty:  " + who(field(answer, "on_duty"));
  const std::string reason = str(answer, "reason");
  if (reason == "override") out += "  (override for " + str(answer, "duty_date") + ")";
  if (reason == "holiday") out += "  (holiday stand-in)";
  out += "\nsince:    " + time_of(answer, "since", zone) + "\n";
  const json& next = field(answer, "next");
  if (next.is_object()) {
    out += "handover: " + time_of(next, "at", zone) + " to " + who(field(next, "person")) + "\n";
  } else {
    out += "handover: none within a year\n";
  }
  return out;
}

}  // namespace xj
