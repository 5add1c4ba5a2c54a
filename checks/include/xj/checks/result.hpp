// Metric and Result: what every check produces and every other part consumes.
// The JSON form is the wire contract (agent -> collector) and what `check --json` prints.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "xj/checks/range.hpp"
#include "xj/checks/status.hpp"

namespace xj {

using Labels = std::map<std::string, std::string>;

struct Metric {
  std::string name;     // "used_pct", "latency_ms"
  double value = 0;
  std::string unit;     // "%", "B", "ms", "s", "" (plain count)
  Labels labels;        // {"mount": "/data"}
  std::optional<Range> warn;
  std::optional<Range> crit;

  // Status of this value against its own thresholds (ok when it has none).
  Status evaluate() const;
};

struct Result {
  std::string check;    // stable id within the host, e.g. "disk:/data"
  std::string kind;     // "disk"
  Status status = Status::kUnknown;
  std::string summary;  // one human line
  std::vector<Metric> metrics;
  std::int64_t ts_ms = 0;        // UTC epoch milliseconds, when the run started
  std::int64_t duration_ms = 0;
  nlohmann::json details = nlohmann::json::object();

  // Worst status over all metrics' thresholds.
  Status metrics_status() const;
};

std::int64_t now_epoch_ms();

// A result that says the check could not measure, and why.
Result unknown_result(std::string check, std::string kind, std::string reason);

nlohmann::json to_json(const Metric& m);
nlohmann::json to_json(const Result& r);
// Strict parse of the wire form; the error names the offending field.
Expected<Result> result_from_json(const nlohmann::json& j);

}  // namespace xj
