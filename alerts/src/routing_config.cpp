#include "detail/routing_config.hpp"

#include <algorithm>
#include <functional>

#include "xj/common/config_section.hpp"

namespace xj::alerts::detail {
namespace {

void each_item(const ConfigSection& a, const std::string& key, const std::string& what,
               const std::function<void(const ConfigSection&)>& fn) {
  if (!a.has(key)) return;
  const YAML::Node list = a.node()[key];
  if (!list.IsSequence()) a.fail(key, "must be a list of " + what);
  for (std::size_t i = 0; i < list.size(); ++i) {
    fn(ConfigSection(list[i], a.file(), a.where() + "." + key + "[" + std::to_string(i) + "]"));
  }
}

Person parse_person(const ConfigSection& s) {
  s.allow_only({"id", "name", "phone", "email", "wecom_user"});
  Person p{s.str("id"), s.str("name"), s.str("phone"), s.str("email"), s.str("wecom_user")};
  if (p.id.empty())
    s.fail("id", "every person needs an id (routes and the duty roster refer to it)");
  if (p.id == kOnDuty)
    s.fail("id",
           "'on_duty' is reserved: a route's to: [on_duty] means the roster's person on call");
  if (p.name.empty())
    s.fail("name", "person '" + p.id + "' needs a name (messages and xunjianctl duty show it)");
  const std::string digits = p.phone.substr(!p.phone.empty() && p.phone[0] == '+' ? 1 : 0);
  if (!p.phone.empty() &&
      (digits.size() < 5 || digits.find_first_not_of("0123456789") != std::string::npos)) {
    s.fail("phone", "'" + p.phone + "' is not a phone number (digits, optionally a leading +)");
  }
  const auto at = p.email.find('@');
  if (!p.email.empty() && (at == std::string::npos || at == 0 || at + 1 == p.email.size())) {
    s.fail("email", "'" + p.email + "' is not an e-mail address");
  }
  return p;
}

void check_person(const ConfigSection& s, const std::string& key, const std::string& id,
                  const AlertsConfig& cfg) {
  if (!cfg.people.count(id)) s.fail(key, "no person with id '" + id + "' in alerts.people");
}

DutyRoster parse_duty(const ConfigSection& d, const AlertsConfig& cfg) {
  DutyRoster r;
  if (d.empty()) return r;
  d.allow_only({"rotation", "handover", "period", "start", "holiday", "overrides"});
  r.rotation = d.list("rotation");
  if (r.rotation.empty())
    d.fail("rotation", "the duty roster needs the people who take turns (person ids)");
  for (const auto& id : r.rotation) check_person(d, "rotation", id, cfg);
  const std::string handover = d.str("handover", "09:00");
  auto min = parse_clock_minutes(handover);
  if (!min || *min >= 24 * 60)
    d.fail("handover", "'" + handover + "' is not a local time like 09:00");
  r.handover_min = *min;
  const std::string period = d.str("period", "daily");
  if (period == "daily") {
    r.period_days = 1;
  } else if (period == "weekly") {
    r.period_days = 7;
  } else if (period.size() >= 2 && period.back() == 'd' &&
             period.find_first_not_of("0123456789") == period.size() - 1 && period.size() <= 4) {
    r.period_days = std::stoi(period.substr(0, period.size() - 1));
    if (r.period_days < 1) d.fail("period", "a period of 0 days never hands over");
  } else {
    d.fail("period", "'" + period + "' is not daily, weekly or a number of days like 3d");
  }
  r.start = d.str("start");
  if (!civil_days(r.start)) {
    d.fail("start",
           r.start.empty()
               ? "the roster needs its start: the local date the first of the rotation takes over"
               : "'" + r.start + "' is not a date like 2026-12-01");
  }
  r.holiday_person = d.str("holiday");
  if (!r.holiday_person.empty()) check_person(d, "holiday", r.holiday_person, cfg);
  for (const auto& [date, id] : d.map("overrides")) {
    if (!civil_days(date)) d.fail("overrides", "'" + date + "' is not a date like 2026-10-01");
    check_person(d, "overrides", id, cfg);
    r.overrides[date] = id;
  }
  return r;
}

// Every person a target can resolve to must have the address each person-addressed channel
// of the target needs, else nobody would be reached: a config error, not a silent skip.
void check_target(const ConfigSection& s, const Target& t, const AlertsConfig& cfg) {
  if (t.channels.empty()) s.fail("channels", "needs at least one channel");
  check_channels(s, t.channels, cfg.channels);
  std::vector<std::string> who;
  for (const auto& p : t.people) {
    if (p == kOnDuty) {
      if (!cfg.duty.configured()) s.fail("to", "'on_duty' needs alerts.duty (the roster)");
      who.insert(who.end(), cfg.duty.rotation.begin(), cfg.duty.rotation.end());
      if (!cfg.duty.holiday_person.empty()) who.push_back(cfg.duty.holiday_person);
      for (const auto& [date, id] : cfg.duty.overrides) who.push_back(id);
    } else {
      check_person(s, "to", p, cfg);
      who.push_back(p);
    }
  }
  for (const auto& ch : t.channels) {
    auto c = std::find_if(cfg.channels.begin(), cfg.channels.end(),
                          [&](const auto& x) { return x.name == ch; });
    if (!person_addressed(c->type)) continue;
    if (t.people.empty() && c->to.empty())
      s.fail("to", "channel '" + ch + "' sends to people: name them in to: (ids or on_duty), or give the channel a to: list");
    for (const auto& id : who) {
      if (address_of(cfg.people.at(id), c->type).empty()) {
        s.fail("to", "person '" + id + "' has no " + (c->type == "email" ? "email" : "phone") +
                         " for channel '" + ch + "'");
      }
    }
  }
}

Route parse_route(const ConfigSection& s, const AlertsConfig& cfg, bool is_default) {
  if (is_default) {
    s.allow_only({"channels", "to", "escalate"});
  } else {
    s.allow_only({"name", "severity", "match", "days", "time", "holidays", "channels", "to",
                  "continue", "escalate"});
  }
  Route r;
  r.name = s.str("name", is_default ? "default_route" : s.where().substr(s.where().rfind('.') + 1));
  if (!is_default) {
    r.severities = severities(s, "severity");
    for (const auto& text : s.list("match")) {
      auto m = parse_matcher(text);
      if (!m) s.fail("match", m.error());
      r.matchers.push_back(std::move(*m));
    }
    if (s.has("days") || s.has("time") || s.has("holidays")) {
      Recurrence when;
      if (auto days = parse_days(s.str("days", "daily")); days) {
        when.days = *days;
      } else {
        s.fail("days", days.error());
      }
      when.from_min = 0;
      when.to_min = 24 * 60;
      if (s.has("time")) {
        auto range = parse_time_range(s.str("time"));
        if (!range) s.fail("time", range.error());
        std::tie(when.from_min, when.to_min) = *range;
      }
      const std::string h = s.str("holidays", "any");
      if (h == "skip") {
        when.holidays = HolidayRule::kSkip;
      } else if (h == "only") {
        when.holidays = HolidayRule::kOnly;
      } else if (h != "any") {
        s.fail("holidays", "'" + h + "' is not any, skip or only");
      }
      r.when = when;
    }
    r.continue_matching = s.boolean("continue", false);
  }
  r.channels = s.list("channels");
  r.people = s.list("to");
  check_target(s, r.target(), cfg);
  std::chrono::milliseconds last{0};
  each_item(s, "escalate", "levels {after, channels, to}", [&](const ConfigSection& l) {
    l.allow_only({"after", "channels", "to"});
    if (!l.has("after"))
      l.fail("after", "each level needs its delay (after: 10m) since the alert fired");
    EscalationLevel level;
    level.after = l.duration("after", {}, std::chrono::seconds(1));
    if (level.after <= last) l.fail("after", "each level must come after the one before it");
    last = level.after;
    level.target = {l.list("channels"), l.list("to")};
    check_target(l, level.target, cfg);
    r.escalate.push_back(std::move(level));
  });
  return r;
}

}  // namespace

void parse_routing(const ConfigSection& a, AlertsConfig& cfg) {
  each_item(a, "people", "people {id, name, phone, email, wecom_user}",
            [&](const ConfigSection& s) {
              Person p = parse_person(s);
              const std::string id = p.id;
              if (!cfg.people.emplace(id, std::move(p)).second)
                s.fail("id", "person '" + id + "' is defined twice");
            });
  cfg.duty = parse_duty(a.section("duty"), cfg);
  each_item(a, "routes", "routes", [&](const ConfigSection& s) {
    Route r = parse_route(s, cfg, false);
    for (const auto& other : cfg.routes) {
      // The name is part of an escalation's identity: two routes must not share one.
      if (other.name == r.name) s.fail("name", "route '" + r.name + "' is defined twice");
    }
    cfg.routes.push_back(std::move(r));
  });
  if (a.has("default_route"))
    cfg.default_route = parse_route(a.section("default_route"), cfg, true);
}

}  // namespace xj::alerts::detail
