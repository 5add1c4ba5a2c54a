// Status of a check result, Nagios-compatible: the numeric codes are the exit codes of
// monitoring-plugins, so an exec check of any plugin maps one to one.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace xj {

enum class Status { kOk = 0, kWarning = 1, kCritical = 2, kUnknown = 3 };

// "ok", "warning", "critical", "unknown".
std::string_view to_string(Status s);
std::optional<Status> parse_status(std::string_view s);
// Nagios exit code (0..3); anything else is unknown.
Status status_from_code(int code);
int code_of(Status s);

// Severity order used to pick "the worst": ok < warning < unknown < critical. An unknown
// (could not measure) outranks a warning; a critical outranks everything.
int severity_rank(Status s);
Status worst(Status a, Status b);

}  // namespace xj
