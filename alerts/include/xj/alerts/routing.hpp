// Routing: who gets a message. People (name, phone, e-mail, WeCom user id), a duty roster
// (who is on call: a rotation with a handover hour and a period, overrides by date, a holiday
// stand-in), routes (severity, matchers, time of day / weekday with the holiday calendar,
// first match wins unless `continue`), a default route, and escalation levels per route.
// A route resolves to deliveries: (channel, recipient) pairs. Group robots (wecom, dingtalk,
// feishu, webhook) take one message per channel with no recipient; person-addressed channels
// (sms_http, aliyun_sms: the phone; email: the address) take one message per person.
//
// Pure functions of the config and a time: the pipeline evaluates an alert's routes at the
// moment it fired (and each escalation level at its due time), so a restart resolves the same
// people and the idempotency keys come out the same.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "xj/alerts/alert.hpp"
#include "xj/alerts/silence.hpp"

namespace xj::alerts {

struct Person {
  std::string id;    // referenced by routes and the roster
  std::string name;  // 张三
  std::string phone;
  std::string email;
  std::string wecom_user;  // WeCom user id
};

// "on_duty" in a route's `to:` is whoever the roster has on call at that moment.
inline constexpr const char* kOnDuty = "on_duty";

struct DutyRoster {
  std::vector<std::string> rotation;  // person ids, in order; empty: no roster
  int handover_min = 9 * 60;          // local time of the handover (09:00)
  int period_days = 1;                // 1 daily, 7 weekly (on the weekday of `start`)
  std::string start;                  // local date rotation[0] takes over, at the handover
  std::map<std::string, std::string> overrides;  // duty date ("2026-10-01") -> person id
  std::string holiday_person;  // on holiday-calendar duty dates without an override; "" rotation
  bool configured() const { return !rotation.empty(); }
};

struct DutyNow {
  std::string person;         // id
  std::string duty_date;      // the local date whose handover began this duty day
  std::string reason;         // "rotation", "override", "holiday"
  std::int64_t since_ms = 0;  // when this person took over (the stretch began)
  std::string next_person;
  std::int64_t next_handover_ms = 0;  // 0: no change within a year
};

// Who is on duty at `now` (empty person without a roster). A duty day runs from the handover
// on its date to the handover on the next date.
DutyNow duty_at(const DutyRoster& roster, std::int64_t now_ms,
                const std::set<std::string>& holidays);

// Where a message goes: channels and people (ids or kOnDuty).
struct Target {
  std::vector<std::string> channels;
  std::vector<std::string> people;
};

struct EscalationLevel {
  std::chrono::milliseconds after{0};  // since the alert fired, with no acknowledgement
  Target target;
};

struct Route {
  std::set<Status> severities;            // empty: every severity
  std::vector<std::string> channels;      // names of configured channels
  std::vector<std::string> people;        // person ids or kOnDuty
  std::vector<Matcher> matchers;          // all must match (host, check, rule, severity, labels)
  std::optional<Recurrence> when;         // days and time of day; none: always
  bool continue_matching = false;         // `continue: true`: later routes are tried too
  std::vector<EscalationLevel> escalate;  // levels 2, 3, ...
  std::string name;                       // for logs and the timeline ("routes[2]" by default)

  Target target() const { return {channels, people}; }
  bool matches(const Alert& a, std::int64_t at_ms, const std::set<std::string>& holidays) const;
};

struct Delivery {
  std::string channel;
  std::string recipient;  // "" for a group robot; the phone or e-mail address otherwise
  std::string person;     // the person id, "" for a group robot
  bool operator==(const Delivery& o) const {
    return channel == o.channel && recipient == o.recipient;
  }
};

// Channel types that address a person, and the person's address for one ("" if none).
bool person_addressed(std::string_view channel_type);
std::string address_of(const Person& p, std::string_view channel_type);

struct Routing {
  std::vector<Route> routes;
  std::optional<Route> default_route;  // when no route matches; none: every channel
  std::map<std::string, Person> people;
  DutyRoster duty;
  std::map<std::string, std::string> channel_types;  // name -> type

  // The routes an alert takes at `at`: first match, plus later ones while `continue` is set;
  // the default route when none matches. Empty with no routes configured.
  std::vector<const Route*> routes_for(const Alert& a, std::int64_t at_ms,
                                       const std::set<std::string>& holidays) const;
  // A target's deliveries at `at` (on_duty resolved then), without duplicates. A
  // person-addressed channel with no person (or the person without an address) is skipped.
  std::vector<Delivery> deliveries(const Target& t, std::int64_t at_ms,
                                   const std::set<std::string>& holidays) const;
};

// Local date helpers (the process's time zone is the contract's).
// "2026-10-01" -> days since 1970-01-01; nullopt when not a valid date.
std::optional<std::int64_t> civil_days(std::string_view date);
std::string civil_date(std::int64_t days);
// Epoch ms of local `date` at `minute` after midnight.
std::int64_t local_epoch_ms(std::int64_t days, int minute);

}  // namespace xj::alerts
