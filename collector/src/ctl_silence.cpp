#include "xj/collector/ctl_silence.hpp"

#include <CLI/CLI.hpp>

#include "xj/collector/ctl_render.hpp"

namespace xj {

struct SilenceCommands::Args {
  bool maintenance = false;
  CLI::App *cmd = nullptr, *list = nullptr, *add = nullptr, *end = nullptr;
  bool all = false;
  std::vector<std::string> matchers;
  std::string duration, from, to, comment, days, time, holidays, id;
};

SilenceCommands::SilenceCommands(CLI::App& app, bool maintenance) : a_(std::make_unique<Args>()) {
  Args& a = *a_;
  a.maintenance = maintenance;
  a.cmd = maintenance ? app.add_subcommand("maintenance", "maintenance windows: list, add, end (alerts muted, no incidents)")
                      : app.add_subcommand("silence", "silences: list, add, expire (alerts recorded, not sent)");
  a.cmd->require_subcommand(1);
  a.list = a.cmd->add_subcommand("list", "the ones in force now (--all: every one, newest first)");
  a.list->add_flag("--all", a.all, "also ended and future ones");
  a.add = a.cmd->add_subcommand("add", maintenance ? "plan a window" : "mute matching alerts for a while");
  a.add->add_option("--match", a.matchers, "host=db-01, check=~proc:.*, severity!=warning, system=平台 (repeatable; all must match)")
      ->required();
  a.add->add_option("--comment", a.comment, "why (shown and audited)")->required();
  a.add->add_option("--from", a.from, "start: now, 2026-12-02 02:00 (contract zone); default now");
  a.add->add_option("--to", a.to, "end, same forms");
  if (maintenance) {
    a.add->add_option("--days", a.days, "weekly on: mon-fri, sat,sun, daily (with --time)");
    a.add->add_option("--time", a.time, "weekly window in local time: 02:00-04:00, 22:00-06:00");
    a.add->add_option("--holidays", a.holidays, "weekly window on holidays of the calendar: any, skip, only")
        ->check(CLI::IsMember({"any", "skip", "only"}));
  } else {
    a.add->add_option("--for", a.duration, "how long: 30m, 2h (instead of --to)");
  }
  a.end = a.cmd->add_subcommand(maintenance ? "end" : "expire", "end it now");
  a.end->add_option("id", a.id, maintenance ? "window number: 3 or M-3" : "silence number: 3 or S-3")->required();
}

SilenceCommands::~SilenceCommands() = default;

bool SilenceCommands::chosen() const { return a_->cmd->parsed(); }

Expected<CtlRequest> SilenceCommands::request(const ContractZone& zone, std::int64_t now_ms) const {
  const Args& a = *a_;
  CtlRequest r;
  r.render = render_silences;
  if (a.list->parsed()) {
    r.path = "/api/v1/silences";
    r.query.emplace_back("maintenance", a.maintenance ? "1" : "0");
    if (!a.all) r.query.emplace_back("active", "1");
    return r;
  }
  r.method = "POST";
  if (a.end->parsed()) {
    std::string id = a.id;
    if (id.rfind("S-", 0) == 0 || id.rfind("M-", 0) == 0) id = id.substr(2);
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
      return make_error("'" + a.id + "' is not a silence or window number (like 3, S-3 or M-3)");
    }
    r.path = "/api/v1/silences/" + id + "/expire";
    r.body = nlohmann::json::object();
    return r;
  }
  r.path = "/api/v1/silences";
  nlohmann::json body{{"matchers", a.matchers}, {"comment", a.comment}, {"maintenance", a.maintenance}};
  for (auto [key, text] : {std::pair{"starts", &a.from}, std::pair{"ends", &a.to}}) {
    if (text->empty()) continue;
    auto t = zone.parse(*text, now_ms);
    if (!t) return make_error(std::string("--") + (std::string(key) == "starts" ? "from" : "to") + ": " + t.error());
    body[key] = *t;
  }
  if (!a.duration.empty()) body["duration"] = a.duration;
  if (!a.time.empty()) body["time"] = a.time;
  if (!a.days.empty()) body["days"] = a.days;
  if (!a.holidays.empty()) body["holidays"] = a.holidays;
  if (!a.maintenance && a.duration.empty() && a.to.empty()) return make_error("say how long: --for 2h or --to TIME");
  if (a.maintenance && a.time.empty() && a.to.empty()) {
    return make_error("a one-off window needs --to; a weekly one --time (and --days)");
  }
  r.body = body;
  return r;
}

}  // namespace xj
