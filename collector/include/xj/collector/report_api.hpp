// The reports' part of the JSON API (routed by api.cpp):
//   GET  /api/v1/reports[?period=KEY]          viewer+    the archive, newest first
//   POST /api/v1/reports                        operator+  generate: {kind, date|month|from,to,
//                                                          formats, locale, deliver} -> archived files
//   GET  /api/v1/reports/{id}/file              viewer+    an archived file's bytes
//   GET  /api/v1/reports/notes?period=KEY       viewer+    the operator's notes of a period
//   POST /api/v1/reports/notes                  operator+  {period, text}: add a note
// Generating and adding notes are audited.
#pragma once

#include <string>

#include "xj/collector/http_types.hpp"
#include "xj/collector/report_service.hpp"
#include "xj/collector/store.hpp"

namespace xj {

// `actor` is who asks ("api:alice"); `may_write` whether the token is operator or admin.
HttpResponse handle_report_api(const HttpRequest& request, ReportService& reports, Store& store,
                               const std::string& actor, bool may_write);

// The period a request names: kind weekly with a date in the week, monthly with YYYY-MM,
// period with from and to dates (inclusive). Errors name the field.
Expected<reports::Period> period_from_request(const nlohmann::json& body, const reports::UtcOffset& offset);

nlohmann::json to_json(const ArchivedReport& a);
// A report's deliveries: [{channel, recipient, status: pending|delivered|failed, attempts,
// created, delivered?, error?}].
nlohmann::json delivery_json(const std::vector<alerts::OutboxMessage>& rows);
// An archived file's bytes with its content type, refused (409) when it no longer matches its
// SHA-256, 410 when gone, 404 for an unknown id. The API and the console serve files so.
HttpResponse archived_file_response(SqliteReportSource& source, const std::string& id_text);

}  // namespace xj
