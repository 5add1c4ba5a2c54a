#include "xj/collector/ctl_report.hpp"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "xj/checks/result.hpp"
#include "xj/collector/tokens.hpp"

namespace xj {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int kOk = 0, kFailed = 1, kUsage = 2;

int fail(const std::string& message) {
  std::cerr << "xunjianctl: " << message << "\n";
  return kFailed;
}

void print(const ApiAnswer& a, bool as_json, const std::string& text) {
  if (as_json) {
    std::cout << a.body << (a.body.empty() || a.body.back() != '\n' ? "\n" : "");
  } else {
    std::cout << text;
  }
}

std::string str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

}  // namespace

void add_report_command(CLI::App& report, ReportCommand& cmd) {
  report.require_subcommand(1);
  auto common = [&](CLI::App* c) {
    c->add_option("--format", cmd.formats, "html,pdf,md,json (any of them, comma separated)")->capture_default_str();
    c->add_option("-o,--output", cmd.out_dir, "directory to write the files to")->capture_default_str();
    c->add_option("--locale", cmd.locale, "zh-CN or en (default: the contract's)");
    c->add_flag("--deliver", cmd.deliver, "also deliver it through the channels of contract.reports.deliver");
  };
  cmd.weekly = report.add_subcommand("weekly", "weekly inspection report (巡检报告) of a week, Monday to Sunday");
  cmd.weekly->add_option("--date", cmd.date, "any day of the week (default: last week)");
  common(cmd.weekly);
  cmd.monthly = report.add_subcommand("monthly", "monthly service report (服务月报)");
  cmd.monthly->add_option("--month", cmd.month, "YYYY-MM (default: last month)");
  common(cmd.monthly);
  cmd.period = report.add_subcommand("period", "report of any whole days, e.g. a quarter or the contract term");
  cmd.period->add_option("--from", cmd.from, "first day, YYYY-MM-DD")->required();
  cmd.period->add_option("--to", cmd.to, "last day (included), YYYY-MM-DD")->required();
  common(cmd.period);
  cmd.list = report.add_subcommand("list", "archived reports with their SHA-256, newest first");
  cmd.list->add_option("--period", cmd.period_key, "only this period, e.g. month-2026-03");
  cmd.note = report.add_subcommand("note", "add a note to a period (next month's plan, shown in its report)");
  cmd.note->add_option("period", cmd.period_key, "period key, e.g. month-2026-04")->required();
  cmd.note->add_option("text", cmd.text, "the note")->required();
  cmd.notes = report.add_subcommand("notes", "the notes of a period");
  cmd.notes->add_option("period", cmd.period_key, "period key, e.g. month-2026-04")->required();
}

int run_report_command(const ReportCommand& cmd, const CtlConnection& conn_in, const ContractZone& zone,
                       bool as_json) {
  if (*cmd.list) {
    QueryParams q;
    if (!cmd.period_key.empty()) q.emplace_back("period", cmd.period_key);
    auto a = api_get(conn_in, "/api/v1/reports", q);
    if (!a) return fail(a.error());
    std::string text;
    for (const auto& r : a->json["reports"]) {
      text += std::to_string(r["id"].get<std::int64_t>()) + "  " + str(r, "period") + "  " + str(r, "format") + "  " +
              zone.format(r["created"].get<std::int64_t>()) + "  " + str(r, "sha256") + "  " + str(r, "path") + "\n";
    }
    print(*a, as_json, text.empty() ? "no reports archived\n" : text);
    return kOk;
  }
  if (*cmd.notes) {
    auto a = api_get(conn_in, "/api/v1/reports/notes", {{"period", cmd.period_key}});
    if (!a) return fail(a.error());
    std::string text;
    for (const auto& n : a->json["notes"]) {
      text += zone.format(n["created"].get<std::int64_t>()) + "  " + str(n, "author") + "  " + str(n, "text") + "\n";
    }
    print(*a, as_json, text.empty() ? "no notes for " + cmd.period_key + "\n" : text);
    return kOk;
  }
  if (*cmd.note) {
    auto a = api_post(conn_in, "/api/v1/reports/notes", {{"period", cmd.period_key}, {"text", cmd.text}});
    if (!a) return fail(a.error());
    print(*a, as_json, "note " + std::to_string(a->json["id"].get<std::int64_t>()) + " added to " + cmd.period_key + "\n");
    return kOk;
  }

  const std::int64_t now = now_epoch_ms();
  json body{{"formats", cmd.formats}};
  if (!cmd.locale.empty()) body["locale"] = cmd.locale;
  if (cmd.deliver) body["deliver"] = true;
  if (*cmd.weekly) {
    body["kind"] = "weekly";
    body["date"] = cmd.date.empty() ? zone.format(now - 7 * 86'400'000LL).substr(0, 10) : cmd.date;
  } else if (*cmd.monthly) {
    body["kind"] = "monthly";
    std::string month = cmd.month;
    if (month.empty()) {
      const std::string today = zone.format(now);
      int y = std::stoi(today.substr(0, 4)), m = std::stoi(today.substr(5, 2)) - 1;
      if (m == 0) m = 12, --y;
      char buf[32];
      std::snprintf(buf, sizeof buf, "%04d-%02d", y, m);
      month = buf;
    }
    body["month"] = month;
  } else {
    body["kind"] = "period";
    body["from"] = cmd.from;
    body["to"] = cmd.to;
  }
  std::error_code ec;
  fs::create_directories(cmd.out_dir, ec);
  if (ec || !fs::is_directory(cmd.out_dir)) {
    std::cerr << "xunjianctl: -o " << cmd.out_dir << ": cannot create the directory\n";
    return kUsage;
  }
  // A PDF takes Chromium a while: wait longer than for a query.
  CtlConnection conn = conn_in;
  conn.timeout = std::max<std::chrono::milliseconds>(conn.timeout, std::chrono::minutes(15));
  auto made = api_post(conn, "/api/v1/reports", body);
  if (!made) return fail(made.error());
  std::string text;
  for (const auto& r : made->json["reports"]) {
    const std::string id = std::to_string(r["id"].get<std::int64_t>());
    auto file = api_call(conn, "GET", "/api/v1/reports/" + id + "/file", {}, "", false);
    if (!file) return fail(file.error());
    if (sha256_hex(file->body) != str(r, "sha256")) {
      return fail("report " + id + ": the file received does not match its archived SHA-256");
    }
    const fs::path path = fs::path(cmd.out_dir) / fs::path(str(r, "file")).filename();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << file->body;
    if (!out.flush()) return fail("cannot write " + path.string());
    text += path.string() + "  sha256 " + str(r, "sha256") + "\n";
  }
  print(*made, as_json, text);
  return kOk;
}

}  // namespace xj
