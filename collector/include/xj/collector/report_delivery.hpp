// Delivery of generated reports through the alert channels (contract.reports.deliver): one
// outbox message per channel and recipient, transition "report", written in the archive's
// transaction (SqliteReportSource::archive_report) and sent by the alerts' sender like any
// alert message. Robots get the Markdown summary (within their byte limit and one WeCom
// markdown message) with a link to the full report; SMS a one-line notice with the link;
// e-mail the summary as text with the HTML and PDF attached (a file over max_attachment is
// linked instead).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "xj/alerts/channel.hpp"
#include "xj/collector/sqlite_report_source.hpp"
#include "xj/reports/contract.hpp"
#include "xj/reports/report_model.hpp"

namespace xj {

struct CollectorConfig;

struct ReportDelivery {
  std::vector<reports::DeliverRule> rules;
  std::vector<alerts::ChannelConfig> channels;        // alerts.channels
  std::map<std::string, std::size_t> max_text_bytes;  // per channel (Channel::max_text_bytes)
  std::string console_url;  // alerts.console_url: links <base>/console/reports/<id>
  std::string archive_url;  // contract.reports.url: links <url>/<file name> instead, when set
  std::uint64_t max_attachment = 10 * 1024 * 1024;
};

// From collector.yaml (validated there: the channels exist, personal ones have recipients).
ReportDelivery report_delivery(const CollectorConfig& cfg);

// The channels that get a report of `kind` (weekly, monthly, period), each once, in rule order.
std::vector<std::string> delivery_channels(const ReportDelivery& d, const std::string& kind);

// Where the full report is: its HTML (else PDF, else the first file) in the archive named by
// archive_url, else through the console; "" when neither is configured.
std::string report_link(const ReportDelivery& d, const std::vector<ArchivedReport>& files);

// The messages for one archived report (the files carry their ids). Keys are
// "report:<report id>/<created>/report/<channel>/<recipient>#1": unique, so a report is
// delivered once per channel and recipient whatever happens after.
Expected<std::vector<alerts::OutboxMessage>> report_messages(const ReportDelivery& d, const reports::Report& report,
                                                             const std::vector<ArchivedReport>& files,
                                                             std::int64_t now_ms);

}  // namespace xj
