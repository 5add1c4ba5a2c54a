#include "xj/alerts/alerts_config.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "xj/common/config_error.hpp"
#include "xj/common/config_section.hpp"
#include "xj/common/yaml_file.hpp"
#include "detail/metric_rules_config.hpp"
#include "detail/routing_config.hpp"

namespace xj::alerts {
namespace {

// A secret from `<name>_file` (first line, trailing whitespace dropped) or `<name>_env`; an
// inline value is refused so that config files can be shown and kept in version control.
std::string read_secret(const ConfigSection& s, const std::string& name) {
  if (s.has(name)) s.fail(name, "secrets are not written inline; use " + name + "_file or " + name + "_env");
  const std::string file = s.str(name + "_file");
  const std::string env = s.str(name + "_env");
  if (!file.empty() && !env.empty()) s.fail(name + "_file", "give " + name + "_file or " + name + "_env, not both");
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) s.fail(name + "_file", "cannot read '" + file + "'");
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (line.empty()) s.fail(name + "_file", "'" + file + "' is empty");
    return line;
  }
  if (!env.empty()) {
    const char* v = std::getenv(env.c_str());
    if (v == nullptr || *v == '\0') s.fail(name + "_env", "environment variable '" + env + "' is not set");
    return v;
  }
  return "";
}

// A recipient list entry: a phone number (digits, an optional leading +) or an address.
void check_recipient(const ConfigSection& s, const std::string& type, const std::string& r) {
  if (type == "email") {
    const auto at = r.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == r.size() ||
        r.find_first_of(" <>\r\n,;") != std::string::npos) {
      s.fail("to", "'" + r + "' is not an e-mail address like ops@example.com");
    }
    return;
  }
  const std::string digits = r.substr(r.rfind('+', 0) == 0 ? 1 : 0);
  if (digits.size() < 5 || digits.size() > 20 || digits.find_first_not_of("0123456789") != std::string::npos) {
    s.fail("to", "'" + r + "' is not a phone number like 13800138000 or +8613800138000");
  }
}

void parse_sms_http(const ConfigSection& s, ChannelConfig& c) {
  SmsHttpOptions& o = c.sms;
  o.method = s.str("method", "POST");
  if (o.method != "POST" && o.method != "GET") s.fail("method", "'" + o.method + "' is not POST or GET");
  o.content_type = s.str("content_type", "json");
  if (o.content_type != "json" && o.content_type != "form") {
    s.fail("content_type", "'" + o.content_type + "' is not json or form");
  }
  o.headers = s.map("headers");
  for (const auto& [name, value] : o.headers) {
    if (name.empty() || name.find_first_of(" :\r\n") != std::string::npos) {
      s.fail("headers", "'" + name + "' is not a header name");
    }
  }
  o.body = s.str("body");
  ConfigSection ok = s.section("success");
  ok.allow_only({"status", "pointer", "equals", "permanent"});
  if (ok.has("status")) {
    o.success_status.clear();
    for (const auto& st : ok.list("status")) {
      const bool digits = st.size() == 3 && st.find_first_not_of("0123456789") == std::string::npos;
      if (!digits || st[0] < '1' || st[0] > '5') ok.fail("status", "'" + st + "' is not an HTTP status");
      o.success_status.insert(std::stoi(st));
    }
  }
  o.success_pointer = ok.str("pointer");
  if (!o.success_pointer.empty() && o.success_pointer[0] != '/') {
    ok.fail("pointer", "'" + o.success_pointer + "' is not a JSON pointer like /code");
  }
  o.success_value = ok.str("equals");
  if (!o.success_pointer.empty() && !ok.has("equals")) ok.fail("equals", "a pointer needs the value it must equal");
  for (const auto& v : ok.list("permanent")) o.permanent_values.insert(v);
}

void parse_aliyun(const ConfigSection& s, ChannelConfig& c) {
  c.key = s.str("access_key_id");
  if (c.key.empty()) s.fail("access_key_id", "an aliyun_sms channel needs its AccessKeyId");
  c.secret = read_secret(s, "access_key_secret");
  if (c.secret.empty()) s.fail("access_key_secret_file", "an aliyun_sms channel needs its AccessKeySecret");
  c.aliyun.sign_name = s.str("sign_name");
  if (c.aliyun.sign_name.empty()) s.fail("sign_name", "an aliyun_sms channel needs its SignName (短信签名)");
  c.aliyun.template_code = s.str("template_code");
  if (c.aliyun.template_code.empty()) s.fail("template_code", "an aliyun_sms channel needs its TemplateCode");
  if (s.has("template_param")) c.aliyun.template_param = s.map("template_param");
  c.aliyun.region = s.str("region", c.aliyun.region);
}

void parse_email(const ConfigSection& s, ChannelConfig& c) {
  if (c.url.rfind("smtp://", 0) != 0 && c.url.rfind("smtps://", 0) != 0) {
    s.fail("url", c.url.empty() ? "an email channel needs its url (smtp://host:587 or smtps://host:465)"
                                : "'" + c.url + "' is not an smtp:// or smtps:// URL");
  }
  c.email.from = s.str("from");
  if (c.email.from.find('@') == std::string::npos || c.email.from.find_first_of("<>\r\n") != std::string::npos) {
    s.fail("from", "an email channel needs its sender address (from: xunjian@example.com)");
  }
  c.key = s.str("username");
  c.secret = read_secret(s, "password");
  if (!c.key.empty() && c.secret.empty()) s.fail("password_file", "a username needs its password (password_file or password_env)");
  c.email.starttls = s.boolean("starttls", true);
  c.email.verify_tls = s.boolean("verify_tls", true);
  c.email.ca_file = s.str("ca_file");
  if (!c.email.ca_file.empty() && !std::ifstream(c.email.ca_file)) {
    s.fail("ca_file", "cannot read '" + c.email.ca_file + "'");
  }
  c.email.subject_prefix = s.str("subject_prefix", c.email.subject_prefix);
}

ChannelConfig parse_channel(const ConfigSection& s) {
  ChannelConfig c;
  c.type = s.str("type");
  if (!known_channel_type(c.type)) {
    s.fail("type", "'" + c.type + "' is not one of wecom, dingtalk, feishu, webhook, sms_http, aliyun_sms, email");
  }
  const std::initializer_list<std::string_view> common{"name", "type", "url", "rate_per_minute", "timeout",
                                                        "locale", "to", "max_bytes", "max_chars", "overflow"};
  std::vector<std::string_view> allowed(common);
  auto allow = [&](std::initializer_list<std::string_view> more) {
    allowed.insert(allowed.end(), more);
  };
  if (c.type == "sms_http") {
    allow({"key_file", "key_env", "key", "method", "content_type", "headers", "body", "success"});
  } else if (c.type == "aliyun_sms") {
    allow({"access_key_id", "access_key_secret_file", "access_key_secret_env", "access_key_secret", "sign_name",
           "template_code", "template_param", "region"});
  } else if (c.type == "email") {
    allow({"from", "username", "password_file", "password_env", "password", "starttls", "verify_tls", "ca_file",
           "subject_prefix"});
  } else {
    allow({"key_file", "key_env", "key", "secret_file", "secret_env", "secret"});
  }
  s.allow_only(allowed);
  c.name = s.str("name");
  if (c.name.empty()) s.fail("name", "every channel needs a name (routes refer to it)");
  c.url = s.str("url");
  const bool personal = personal_channel_type(c.type);
  if (c.type != "email" && c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0 && !c.url.empty()) {
    s.fail("url", "'" + c.url + "' is not an http:// or https:// URL");
  }
  if (c.type == "sms_http") {
    c.key = read_secret(s, "key");
    if (c.url.empty()) s.fail("url", "an sms_http channel needs its gateway's url");
    parse_sms_http(s, c);
  } else if (c.type == "aliyun_sms") {
    parse_aliyun(s, c);
  } else if (c.type == "email") {
    parse_email(s, c);
  } else {
    c.key = read_secret(s, "key");
    c.secret = read_secret(s, "secret");
    if (c.type == "webhook" && c.url.empty()) s.fail("url", "a webhook channel needs its url");
    if (c.type != "webhook" && c.url.empty() && c.key.empty()) {
      s.fail("key_file", "a " + c.type + " robot needs its key (key_file or key_env) or a url");
    }
  }
  c.to = s.list("to");
  if (!personal && !c.to.empty()) s.fail("to", "a " + c.type + " robot posts to its group; 'to' is for sms_http, aliyun_sms and email");
  for (const auto& r : c.to) check_recipient(s, c.type, r);
  c.locale = s.str("locale");
  if (!c.locale.empty() && c.locale != "zh-CN" && c.locale != "en") s.fail("locale", "'" + c.locale + "' is not zh-CN or en");
  const bool sms = text_style(c.type) == TextStyle::kSms;
  const std::size_t def_bytes = sms ? 500 : c.type == "email" ? 256 * 1024 : 0;
  c.max_bytes = static_cast<std::size_t>(s.integer("max_bytes", static_cast<std::int64_t>(def_bytes), 16, 1 << 20));
  if (!sms && !c.type.empty() && c.type != "email" && s.has("max_bytes")) {
    s.fail("max_bytes", "a " + c.type + " robot's limit is its protocol's; max_bytes is for SMS and e-mail");
  }
  c.max_chars = static_cast<std::size_t>(s.integer("max_chars", sms ? 70 : 0, 0, 1 << 20));
  const std::string overflow = s.str("overflow", "split");
  if (overflow != "split" && overflow != "truncate") s.fail("overflow", "'" + overflow + "' is not split or truncate");
  c.truncate = overflow == "truncate";
  const int def_rate = c.type == "feishu" ? 100 : c.type == "webhook" ? 0 : personal ? 60 : 20;
  c.rate_per_minute = static_cast<int>(s.integer("rate_per_minute", def_rate, 0, 10'000));
  c.timeout = s.duration("timeout", c.timeout, std::chrono::milliseconds(100));
  return c;
}

IncidentLevel level_key(const ConfigSection& s, const std::string& key, const std::string& text) {
  auto l = parse_incident_level(text);
  if (!l) s.fail(key, "'" + text + "' is not one of P1, P2, P3, P4");
  return *l;
}

}  // namespace

std::set<Status> severities(const ConfigSection& s, const std::string& key) {
  std::set<Status> out;
  for (const auto& sev : s.list(key)) {
    auto st = parse_status(sev);
    if (!st || *st == Status::kOk) s.fail(key, "'" + sev + "' is not one of critical, warning, unknown");
    out.insert(*st);
  }
  return out;
}

void check_channels(const ConfigSection& s, const std::vector<std::string>& names,
                    const std::vector<ChannelConfig>& channels) {
  for (const auto& ch : names) {
    bool found = false;
    for (const auto& c : channels) found = found || c.name == ch;
    if (!found) s.fail("channels", "no channel named '" + ch + "'");
  }
}

namespace {

IncidentOptions parse_incidents(const ConfigSection& s, const std::vector<ChannelConfig>& channels) {
  IncidentOptions o;
  if (s.empty()) return o;
  s.allow_only({"enabled", "open_levels", "levels", "auto_resolve", "warn_at", "channels"});
  o.enabled = s.boolean("enabled", true);
  if (s.has("open_levels")) {
    o.open_levels.clear();
    for (const auto& l : s.list("open_levels")) o.open_levels.insert(level_key(s, "open_levels", l));
  }
  o.auto_resolve = s.boolean("auto_resolve", o.auto_resolve);
  o.warn_at = s.percent("warn_at", o.warn_at * 100) / 100.0;
  o.channels = s.list("channels");
  check_channels(s, o.channels, channels);
  if (s.has("levels")) {
    const YAML::Node list = s.node()["levels"];
    if (!list.IsSequence()) s.fail("levels", "must be a list of {severity, labels, check, level}");
    for (std::size_t i = 0; i < list.size(); ++i) {
      ConfigSection r(list[i], s.file(), s.where() + ".levels[" + std::to_string(i) + "]");
      r.allow_only({"severity", "labels", "check", "level"});
      LevelRule rule;
      rule.severities = severities(r, "severity");
      rule.labels = r.map("labels");
      rule.check = r.str("check");
      if (!r.has("level")) r.fail("level", "each rule needs its level (P1-P4)");
      rule.level = level_key(r, "level", r.str("level"));
      o.levels.push_back(std::move(rule));
    }
  }
  return o;
}

// "2026-12-05 22:00" (or with seconds) in the contract's local time.
std::int64_t local_time_key(const ConfigSection& s, const std::string& key) {
  const std::string text = s.str(key);
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  const int n = std::sscanf(text.c_str(), "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec);
  if ((n != 5 && n != 6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) {
    s.fail(key, "'" + text + "' is not a local time like 2026-12-05 22:00");
  }
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  tm.tm_isdst = -1;
  return static_cast<std::int64_t>(std::mktime(&tm)) * 1000;
}

Silence parse_maintenance(const ConfigSection& s, std::size_t index) {
  s.allow_only({"matchers", "comment", "from", "to", "days", "time", "holidays"});
  Silence w;
  w.id = -static_cast<std::int64_t>(index + 1);
  w.maintenance = true;
  w.from_config = true;
  w.author = "collector.yaml";
  const auto matchers = s.list("matchers");
  if (matchers.empty()) s.fail("matchers", "a window needs at least one matcher like system=平台 (it would match everything)");
  for (const auto& m : matchers) {
    auto parsed = parse_matcher(m);
    if (!parsed) s.fail("matchers", parsed.error());
    w.matchers.push_back(std::move(parsed).value());
  }
  w.comment = s.str("comment");
  if (w.comment.empty()) s.fail("comment", "say why (it is shown with the window)");
  if (s.has("from")) w.starts_ms = local_time_key(s, "from");
  if (s.has("to")) w.ends_ms = local_time_key(s, "to");
  if (s.has("time")) {
    Recurrence rec;
    auto range = parse_time_range(s.str("time"));
    if (!range) s.fail("time", range.error());
    rec.from_min = range->first;
    rec.to_min = range->second;
    if (s.has("days")) {
      auto days = parse_days(s.str("days"));
      if (!days) s.fail("days", days.error());
      rec.days = *days;
    }
    const std::string hol = s.str("holidays", "any");
    if (hol != "any" && hol != "skip" && hol != "only") s.fail("holidays", "'" + hol + "' is not any, skip or only");
    rec.holidays = hol == "skip" ? HolidayRule::kSkip : hol == "only" ? HolidayRule::kOnly : HolidayRule::kAny;
    w.recurrence = rec;
  } else {
    if (s.has("days") || s.has("holidays")) s.fail(s.has("days") ? "days" : "holidays", "needs 'time' (a weekly window like 22:00-02:00)");
    if (!s.has("from") || !s.has("to")) s.fail(s.has("from") ? "to" : "from", "a one-off window needs from and to (or a weekly time)");
  }
  if (w.ends_ms != 0 && w.ends_ms <= w.starts_ms) s.fail("to", "the end is not after the start");
  return w;
}

}  // namespace

ContractDeadlines parse_contract_deadlines(const ConfigSection& d) {
  ContractDeadlines out = default_deadlines();
  if (d.empty()) return out;
  d.allow_only({"P1", "P2", "P3", "P4"});
  for (int n = 1; n <= 4; ++n) {
    const std::string key = "P" + std::to_string(n);
    ConfigSection l = d.section(key);
    l.allow_only({"respond", "repair"});
    auto& x = out[static_cast<std::size_t>(n - 1)];
    x.respond = l.duration("respond", x.respond, std::chrono::minutes(1));
    x.repair = l.duration("repair", x.repair, std::chrono::minutes(1));
    if (x.repair < x.respond) l.fail("repair", "the repair deadline is shorter than the response deadline");
  }
  return out;
}

AlertsConfig parse_alerts_config(const ConfigSection& a) {
  AlertsConfig cfg;
  if (a.empty()) return cfg;
  a.allow_only({"enabled", "console_url", "locale", "for_warning", "for_critical", "for_unknown",
                "for_host_down", "recover_for", "no_data_intervals", "flapping", "retry", "channels",
                "routes", "incidents", "holidays", "repeat_interval", "people", "duty",
                "default_route", "maintenance", "grouping", "storm", "rules"});
  cfg.enabled = a.boolean("enabled", true);
  cfg.message.console_url = a.str("console_url");
  cfg.message.locale = a.str("locale", "zh-CN");
  if (cfg.message.locale != "zh-CN" && cfg.message.locale != "en") {
    a.fail("locale", "'" + cfg.message.locale + "' is not zh-CN or en");
  }
  const std::chrono::milliseconds zero{0};
  RuleOptions& r = cfg.rules;
  r.for_warning = a.duration("for_warning", r.for_warning, zero);
  r.for_critical = a.duration("for_critical", r.for_critical, zero);
  r.for_unknown = a.duration("for_unknown", r.for_unknown, zero);
  r.for_host_down = a.duration("for_host_down", r.for_host_down, zero);
  r.recover_for = a.duration("recover_for", r.recover_for, zero);
  cfg.repeat_interval = a.duration("repeat_interval", cfg.repeat_interval, zero);
  if (cfg.repeat_interval.count() > 0 && cfg.repeat_interval < std::chrono::minutes(1)) {
    a.fail("repeat_interval", "repeating more often than every minute would flood the robots; use 0 for never");
  }
  r.no_data_intervals = static_cast<int>(a.integer("no_data_intervals", r.no_data_intervals, 1, 1000));
  cfg.message.no_data_intervals = r.no_data_intervals;
  ConfigSection flap = a.section("flapping");
  flap.allow_only({"changes", "window"});
  r.flap_changes = static_cast<int>(flap.integer("changes", r.flap_changes, 0, 1000));
  r.flap_window = flap.duration("window", r.flap_window, std::chrono::seconds(1));
  ConfigSection retry = a.section("retry");
  retry.allow_only({"initial", "max", "max_attempts"});
  cfg.sender.backoff_initial = retry.duration("initial", cfg.sender.backoff_initial, std::chrono::milliseconds(10));
  cfg.sender.backoff_max = retry.duration("max", cfg.sender.backoff_max, cfg.sender.backoff_initial);
  cfg.sender.max_attempts = static_cast<int>(retry.integer("max_attempts", cfg.sender.max_attempts, 1, 100'000));
  // Grouping and the storm digest (OutboxSender): how the outbox's rows are combined.
  ConfigSection grouping = a.section("grouping");
  grouping.allow_only({"by", "window"});
  GroupingOptions& g = cfg.sender.grouping;
  if (grouping.has("by")) {
    g.by = grouping.list("by");
    if (g.by.empty()) grouping.fail("by", "must name at least one of host, system, check");
    for (const auto& f : g.by) {
      if (f != "host" && f != "system" && f != "check") {
        grouping.fail("by", "'" + f + "' is not one of host, system, check");
      }
    }
  }
  g.window = grouping.duration("window", g.window, zero);
  if (g.window > std::chrono::minutes(10)) {
    grouping.fail("window", "holding alerts longer than 10m delays the person on duty; use at most 10m (0 turns grouping off)");
  }
  ConfigSection storm = a.section("storm");
  storm.allow_only({"threshold", "interval"});
  cfg.sender.storm.threshold = static_cast<int>(storm.integer("threshold", cfg.sender.storm.threshold, 0, 100'000));
  cfg.sender.storm.interval = storm.duration("interval", cfg.sender.storm.interval, std::chrono::seconds(1));
  if (cfg.sender.storm.interval > std::chrono::minutes(10)) {
    storm.fail("interval", "a digest less often than every 10m leaves the person on duty uninformed; use at most 10m");
  }

  if (a.has("channels")) {
    const YAML::Node list = a.node()["channels"];
    if (!list.IsSequence()) a.fail("channels", "must be a list of channels");
    std::set<std::string> names;
    for (std::size_t i = 0; i < list.size(); ++i) {
      ConfigSection s(list[i], a.file(), a.where() + ".channels[" + std::to_string(i) + "]");
      ChannelConfig c = parse_channel(s);
      if (!names.insert(c.name).second) s.fail("name", "channel '" + c.name + "' is defined twice");
      cfg.channels.push_back(std::move(c));
    }
  }
  cfg.incidents = parse_incidents(a.section("incidents"), cfg.channels);
  for (const auto& d : a.list("holidays")) {
    if (!civil_days(d)) a.fail("holidays", "'" + d + "' is not a date like 2026-10-01");
    cfg.holidays.insert(d);
  }
  cfg.sender.message = cfg.message;
  detail::parse_routing(a, cfg);
  detail::parse_metric_rules(a, cfg);
  if (a.has("maintenance")) {
    const YAML::Node list = a.node()["maintenance"];
    if (!list.IsSequence()) a.fail("maintenance", "must be a list of windows {matchers, comment, from/to or days/time}");
    for (std::size_t i = 0; i < list.size(); ++i) {
      ConfigSection s(list[i], a.file(), a.where() + ".maintenance[" + std::to_string(i) + "]");
      cfg.maintenance.push_back(parse_maintenance(s, i));
    }
  }
  return cfg;
}

}  // namespace xj::alerts
