#include "xj/collector/report_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "xj/collector/tokens.hpp"
#include "xj/reports/pdf.hpp"
#include "xj/reports/render.hpp"
#include "xj/reports/report_model.hpp"

namespace xj {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kMinuteMs = 60'000;

// Writes through a temporary file and a rename, so a reader never sees half a report.
Expected<bool> write_file(const fs::path& path, const std::string& bytes) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << bytes;
    if (!out.flush()) return make_error("report: cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return make_error("report: cannot rename " + tmp.string() + ": " + ec.message());
  return true;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Expected<std::vector<std::string>> parse_report_formats(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string f;
  while (std::getline(ss, f, ',')) {
    if (f != "html" && f != "pdf" && f != "md" && f != "json") {
      return make_error("report format '" + f + "' is not one of html, pdf, md, json");
    }
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  }
  if (out.empty()) return make_error("no report format given (html, pdf, md, json)");
  return out;
}

ReportService::ReportService(SqliteReportSource& source, reports::ContractConfig contract, std::string dir,
                             Clock clock)
    : source_(source), contract_(std::move(contract)), dir_(std::move(dir)), clock_(std::move(clock)) {}

reports::UtcOffset ReportService::offset() const {
  return [this](std::int64_t t) { return source_.utc_offset_ms(t); };
}

Expected<std::vector<ArchivedReport>> ReportService::generate(const ReportRequest& req) {
  reports::ContractConfig contract = contract_;
  if (!req.locale.empty()) {
    if (req.locale != "zh-CN" && req.locale != "en") {
      return make_error("report locale '" + req.locale + "' is not zh-CN or en");
    }
    contract.locale = req.locale;
  }
  const std::int64_t now = clock_();
  const reports::Report report = reports::build_report(source_, contract, req.period, reports::BuildOptions{now});
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return make_error("report: cannot create the report directory " + dir_ + ": " + ec.message());

  std::vector<ArchivedReport> out;
  std::optional<std::string> html;
  auto html_path = fs::path(dir_) / reports::report_file_name(report, "html");
  auto ensure_html = [&]() -> Expected<bool> {
    if (html) return true;
    auto h = reports::render_html(report);
    if (!h) return Error{h.error()};
    html = std::move(h).value();
    return write_file(html_path, *html);
  };
  for (const auto& format : req.formats) {
    const fs::path path = fs::path(dir_) / reports::report_file_name(report, format);
    if (format == "html") {
      if (auto r = ensure_html(); !r) return Error{r.error()};
    } else if (format == "json") {
      if (auto r = write_file(path, reports::to_json(report).dump(2) + "\n"); !r) return Error{r.error()};
    } else if (format == "md") {
      const std::string link = contract.report_url.empty()
                                   ? ""
                                   : contract.report_url + "/" + reports::report_file_name(report, "html");
      auto md = reports::render_markdown(report, link);
      if (!md) return Error{md.error()};
      if (auto r = write_file(path, *md); !r) return Error{r.error()};
    } else if (format == "pdf") {
      if (auto r = ensure_html(); !r) return Error{r.error()};
      if (auto r = reports::html_to_pdf(html_path.string(), path.string()); !r) return Error{r.error()};
    }
    const std::string bytes = read_file(path);
    ArchivedReport a;
    a.period_key = req.period.key();
    a.kind = std::string(reports::to_string(req.period.kind));
    a.format = format;
    a.from_ms = req.period.from_ms;
    a.to_ms = req.period.to_ms;
    a.path = fs::absolute(path, ec).string();
    a.sha256 = sha256_hex(bytes);
    a.bytes = static_cast<std::int64_t>(bytes.size());
    a.created_ms = now;
    a.actor = req.actor;
    out.push_back(std::move(a));
  }
  // The files and their deliveries in one transaction: archived means it will be delivered.
  std::size_t enqueued = 0;
  ReportMessages messages;
  if (req.deliver && delivery_) {
    messages = [&](const std::vector<ArchivedReport>& stored) -> Expected<std::vector<alerts::OutboxMessage>> {
      auto made = report_messages(*delivery_, report, stored, now);
      if (made) enqueued = made->size();
      return made;
    };
  }
  auto stored = source_.archive_report(std::move(out), messages);
  if (!stored) return Error{stored.error()};
  for (const auto& a : *stored) {
    spdlog::info("event=report_generated report={} period={} format={} path={} sha256={} actor={}", a.report,
                 a.period_key, a.format, a.path, a.sha256, a.actor);
  }
  if (enqueued > 0) {
    spdlog::info("event=report_delivery_enqueued report={} period={} messages={}", stored->front().report,
                 stored->front().period_key, enqueued);
    if (on_enqueued_) on_enqueued_();
  }
  return stored;
}

void ReportService::set_delivery(ReportDelivery delivery, std::function<void()> on_enqueued) {
  delivery_ = std::move(delivery);
  on_enqueued_ = std::move(on_enqueued);
}

bool schedule_due(const reports::Schedule& s, bool weekly, std::int64_t now, const reports::UtcOffset& off) {
  if (!s.enabled) return false;
  const reports::LocalDate today = reports::local_date_of(now, off);
  const std::int64_t minute_of_day = (now - reports::local_midnight(today, off)) / kMinuteMs;
  const bool time_reached = minute_of_day >= s.hour * 60 + s.minute;
  if (weekly) {
    const int wd = reports::weekday(today);
    return wd > s.weekday || (wd == s.weekday && time_reached);
  }
  return today.day > s.day || (today.day == s.day && time_reached);
}

std::vector<reports::Period> ReportService::due_periods(std::int64_t now) {
  std::vector<reports::Period> out;
  const auto off = offset();
  // A period before the first host appeared has nothing to report: a new installation does
  // not write a "no data" report for the week before it existed.
  std::int64_t first_host = INT64_MAX;
  for (const auto& h : source_.hosts()) first_host = std::min(first_host, h.first_seen_ms);
  for (const bool weekly : {true, false}) {
    const reports::Schedule& s = weekly ? contract_.weekly : contract_.monthly;
    if (!schedule_due(s, weekly, now, off)) continue;
    const reports::Period p = weekly ? reports::previous_week(now, off) : reports::previous_month(now, off);
    if (p.to_ms > first_host && source_.archived(p.key(), 1).empty()) out.push_back(p);
  }
  return out;
}

bool ReportService::any_due(std::int64_t now) { return !due_periods(now).empty(); }

std::vector<ArchivedReport> ReportService::run_due(std::int64_t now) {
  std::vector<ArchivedReport> made;
  for (const reports::Period& p : due_periods(now)) {
    ReportRequest req;
    req.period = p;
    req.formats = contract_.formats;
    if (!reports::find_chromium() && std::erase(req.formats, "pdf") > 0) {
      spdlog::error("event=report_pdf_skipped period={} error=\"chromium is not installed (Debian package "
                    "'chromium')\"", p.key());
    }
    req.actor = "schedule";
    req.deliver = true;
    auto r = generate(req);
    if (!r) {
      spdlog::error("event=report_failed period={} error=\"{}\"", p.key(), r.error());
      continue;
    }
    made.insert(made.end(), r->begin(), r->end());
  }
  return made;
}

}  // namespace xj
