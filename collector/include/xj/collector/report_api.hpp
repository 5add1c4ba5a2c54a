// The reports' part of the JSON API (routed by api.cpp):
//   GET  /api/v1/reports[?period=KEY]          viewer+    the archive, newest first
//   POST /api/v1/reports                        operator+  generate: {kind, date|month|from,to,
//                                                          formats, locale} -> archived files
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

}  // namespace xj
