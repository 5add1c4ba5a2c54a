#include "xj/collector/ctl.hpp"

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string_view>

#include "xj/checks/result.hpp"
#include "xj/collector/ctl_client.hpp"
#include "xj/collector/ctl_incident.hpp"
#include "xj/collector/ctl_silence.hpp"
#include "xj/collector/ctl_render.hpp"
#include "xj/collector/ctl_report.hpp"
#include "xj/common/duration.hpp"

namespace xj {
namespace {

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

// A token on the command line would sit in `ps` output and shell history for anyone on the
// box to read, so there is no --token option, and trying one gets an explanation.
bool token_on_command_line(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") break;
    if (a == "--token" || a.rfind("--token=", 0) == 0) return true;
  }
  return false;
}

}  // namespace

int ctl_main(int argc, char** argv) {
  if (token_on_command_line(argc, argv)) {
    std::cerr << "xunjianctl: the token is never given on the command line (ps and shell history "
                 "would show it); set XJ_TOKEN or use --token-file FILE\n";
    return kUsage;
  }
  CLI::App app{"xunjianctl: the xunjian collector's API (hosts, checks, series, licences, incidents, silences, reports)"};
  app.set_version_flag("--version", std::string("xunjianctl ") + XJ_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the command: `xunjianctl hosts --json`

  CtlConnection conn;
  conn.base_url = env_or("XJ_URL", conn.base_url);
  std::string token_file, zone_name = env_or("XJ_TZ", "Asia/Shanghai"), timeout_text = "10s";
  bool as_json = false;
  app.add_option("--url", conn.base_url, "collector URL (default: $XJ_URL or http://127.0.0.1:8443)");
  app.add_option("--token-file", token_file, "file holding the API token (default: $XJ_TOKEN)");
  app.add_option("--ca-file", conn.ca_file, "PEM CA certificates for an https collector");
  app.add_option("--tz", zone_name, "contract time zone for times shown and typed (default: $XJ_TZ or Asia/Shanghai)");
  app.add_option("--timeout", timeout_text, "give up after this long (default 10s)");
  app.add_flag("--json", as_json, "print the API's JSON answer as it is");

  auto* hosts = app.add_subcommand("hosts", "every host: status, check counts, last contact, labels");
  std::string host_id;
  auto* host = app.add_subcommand("host", "one host: its checks, gaps and recent status changes");
  host->add_option("id", host_id, "host (agent) id")->required();

  std::string status, check_host, kind;
  auto* checks = app.add_subcommand("checks", "current state of checks, filtered");
  checks->add_option("--status", status, "ok, warning, critical or unknown")
      ->check(CLI::IsMember({"ok", "warning", "critical", "unknown"}));
  checks->add_option("--host", check_host, "only this host");
  checks->add_option("--kind", kind, "only this check kind (disk, cpu, ...)");

  std::string s_host, s_check, s_metric, from = "-24h", to = "now", step;
  auto* series = app.add_subcommand("series", "one metric over time (from rollups or raw samples)");
  series->add_option("--host", s_host, "host id")->required();
  series->add_option("--check", s_check, "check id, e.g. disk:/data")->required();
  series->add_option("--metric", s_metric, "metric name, e.g. used_pct")->required();
  series->add_option("--from", from, "start: -24h, 2026-11-30 or '2026-11-30 08:00' (contract zone)")
      ->capture_default_str();
  series->add_option("--to", to, "end, same forms, or now")->capture_default_str();
  series->add_option("--step", step, "bucket: 0 (raw), 1h, 1d, ... (default: chosen by the collector)");

  // The licence registry: list and show read (viewer); add, activate, renew, revoke change it
  // (operator), and the collector records each change in its audit log under the token's name.
  auto* licence = app.add_subcommand("licence", "the licence registry: list, show, add, activate, renew, revoke");
  licence->require_subcommand(1);
  licence->fallthrough();
  auto* l_list = licence->add_subcommand("list", "every licence, fewest days left first");
  std::string l_id;
  auto* l_show = licence->add_subcommand("show", "one licence and its lifecycle (申请 激活 续期 注销)");
  l_show->add_option("id", l_id, "licence id")->required();
  std::string l_product, l_holder, l_host, l_expiry, l_contract, l_note;
  bool l_applied = false;
  auto* l_add = licence->add_subcommand("add", "register a licence (申请 with --applied, else 激活)");
  l_add->add_option("--product", l_product, "product licensed")->required();
  l_add->add_option("--holder", l_holder, "licensee")->required();
  l_add->add_option("--expiry", l_expiry, "last valid day, 2026-10-31 (contract zone)")->required();
  l_add->add_option("--host", l_host, "host it is installed on");
  l_add->add_option("--contract", l_contract, "contract or order it was bought under");
  l_add->add_flag("--applied", l_applied, "applied for, not active yet (activate it later)");
  auto* l_activate = licence->add_subcommand("activate", "an applied licence becomes active (激活)");
  auto* l_renew = licence->add_subcommand("renew", "a new expiry (续期)");
  auto* l_revoke = licence->add_subcommand("revoke", "the licence is withdrawn (注销)");
  for (auto* c : {l_activate, l_renew, l_revoke}) {
    c->add_option("id", l_id, "licence id")->required();
    c->add_option("--note", l_note, "why, for the audit log");
  }
  l_renew->add_option("--expiry", l_expiry, "new last valid day, 2026-10-31 (contract zone)")->required();
  l_renew->add_option("--contract", l_contract, "the renewal's contract or order");

  auto* duty = app.add_subcommand("duty", "who is on duty now (alerts.duty), since when, and the next handover");
  IncidentCommands incident(app);
  SilenceCommands silence(app, /*maintenance=*/false);
  SilenceCommands maintenance(app, /*maintenance=*/true);
  ReportCommand report_cmd;
  auto* report = app.add_subcommand("report", "generate reports (weekly, monthly, period), list the archive, notes");
  add_report_command(*report, report_cmd);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    // CLI11 says "A subcommand is required" for an unknown one too; name the ones there are.
    std::cerr << "xunjianctl: commands are hosts, host ID, checks, series, licence, incident, silence, maintenance, duty, report (xunjianctl --help)\n";
    return kUsage;
  }

  auto usage = [](const std::string& message) {
    std::cerr << "xunjianctl: " << message << "\n";
    return kUsage;
  };
  auto zone = ContractZone::load(zone_name);
  if (!zone) return usage("--tz: " + zone.error());
  auto timeout = parse_duration(timeout_text);
  if (!timeout || timeout->count() <= 0) return usage("--timeout '" + timeout_text + "' is not a duration like 10s");
  conn.timeout = *timeout;
  auto token = load_ctl_token(token_file, std::getenv("XJ_TOKEN"));
  if (!token) return usage(token.error());
  conn.token = std::move(token).value();

  if (*report) return run_report_command(report_cmd, conn, *zone, as_json);

  std::string path, method = "GET", body;
  QueryParams query;
  std::string (*render)(const nlohmann::json&, const ContractZone&) = nullptr;
  if (incident.chosen() || silence.chosen() || maintenance.chosen()) {
    auto req = incident.chosen()  ? incident.request(*zone, now_epoch_ms())
               : silence.chosen() ? silence.request(*zone, now_epoch_ms())
                                  : maintenance.request(*zone, now_epoch_ms());
    if (!req) return usage(req.error());
    method = req->method;
    path = req->path;
    query = req->query;
    render = req->render;
    if (method != "GET") body = req->body.dump();
  } else if (*duty) {
    path = "/api/v1/duty";
    render = render_duty;
  } else if (*hosts) {
    path = "/api/v1/hosts";
    render = render_hosts;
  } else if (*host) {
    // The id is one path segment; the server decodes %XX, so ids with '/' or spaces work.
    std::string encoded;
    for (unsigned char c : host_id) {
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':') {
        encoded += static_cast<char>(c);
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        encoded += buf;
      }
    }
    path = "/api/v1/hosts/" + encoded;
    render = render_host;
  } else if (*checks) {
    path = "/api/v1/checks";
    if (!status.empty()) query.emplace_back("status", status);
    if (!check_host.empty()) query.emplace_back("host", check_host);
    if (!kind.empty()) query.emplace_back("kind", kind);
    render = render_checks;
  } else if (*series) {
    const std::int64_t now = now_epoch_ms();
    auto from_ms = zone->parse(from, now);
    if (!from_ms) return usage("--from: " + from_ms.error());
    auto to_ms = zone->parse(to, now);
    if (!to_ms) return usage("--to: " + to_ms.error());
    if (*from_ms > *to_ms) return usage("--from " + from + " is after --to " + to);
    if (!step.empty() && !parse_duration(step)) return usage("--step '" + step + "' is not a duration like 0, 1h, 1d");
    path = "/api/v1/series";
    query = {{"host", s_host}, {"check", s_check}, {"metric", s_metric},
             {"from", std::to_string(*from_ms)}, {"to", std::to_string(*to_ms)}};
    if (!step.empty()) query.emplace_back("step", step);
    render = render_series;
  } else if (*licence) {
    if (!l_id.empty() && l_id.find_first_not_of("0123456789") != std::string::npos) {
      return usage("licence id '" + l_id + "' is not a number (see xunjianctl licence list)");
    }
    render = render_licence;
    if (*l_list) {
      path = "/api/v1/licences";
      render = render_licences;
    } else if (*l_show) {
      path = "/api/v1/licences/" + l_id;
    } else if (*l_add) {
      path = "/api/v1/licences";
      nlohmann::json add{{"product", l_product}, {"holder", l_holder}, {"expiry", l_expiry},
                         {"state", l_applied ? "applied" : "active"}};
      if (!l_host.empty()) add["host"] = l_host;
      if (!l_contract.empty()) add["contract"] = l_contract;
      method = "POST";
      body = add.dump();
    } else {
      const char* verb = *l_activate ? "activate" : *l_renew ? "renew" : "revoke";
      path = "/api/v1/licences/" + l_id + "/" + verb;
      nlohmann::json change = nlohmann::json::object();
      if (!l_note.empty()) change["note"] = l_note;
      if (*l_renew) {
        change["expiry"] = l_expiry;
        if (!l_contract.empty()) change["contract"] = l_contract;
      }
      method = "POST";
      body = change.dump();
    }
  }

  auto answer = api_call(conn, method, path, query, body);
  if (!answer) {
    std::cerr << "xunjianctl: " << answer.error() << "\n";
    return kFailed;
  }
  if (as_json || render == nullptr) {
    std::cout << answer->body;
    if (answer->body.empty() || answer->body.back() != '\n') std::cout << '\n';
  } else {
    std::cout << render(answer->json, *zone);
  }
  std::cout.flush();
  return std::cout ? kOk : kFailed;
}

}  // namespace xj
