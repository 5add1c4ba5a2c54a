#include "xj/reports/contract.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <set>

#include "xj/common/config_error.hpp"
#include "xj/common/config_section.hpp"
#include "xj/common/yaml_file.hpp"

namespace xj::reports {
namespace {

const char* const kDateHint = "must be a date like 2026-03-01";

// A duration standard ("30s", "26h") in seconds.
double seconds_of(const ConfigSection& s, const std::string& key, double def_s) {
  const auto def = std::chrono::milliseconds(static_cast<std::int64_t>(def_s * 1000));
  return static_cast<double>(s.duration(key, def, std::chrono::milliseconds(1000)).count()) / 1000.0;
}

Schedule parse_schedule(const ConfigSection& s, Schedule def, bool weekly) {
  Schedule out = def;
  if (s.empty()) return out;
  s.allow_only({"enabled", weekly ? "weekday" : "day", "at"});
  out.enabled = s.boolean("enabled", true);
  if (weekly) {
    static const char* const names[] = {"monday", "tuesday", "wednesday", "thursday",
                                        "friday", "saturday", "sunday"};
    const std::string w = s.str("weekday", "monday");
    bool found = false;
    for (int i = 0; i < 7; ++i) {
      if (w == names[i]) {
        out.weekday = i + 1;
        found = true;
      }
    }
    if (!found) s.fail("weekday", "'" + w + "' is not a day name (monday ... sunday)");
  } else {
    out.day = static_cast<int>(s.integer("day", 1, 1, 28));
  }
  const std::string at = s.str("at", "08:00");
  int h = -1, m = -1;
  char tail = 0;
  if (std::sscanf(at.c_str(), "%d:%d%c", &h, &m, &tail) != 2 || h < 0 || h > 23 || m < 0 ||
      m > 59 || at.size() != 5) {
    s.fail("at", "'" + at + "' must be a local time like 08:00");
  }
  out.hour = h;
  out.minute = m;
  return out;
}

// deliver: [{channels: [ops-group, mail], kinds: [weekly, monthly]}, ...]: one form only, a
// list of rules, so adding a kind-specific rule later never means rewriting the first one.
std::vector<DeliverRule> parse_deliver_rules(const ConfigSection& r) {
  std::vector<DeliverRule> out;
  if (!r.has("deliver")) return out;
  const YAML::Node list = r.node()["deliver"];
  if (!list.IsSequence()) {
    r.fail("deliver", "must be a list of {channels: [...], kinds: [weekly, monthly, period]}");
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].IsMap()) {
      r.fail("deliver", "item " + std::to_string(i) + " must be a map {channels: [...], kinds: [...]}, e.g. "
                        "{channels: [ops-group]}");
    }
    ConfigSection d(list[i], r.file(), r.where() + ".deliver[" + std::to_string(i) + "]");
    d.allow_only({"channels", "kinds"});
    DeliverRule rule;
    rule.channels = d.list("channels");
    if (rule.channels.empty()) d.fail("channels", "needs at least one channel of alerts.channels");
    if (d.has("kinds")) {
      rule.kinds = d.list("kinds");
      if (rule.kinds.empty()) d.fail("kinds", "needs at least one kind (weekly, monthly, period)");
      for (const auto& k : rule.kinds) {
        if (k != "weekly" && k != "monthly" && k != "period") {
          d.fail("kinds", "'" + k + "' is not a report kind (weekly, monthly, period)");
        }
      }
    }
    out.push_back(std::move(rule));
  }
  return out;
}

}  // namespace

bool valid_date(const std::string& text) {
  int y = 0, m = 0, d = 0;
  char tail = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) {
    return false;
  }
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || m < 1 || m > 12 || d < 1) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= days[m - 1] + (m == 2 && leap ? 1 : 0);
}

ContractConfig parse_contract_config(const ConfigSection& c) {
  ContractConfig out;
  out.customer = c.str("customer");
  out.service_company = c.str("service_company");

  ConfigSection term = c.section("term");
  term.allow_only({"from", "to"});
  out.term_from = term.str("from");
  out.term_to = term.str("to");
  for (const char* key : {"from", "to"}) {
    const std::string& v = std::string(key) == "from" ? out.term_from : out.term_to;
    if (term.has(key) && !valid_date(v)) term.fail(key, "'" + v + "' " + kDateHint);
  }
  if (!out.term_from.empty() && !out.term_to.empty() && out.term_to < out.term_from) {
    term.fail("to", "the term ends (" + out.term_to + ") before it begins (" + out.term_from + ")");
  }

  ConfigSection targets = c.section("targets");
  targets.allow_only({"availability"});
  out.availability_target = targets.percent("availability", out.availability_target);

  if (c.has("systems")) {
    const YAML::Node list = c.node()["systems"];
    if (!list.IsSequence()) c.fail("systems", "must be a list of {name, match}");
    std::set<std::string> names;
    for (std::size_t i = 0; i < list.size(); ++i) {
      ConfigSection s(list[i], c.file(), c.where() + ".systems[" + std::to_string(i) + "]");
      s.allow_only({"name", "match"});
      SystemSpec spec;
      spec.name = s.str("name");
      if (spec.name.empty()) s.fail("name", "every system needs a name");
      if (!names.insert(spec.name).second) s.fail("name", "system '" + spec.name + "' is named twice");
      spec.match = s.map("match");
      if (spec.match.empty()) {
        s.fail("match", "system '" + spec.name + "' needs host labels to match, e.g. {system: " +
                            spec.name + "}");
      }
      out.systems.push_back(std::move(spec));
    }
  }

  if (c.has("availability_kinds")) {
    out.availability_kinds = c.list("availability_kinds");
    if (out.availability_kinds.empty()) {
      c.fail("availability_kinds", "must name at least one check kind (e.g. [alive, process, port])");
    }
  }

  ConfigSection st = c.section("standards");
  st.allow_only({"cpu", "memory", "disk", "disk_full_days", "db_connections", "tablespace",
                 "replication_lag", "long_query", "backup_age", "block_interval", "chain_lag",
                 "chain_min_peers"});
  out.standards.cpu_pct = st.percent("cpu", out.standards.cpu_pct);
  out.standards.memory_pct = st.percent("memory", out.standards.memory_pct);
  out.standards.disk_pct = st.percent("disk", out.standards.disk_pct);
  out.standards.disk_full_days =
      static_cast<int>(st.integer("disk_full_days", out.standards.disk_full_days, 1, 3650));
  out.standards.db_connections_pct = st.percent("db_connections", out.standards.db_connections_pct);
  out.standards.tablespace_pct = st.percent("tablespace", out.standards.tablespace_pct);
  out.standards.replication_lag_s = seconds_of(st, "replication_lag", out.standards.replication_lag_s);
  out.standards.long_query_s = seconds_of(st, "long_query", out.standards.long_query_s);
  out.standards.backup_age_h = seconds_of(st, "backup_age", out.standards.backup_age_h * 3600) / 3600;
  out.standards.block_interval_s = seconds_of(st, "block_interval", out.standards.block_interval_s);
  out.standards.chain_lag_blocks =
      static_cast<double>(st.integer("chain_lag", static_cast<std::int64_t>(out.standards.chain_lag_blocks), 1, 1'000'000));
  out.standards.chain_min_peers =
      static_cast<double>(st.integer("chain_min_peers", static_cast<std::int64_t>(out.standards.chain_min_peers), 0, 10'000));

  ConfigSection r = c.section("reports");
  r.allow_only({"locale", "dir", "url", "weekly", "monthly", "formats", "deliver", "max_attachment"});
  if (r.has("formats")) {
    out.formats = r.list("formats");
    for (const auto& f : out.formats) {
      if (f != "html" && f != "pdf" && f != "md" && f != "json") {
        r.fail("formats", "'" + f + "' is not a report format (html, pdf, md, json)");
      }
    }
    if (out.formats.empty()) r.fail("formats", "must name at least one format (html, pdf, md, json)");
  }
  out.locale = r.str("locale", out.locale);
  if (out.locale != "zh-CN" && out.locale != "en") {
    r.fail("locale", "'" + out.locale + "' is not a report locale (zh-CN, en)");
  }
  out.report_dir = r.str("dir");
  out.report_url = r.str("url");
  out.deliver = parse_deliver_rules(r);
  out.max_attachment = r.size("max_attachment", out.max_attachment, 1024);
  out.weekly = parse_schedule(r.section("weekly"), out.weekly, true);
  out.monthly = parse_schedule(r.section("monthly"), out.monthly, false);
  return out;
}

}  // namespace xj::reports
