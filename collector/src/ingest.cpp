#include "xj/collector/ingest.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "xj/collector/collector_metrics.hpp"
#include "xj/collector/tokens.hpp"

namespace xj {
namespace {

using json = nlohmann::json;

Error field_error(const std::string& field, const std::string& what) {
  return make_error("field '" + field + "': " + what);
}

// Walks a parsed value and rejects strings over the limit, naming where they are.
std::optional<Error> check_strings(const json& j, const std::string& at, std::size_t limit) {
  if (j.is_string()) {
    if (j.get_ref<const std::string&>().size() > limit) {
      return field_error(at, "string longer than " + std::to_string(limit) + " bytes");
    }
  } else if (j.is_object()) {
    for (auto& [k, v] : j.items()) {
      if (k.size() > limit) return field_error(at, "key longer than " + std::to_string(limit) + " bytes");
      if (auto e = check_strings(v, at.empty() ? k : at + "." + k, limit)) return e;
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (auto e = check_strings(j[i], at + "[" + std::to_string(i) + "]", limit)) return e;
    }
  }
  return std::nullopt;
}

Expected<AgentInfo> parse_agent(const json& j) {
  if (!j.is_object()) return field_error("agent", "must be an object");
  AgentInfo a;
  for (const char* key : {"id", "hostname", "version"}) {
    auto it = j.find(key);
    if (it == j.end()) {
      if (std::string(key) == "id") return field_error("agent.id", "missing");
      continue;
    }
    if (!it->is_string()) return field_error(std::string("agent.") + key, "must be a string");
    std::string v = it->get<std::string>();
    if (std::string(key) == "id") a.id = v;
    else if (std::string(key) == "hostname") a.hostname = v;
    else a.version = v;
  }
  if (a.id.empty()) return field_error("agent.id", "must not be empty");
  if (auto it = j.find("labels"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return field_error("agent.labels", "must be an object of strings");
    for (auto& [k, v] : it->items()) {
      if (!v.is_string()) return field_error("agent.labels." + k, "must be a string");
      a.labels[k] = v.get<std::string>();
    }
  }
  return a;
}

Expected<GapRecord> parse_gap(const json& j, const std::string& at) {
  if (!j.is_object()) return field_error(at, "must be an object");
  GapRecord g;
  std::pair<const char*, std::int64_t*> fields[] = {{"from_seq", &g.from_seq}, {"to_seq", &g.to_seq},
                                                    {"count", &g.count},       {"from_ts", &g.from_ts},
                                                    {"to_ts", &g.to_ts}};
  for (auto& [name, out] : fields) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_number_integer()) {
      return field_error(at + "." + name, "must be an integer");
    }
    *out = it->get<std::int64_t>();
  }
  if (g.from_seq <= 0 || g.to_seq < g.from_seq || g.count <= 0) {
    return field_error(at, "from_seq..to_seq must be a positive range with a positive count");
  }
  return g;
}

}  // namespace

Expected<IngestBatch> parse_ingest_batch(std::string_view body, const IngestLimits& limits) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error("body is not valid JSON");
  if (!j.is_object()) return make_error("body must be a JSON object with agent and results");
  if (auto e = check_strings(j, "", limits.max_string_bytes)) return *e;
  for (auto& [k, v] : j.items()) {
    (void)v;
    if (k != "agent" && k != "results" && k != "gaps") return field_error(k, "unknown field");
  }
  IngestBatch batch;
  auto agent_it = j.find("agent");
  if (agent_it == j.end()) return field_error("agent", "missing");
  auto agent = parse_agent(*agent_it);
  if (!agent) return Error{agent.error()};
  batch.agent = std::move(agent).value();

  auto results_it = j.find("results");
  if (results_it == j.end()) return field_error("results", "missing");
  if (!results_it->is_array()) return field_error("results", "must be an array");
  if (results_it->size() > limits.max_results) {
    return field_error("results", "more than " + std::to_string(limits.max_results) + " results in one batch");
  }
  std::int64_t prev_seq = 0;
  for (std::size_t i = 0; i < results_it->size(); ++i) {
    const json& rj = (*results_it)[i];
    std::string at = "results[" + std::to_string(i) + "]";
    if (!rj.is_object()) return field_error(at, "must be an object");
    auto seq_it = rj.find("seq");
    if (seq_it == rj.end() || !seq_it->is_number_integer() || seq_it->get<std::int64_t>() <= 0) {
      return field_error(at + ".seq", "must be a positive integer");
    }
    std::int64_t seq = seq_it->get<std::int64_t>();
    if (seq <= prev_seq) return field_error(at + ".seq", "must increase within a batch");
    prev_seq = seq;
    if (auto m = rj.find("metrics"); m != rj.end() && m->is_array() &&
                                     m->size() > limits.max_metrics_per_result) {
      return field_error(at + ".metrics", "more than " + std::to_string(limits.max_metrics_per_result) + " metrics");
    }
    json without_seq = rj;
    without_seq.erase("seq");
    auto r = result_from_json(without_seq);
    if (!r) return make_error(at + ": " + r.error());
    batch.results.push_back({seq, std::move(r).value()});
  }
  if (auto gaps_it = j.find("gaps"); gaps_it != j.end() && !gaps_it->is_null()) {
    if (!gaps_it->is_array()) return field_error("gaps", "must be an array");
    for (std::size_t i = 0; i < gaps_it->size(); ++i) {
      auto g = parse_gap((*gaps_it)[i], "gaps[" + std::to_string(i) + "]");
      if (!g) return Error{g.error()};
      batch.gaps.push_back(*g);
    }
  }
  return batch;
}

IngestHandler::IngestHandler(Store& store, CollectorMetrics* metrics, IngestLimits limits,
                             AfterIngest after)
    : store_(store), metrics_(metrics), limits_(limits), after_(std::move(after)) {}

HttpResponse IngestHandler::reject(int status, const std::string& reason,
                                   const std::string& message) const {
  if (metrics_ != nullptr) metrics_->count_reject(reason);
  return json_error(status, message);
}

HttpResponse IngestHandler::operator()(const HttpRequest& request) const {
  std::string token = bearer_token(request.header("authorization"));
  if (token.empty()) return reject(401, "unauthorized", "missing bearer token");
  auto row = store_.find_token(token_hash(token));
  if (!row || row->revoked) return reject(401, "unauthorized", "unknown or revoked token");
  if (row->role) return reject(403, "forbidden", "an operator API token cannot post results");

  std::string type = request.header("content-type");
  if (type.rfind("application/json", 0) != 0) {
    return reject(415, "content_type", "Content-Type must be application/json, got '" + type + "'");
  }
  auto batch = parse_ingest_batch(request.body, limits_);
  if (!batch) return reject(400, "bad_request", batch.error());
  if (batch->agent.id != row->name) {
    return reject(403, "forbidden", "this token belongs to agent '" + row->name + "', not '" +
                                        batch->agent.id + "'");
  }
  batch.value().received_ms = now_epoch_ms();
  auto started = std::chrono::steady_clock::now();
  auto outcome = store_.ingest(*batch);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!outcome) {
    spdlog::error("event=ingest_failed agent={} results={} error=\"{}\"", batch->agent.id,
                  batch->results.size(), outcome.error());
    return reject(503, "store_error", "the batch was not stored: " + outcome.error());
  }
  if (metrics_ != nullptr) {
    metrics_->observe_commit(seconds);
    metrics_->count_results(outcome->accepted, outcome->duplicates);
  }
  if (after_) after_(*batch, *outcome);
  HttpResponse resp;
  resp.body = nlohmann::json{{"accepted", outcome->accepted},
                             {"duplicates", outcome->duplicates},
                             {"ack_seq", outcome->ack_seq}}
                  .dump();
  return resp;
}

}  // namespace xj
