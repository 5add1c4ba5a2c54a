#include "xj/checks/status.hpp"

namespace xj {

std::string_view to_string(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kWarning: return "warning";
    case Status::kCritical: return "critical";
    case Status::kUnknown: return "unknown";
  }
  return "unknown";
}

std::optional<Status> parse_status(std::string_view s) {
  if (s == "ok") return Status::kOk;
  if (s == "warning") return Status::kWarning;
  if (s == "critical") return Status::kCritical;
  if (s == "unknown") return Status::kUnknown;
  return std::nullopt;
}

Status status_from_code(int code) {
  switch (code) {
    case 0: return Status::kOk;
    case 1: return Status::kWarning;
    case 2: return Status::kCritical;
    default: return Status::kUnknown;
  }
}

int code_of(Status s) { return static_cast<int>(s); }

int severity_rank(Status s) {
  switch (s) {
    case Status::kOk: return 0;
    case Status::kWarning: return 1;
    case Status::kUnknown: return 2;
    case Status::kCritical: return 3;
  }
  return 2;
}

Status worst(Status a, Status b) { return severity_rank(a) >= severity_rank(b) ? a : b; }

}  // namespace xj
