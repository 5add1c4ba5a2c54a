// POST /api/v1/results: the agent -> collector wire contract (docs/ARCHITECTURE.md, "Wire").
// Authenticates the agent's bearer token, parses the batch strictly (a field of the wrong type
// is a 400 naming the field), commits it in one transaction and only then answers
// {accepted, ack_seq}. Nothing of a rejected batch is stored.
#pragma once

#include <functional>
#include <string>

#include "xj/collector/http_types.hpp"
#include "xj/collector/store.hpp"

namespace xj {

class CollectorMetrics;

// Limits on one batch, beyond the server's body limit.
struct IngestLimits {
  std::size_t max_results = 10'000;
  std::size_t max_metrics_per_result = 1'000;
  std::size_t max_string_bytes = 64 * 1024;  // any single string value (summary, label, ...)
};

// Pure: the body of a POST /api/v1/results as a batch, or an error naming the field.
Expected<IngestBatch> parse_ingest_batch(std::string_view body, const IngestLimits& limits);

// Called after each committed batch (liveness uses it to mark the host alive).
using AfterIngest = std::function<void(const IngestBatch&, const IngestOutcome&)>;

class IngestHandler {
 public:
  IngestHandler(Store& store, CollectorMetrics* metrics, IngestLimits limits = {},
                AfterIngest after = {});
  HttpResponse operator()(const HttpRequest& request) const;

 private:
  HttpResponse reject(int status, const std::string& reason, const std::string& message) const;

  Store& store_;
  CollectorMetrics* metrics_;
  IngestLimits limits_;
  AfterIngest after_;
};

}  // namespace xj
