#include "xj/collector/report_delivery.hpp"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "xj/alerts/message_builder.hpp"
#include "xj/collector/config.hpp"
#include "xj/reports/render.hpp"

namespace xj {
namespace {

std::string trimmed(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string file_name(const ArchivedReport& f) { return std::filesystem::path(f.path).filename().string(); }

// The file a link points at: the HTML, which reads anywhere; the PDF when there is no HTML.
const ArchivedReport* main_file(const std::vector<ArchivedReport>& files) {
  for (const char* format : {"html", "pdf"}) {
    for (const auto& f : files) {
      if (f.format == format) return &f;
    }
  }
  return files.empty() ? nullptr : &files.front();
}

std::string link_to(const ReportDelivery& d, const ArchivedReport& f) {
  if (!d.archive_url.empty()) return trimmed(d.archive_url) + "/" + file_name(f);
  if (d.console_url.empty()) return "";
  // alerts.console_url may name the server or the console itself (".../console").
  std::string base = trimmed(d.console_url);
  if (base.ends_with("/console")) base.resize(base.size() - 8);
  return base + "/console/reports/" + std::to_string(f.id);
}

const char* content_type_of(const std::string& format) {
  return format == "pdf" ? "application/pdf" : "text/html; charset=utf-8";
}

std::string mib(std::int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

// The e-mail: the summary as plain text, the HTML and PDF attached up to max_attachment each
// (a larger file is named with its link instead: a mail server refuses big messages, and
// retrying would not shrink it).
void email_parts(const ReportDelivery& d, const reports::Report& r, const std::vector<ArchivedReport>& files,
                 const std::string& summary, std::string& text, nlohmann::json& attachments) {
  text = alerts::plain_text(summary);
  if (!text.empty() && text.back() != '\n') text += '\n';
  std::vector<std::string> attached;
  for (const auto& f : files) {
    if (f.format != "html" && f.format != "pdf") continue;
    if (static_cast<std::uint64_t>(f.bytes) <= d.max_attachment) {
      attachments.push_back({{"path", f.path}, {"name", file_name(f)}, {"type", content_type_of(f.format)},
                             {"sha256", f.sha256}, {"archive", f.id}});
      attached.push_back(file_name(f));
      continue;
    }
    const std::string link = link_to(d, f);
    text += "\n" + reports::report_string(r.locale, "mail_too_large", file_name(f) + " (" + mib(f.bytes) + ")") +
            (link.empty() ? "" : " " + link) + "\n";
  }
  std::string names;
  for (const auto& n : attached) names += (names.empty() ? "" : ", ") + n;
  if (!names.empty()) text += "\n" + reports::report_string(r.locale, "mail_attached", names) + "\n";
}

std::size_t chars_of(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The SMS notice in one SMS of the channel's size: the head is cut ("…"), the link kept, since
// a cut link is no link. Only a link longer than one SMS by itself is split into parts.
std::vector<std::string> sms_parts(const std::string& notice, const std::string& link, std::size_t max_bytes,
                                   std::size_t max_chars) {
  auto fits = [&](const std::string& t) { return alerts::truncate_utf8(t, max_bytes, max_chars) == t; };
  if (fits(notice)) return {notice};
  const std::string tail = link.empty() ? "" : "\n" + link;
  const std::string head = notice.substr(0, notice.size() - tail.size());
  const std::size_t tail_chars = chars_of(tail);
  if (tail.size() + 4 < max_bytes && (max_chars == 0 || tail_chars + 1 < max_chars)) {
    return {alerts::truncate_utf8(head, max_bytes - tail.size(), max_chars == 0 ? 0 : max_chars - tail_chars) + tail};
  }
  return alerts::split_utf8(notice, max_bytes, max_chars);
}

}  // namespace

ReportDelivery report_delivery(const CollectorConfig& cfg) {
  ReportDelivery d;
  d.rules = cfg.contract.deliver;
  d.channels = cfg.alerts.channels;
  for (const auto& c : d.channels) d.max_text_bytes[c.name] = alerts::make_channel(c, [] { return 0; })->max_text_bytes();
  d.console_url = cfg.alerts.message.console_url;
  d.archive_url = cfg.contract.report_url;
  d.max_attachment = cfg.contract.max_attachment;
  return d;
}

std::vector<std::string> delivery_channels(const ReportDelivery& d, const std::string& kind) {
  std::vector<std::string> out;
  for (const auto& rule : d.rules) {
    if (std::find(rule.kinds.begin(), rule.kinds.end(), kind) == rule.kinds.end()) continue;
    for (const auto& ch : rule.channels) {
      if (std::find(out.begin(), out.end(), ch) == out.end()) out.push_back(ch);
    }
  }
  return out;
}

std::string report_link(const ReportDelivery& d, const std::vector<ArchivedReport>& files) {
  const ArchivedReport* f = main_file(files);
  return f == nullptr ? "" : link_to(d, *f);
}

Expected<std::vector<alerts::OutboxMessage>> report_messages(const ReportDelivery& d, const reports::Report& report,
                                                             const std::vector<ArchivedReport>& files,
                                                             std::int64_t now_ms) {
  std::vector<alerts::OutboxMessage> out;
  if (files.empty()) return out;
  const std::string link = report_link(d, files);
  const std::string subject_key = "report:" + std::to_string(files.front().report);
  for (const auto& name : delivery_channels(d, files.front().kind)) {
    auto cc = std::find_if(d.channels.begin(), d.channels.end(), [&](const auto& c) { return c.name == name; });
    if (cc == d.channels.end()) continue;  // the config loader refuses this; a test config may not
    auto lim = d.max_text_bytes.find(name);
    const std::size_t max_bytes = lim == d.max_text_bytes.end() ? reports::kMarkdownLimit : lim->second;
    std::map<std::string, std::string> fields{{"kind", files.front().kind}, {"period", files.front().period_key}};
    std::vector<std::string> parts;
    const alerts::TextStyle style = alerts::text_style(cc->type);
    if (style == alerts::TextStyle::kSms) {
      auto notice = reports::render_notice(report, link);
      if (!notice) return Error{notice.error()};
      parts = sms_parts(*notice, link, max_bytes, cc->max_chars);
    } else {
      // Every robot within its own limit and one WeCom markdown message.
      auto md = reports::render_markdown(report, link, std::min(max_bytes, reports::kMarkdownLimit));
      if (!md) return Error{md.error()};
      std::string text = *md;
      if (style == alerts::TextStyle::kPlain) {
        nlohmann::json attachments = nlohmann::json::array();
        email_parts(d, report, files, *md, text, attachments);
        const std::string first = text.substr(0, text.find('\n'));
        fields["subject"] = first + " " + report.period.first_day.str() + " — " + report.period.last_day.str();
        if (!attachments.empty()) fields["attachments"] = attachments.dump();
      }
      parts.push_back(std::move(text));
    }
    const std::vector<std::string> to = alerts::personal_channel_type(cc->type) ? cc->to : std::vector<std::string>{""};
    for (const auto& rcpt : to) {
      for (std::size_t i = 0; i < parts.size(); ++i) {
        alerts::OutboxMessage m;
        m.idempotency_key =
            alerts::idempotency_key(subject_key, files.front().created_ms, "report", name, rcpt, static_cast<int>(i + 1));
        m.fingerprint = subject_key;
        m.transition = "report";
        m.channel = name;
        m.recipient = rcpt;
        m.text = parts[i];
        m.fields = fields;
        m.created_ms = now_ms;
        m.next_attempt_ms = now_ms;
        out.push_back(std::move(m));
      }
    }
  }
  return out;
}

}  // namespace xj
