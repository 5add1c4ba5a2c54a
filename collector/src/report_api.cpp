#include "xj/collector/report_api.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <fstream>
#include <sstream>

#include "xj/collector/tokens.hpp"

namespace xj {
namespace {

using json = nlohmann::json;

HttpResponse ok_json(const json& j) {
  HttpResponse r;
  r.body = j.dump();
  return r;
}

std::string str_field(const json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const char* content_type_of(const std::string& format) {
  if (format == "html") return "text/html; charset=utf-8";
  if (format == "pdf") return "application/pdf";
  if (format == "md") return "text/markdown; charset=utf-8";
  return "application/json";
}

}  // namespace

json to_json(const ArchivedReport& a) {
  return {{"id", a.id},         {"period", a.period_key}, {"kind", a.kind},   {"format", a.format},
          {"from", a.from_ms},  {"to", a.to_ms},          {"path", a.path},   {"sha256", a.sha256},
          {"bytes", a.bytes},   {"created", a.created_ms}, {"actor", a.actor},
          {"file", std::filesystem::path(a.path).filename().string()}, {"report", a.report}};
}

json delivery_json(const std::vector<alerts::OutboxMessage>& rows) {
  json out = json::array();
  for (const auto& m : rows) {
    json d{{"channel", m.channel}, {"recipient", m.recipient}, {"status", alerts::to_string(m.status)},
           {"attempts", m.attempts}, {"created", m.created_ms}};
    if (m.delivered_ms > 0) d["delivered"] = m.delivered_ms;
    if (!m.last_error.empty()) d["error"] = m.last_error;
    out.push_back(std::move(d));
  }
  return out;
}

HttpResponse archived_file_response(SqliteReportSource& source, const std::string& id_text) {
  std::int64_t id = 0;
  try {
    std::size_t used = 0;
    id = std::stoll(id_text, &used);
    if (used != id_text.size()) throw std::invalid_argument(id_text);
  } catch (...) {
    return json_error(404, "no report '" + id_text + "'");
  }
  auto found = source.archived_report(id);
  if (!found) return json_error(404, "no report " + id_text);
  const ArchivedReport& a = *found;
  std::ifstream in(a.path, std::ios::binary);
  if (!in) return json_error(410, "report " + id_text + ": its file " + a.path + " is gone");
  std::stringstream ss;
  ss << in.rdbuf();
  HttpResponse r;
  r.content_type = content_type_of(a.format);
  r.body = ss.str();
  if (sha256_hex(r.body) != a.sha256) {
    return json_error(409, "report " + id_text + ": " + a.path + " no longer matches its archived SHA-256");
  }
  return r;
}

Expected<reports::Period> period_from_request(const json& body, const reports::UtcOffset& off) {
  const std::string kind = str_field(body, "kind");
  if (kind == "weekly") {
    auto d = reports::parse_local_date(str_field(body, "date"));
    if (!d) return make_error("'date': " + d.error() + " (any day of the week to report)");
    return reports::week_of(*d, off);
  }
  if (kind == "monthly") {
    const std::string m = str_field(body, "month");
    auto d = reports::parse_local_date(m + "-01");
    if (m.size() != 7 || !d) return make_error("'month': '" + m + "' is not a month like 2026-03");
    return reports::month_of(d->year, d->month, off);
  }
  if (kind == "period") {
    auto from = reports::parse_local_date(str_field(body, "from"));
    if (!from) return make_error("'from': " + from.error());
    auto to = reports::parse_local_date(str_field(body, "to"));
    if (!to) return make_error("'to': " + to.error());
    return reports::days_period(*from, *to, off);
  }
  return make_error("'kind': '" + kind + "' is not weekly, monthly or period");
}

HttpResponse handle_report_api(const HttpRequest& req, ReportService& reports, Store& store,
                               const std::string& actor, bool may_write) {
  const std::string& p = req.path;
  const bool post = req.method == "POST";
  if (post && !may_write) return json_error(403, "this token may not do this (needs role operator)");
  if (!post && req.method != "GET") return json_error(405, req.method + " is not allowed on " + p);
  auto query = [&](const char* key) {
    auto it = req.query.find(key);
    return it == req.query.end() ? std::string() : it->second;
  };

  if (p == "/api/v1/reports/notes") {
    if (!post) {
      json out = json::array();
      for (const auto& n : reports.source().notes(query("period"))) {
        out.push_back({{"id", n.id}, {"period", n.period_key}, {"text", n.text}, {"author", n.author},
                       {"created", n.created_ms}});
      }
      return ok_json({{"notes", out}});
    }
    const json body = json::parse(req.body, nullptr, false);
    if (!body.is_object()) return json_error(400, "the body must be a JSON object {period, text}");
    const std::string period = str_field(body, "period"), text = str_field(body, "text");
    if (period.empty()) return json_error(400, "'period' is required, e.g. month-2026-03");
    if (text.empty()) return json_error(400, "'text' is required");
    if (text.size() > 16 * 1024) return json_error(400, "'text' is longer than 16 KiB");
    auto id = reports.source().add_note(period, text, actor, now_epoch_ms());
    if (!id) return json_error(500, id.error());
    store.audit(actor, "report.note", "report-note:" + std::to_string(*id), json{{"period", period}}.dump());
    return ok_json({{"id", *id}, {"period", period}});
  }

  if (p == "/api/v1/reports") {
    if (!post) {
      json out = json::array();
      std::map<std::int64_t, json> deliveries;  // per report: every file of it shows the same
      for (const auto& a : reports.source().archived(query("period"), 1000)) {
        auto [it, fresh] = deliveries.try_emplace(a.report);
        if (fresh) it->second = delivery_json(reports.source().report_deliveries(a.report));
        json j = to_json(a);
        j["delivery"] = it->second;
        out.push_back(std::move(j));
      }
      return ok_json({{"reports", out}});
    }
    const json body = json::parse(req.body, nullptr, false);
    if (!body.is_object()) return json_error(400, "the body must be a JSON object {kind, ...}");
    auto period = period_from_request(body, reports.offset());
    if (!period) return json_error(400, period.error());
    ReportRequest rr;
    rr.period = *period;
    rr.actor = actor;
    rr.locale = str_field(body, "locale");
    if (auto d = body.find("deliver"); d != body.end()) {
      if (!d->is_boolean()) return json_error(400, "'deliver' must be true or false");
      rr.deliver = d->get<bool>();
      if (rr.deliver && !reports.delivers()) {
        return json_error(400, "'deliver': contract.reports.deliver names no channels (or alerts: is off)");
      }
    }
    if (body.contains("formats")) {
      auto f = parse_report_formats(str_field(body, "formats"));
      if (!f) return json_error(400, "'formats': " + f.error());
      rr.formats = *f;
    }
    // The period's last day must be rolled up before it is reported.
    if (auto m = store.maintain(now_epoch_ms()); !m) return json_error(500, m.error());
    auto made = reports.generate(rr);
    if (!made) return json_error(500, made.error());
    json out = json::array();
    const json delivery = delivery_json(reports.source().report_deliveries(made->front().report));
    for (const auto& a : *made) {
      json j = to_json(a);
      j["delivery"] = delivery;
      out.push_back(std::move(j));
    }
    store.audit(actor, "report.generate", "report:" + rr.period.key(),
                json{{"formats", rr.formats}, {"files", out.size()}, {"report", made->front().report},
                     {"deliveries", delivery.size()}}.dump());
    return ok_json({{"reports", out}});
  }

  const std::string prefix = "/api/v1/reports/";
  if (!post && p.rfind(prefix, 0) == 0 && p.size() > prefix.size() + 5 && p.ends_with("/file")) {
    return archived_file_response(reports.source(), p.substr(prefix.size(), p.size() - prefix.size() - 5));
  }
  return json_error(404, "no such endpoint: " + p);
}

}  // namespace xj
