#include "xj/collector/ctl_incident.hpp"

#include <CLI/CLI.hpp>

#include "xj/collector/ctl_render.hpp"

namespace xj {

struct IncidentCommands::Args {
  CLI::App* incident = nullptr;
  CLI::App *list = nullptr, *show = nullptr, *open = nullptr, *ack = nullptr, *note = nullptr,
           *resolve = nullptr, *close = nullptr, *report = nullptr;
  std::string id, state, host, from, to, text, impact, cause, handling;
  std::string title, level = "P3", system, description;
  bool active = false;
};

IncidentCommands::IncidentCommands(CLI::App& app) : a_(std::make_unique<Args>()) {
  Args& a = *a_;
  a.incident = app.add_subcommand("incident", "incidents (故障单): list, show, open, ack, note, resolve, close, report");
  a.incident->require_subcommand(1);
  a.list = a.incident->add_subcommand("list", "incidents, newest first");
  a.list->add_option("--state", a.state, "open, acknowledged, resolved or closed")
      ->check(CLI::IsMember({"open", "acknowledged", "resolved", "closed"}));
  a.list->add_flag("--active", a.active, "only open and acknowledged ones");
  a.list->add_option("--host", a.host, "only this host");
  a.list->add_option("--from", a.from, "opened at or after: -7d, 2026-11-01, '2026-11-30 08:00'");
  a.list->add_option("--to", a.to, "opened before, same forms");
  auto with_id = [&a](CLI::App* c) { c->add_option("id", a.id, "incident number: 42 or INC-0042")->required(); };
  a.show = a.incident->add_subcommand("show", "one incident: its facts, alerts and timeline");
  with_id(a.show);
  a.report = a.incident->add_subcommand("report", "the fault report (故障报告) as Markdown");
  with_id(a.report);
  a.open = a.incident->add_subcommand("open", "open an incident by hand (operator)");
  a.open->add_option("--title", a.title, "what is wrong")->required();
  a.open->add_option("--level", a.level, "P1 (一级故障) .. P4; default P3")
      ->check(CLI::IsMember({"P1", "P2", "P3", "P4"}));
  a.open->add_option("--host", a.host, "the host concerned");
  a.open->add_option("--system", a.system, "the system concerned");
  a.open->add_option("--description", a.description, "what is known so far");
  a.ack = a.incident->add_subcommand("ack", "acknowledge: you respond (stops the response clock)");
  with_id(a.ack);
  a.ack->add_option("--note", a.text, "a line for the timeline");
  a.note = a.incident->add_subcommand("note", "add a line to the timeline");
  with_id(a.note);
  a.note->add_option("text", a.text, "the note")->required();
  a.resolve = a.incident->add_subcommand("resolve", "the fault is repaired (stops the repair clock)");
  a.close = a.incident->add_subcommand("close", "close a resolved incident");
  for (CLI::App* c : {a.resolve, a.close}) {
    with_id(c);
    c->add_option("--note", a.text, "a line for the timeline");
    c->add_option("--impact", a.impact, "影响范围, for the fault report");
    c->add_option("--cause", a.cause, "故障原因, for the fault report");
    c->add_option("--handling", a.handling, "处理过程, for the fault report");
  }
}

IncidentCommands::~IncidentCommands() = default;

bool IncidentCommands::chosen() const { return a_->incident->parsed(); }

Expected<CtlRequest> IncidentCommands::request(const ContractZone& zone, std::int64_t now_ms) const {
  const Args& a = *a_;
  CtlRequest r;
  std::string id = a.id;
  if (id.rfind("INC-", 0) == 0) id = id.substr(4);
  if (!a.list->parsed() && !a.open->parsed() &&
      (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)) {
    return make_error("'" + a.id + "' is not an incident number (like 42 or INC-0042)");
  }
  const std::string one = "/api/v1/incidents/" + id;
  auto fields = [&](std::initializer_list<std::pair<const char*, const std::string*>> kv) {
    nlohmann::json body = nlohmann::json::object();
    for (const auto& [k, v] : kv) {
      if (!v->empty()) body[k] = *v;
    }
    return body;
  };
  if (a.list->parsed()) {
    r.path = "/api/v1/incidents";
    if (!a.state.empty()) r.query.emplace_back("state", a.state);
    if (a.active) r.query.emplace_back("active", "1");
    if (!a.host.empty()) r.query.emplace_back("host", a.host);
    for (auto [key, text] : {std::pair{"from", &a.from}, std::pair{"to", &a.to}}) {
      if (text->empty()) continue;
      auto t = zone.parse(*text, now_ms);
      if (!t) return make_error(std::string("--") + key + ": " + t.error());
      r.query.emplace_back(key, std::to_string(*t));
    }
    r.render = render_incidents;
  } else if (a.show->parsed()) {
    r.path = one;
    r.render = render_incident;
  } else if (a.report->parsed()) {
    r.path = one + "/report";
  } else if (a.open->parsed()) {
    r.method = "POST";
    r.path = "/api/v1/incidents";
    r.body = fields({{"title", &a.title}, {"level", &a.level}, {"host", &a.host}, {"system", &a.system},
                     {"description", &a.description}});
    r.render = render_incident;
  } else {
    const char* verb = a.ack->parsed() ? "ack" : a.note->parsed() ? "note" : a.resolve->parsed() ? "resolve" : "close";
    r.method = "POST";
    r.path = one + "/" + verb;
    r.body = fields({{"text", &a.text}, {"impact", &a.impact}, {"cause", &a.cause}, {"handling", &a.handling}});
    r.render = render_incident;
  }
  return r;
}

}  // namespace xj
