#include "xj/checks/result.hpp"

#include <cmath>

namespace xj {

Status Metric::evaluate() const {
  if (crit && crit->alerts(value)) return Status::kCritical;
  if (warn && warn->alerts(value)) return Status::kWarning;
  return Status::kOk;
}

Status Result::metrics_status() const {
  Status s = Status::kOk;
  for (const auto& m : metrics) s = worst(s, m.evaluate());
  return s;
}

std::int64_t now_epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result unknown_result(std::string check, std::string kind, std::string reason) {
  Result r;
  r.check = std::move(check);
  r.kind = std::move(kind);
  r.status = Status::kUnknown;
  r.summary = std::move(reason);
  r.ts_ms = now_epoch_ms();
  return r;
}

nlohmann::json to_json(const Metric& m) {
  nlohmann::json j{{"name", m.name}, {"unit", m.unit}};
  // JSON has no NaN/inf: such a value is sent as null, meaning "not measurable".
  if (std::isfinite(m.value)) j["value"] = m.value;
  else j["value"] = nullptr;
  if (!m.labels.empty()) j["labels"] = m.labels;
  if (m.warn) j["warn"] = m.warn->str();
  if (m.crit) j["crit"] = m.crit->str();
  return j;
}

nlohmann::json to_json(const Result& r) {
  nlohmann::json metrics = nlohmann::json::array();
  for (const auto& m : r.metrics) metrics.push_back(to_json(m));
  return nlohmann::json{{"check", r.check},
                        {"kind", r.kind},
                        {"status", std::string(to_string(r.status))},
                        {"summary", r.summary},
                        {"metrics", std::move(metrics)},
                        {"ts", r.ts_ms},
                        {"duration_ms", r.duration_ms},
                        {"details", r.details}};
}

namespace {

Error field_error(const std::string& field, const std::string& what) {
  return make_error("field '" + field + "': " + what);
}

}  // namespace

Expected<Result> result_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error("result must be a JSON object");
  Result r;
  auto str_field = [&](const char* name, std::string& out, bool required) -> std::optional<Error> {
    auto it = j.find(name);
    if (it == j.end()) {
      if (required) return field_error(name, "missing");
      return std::nullopt;
    }
    if (!it->is_string()) return field_error(name, "must be a string");
    out = it->get<std::string>();
    return std::nullopt;
  };
  if (auto e = str_field("check", r.check, true)) return *e;
  if (r.check.empty()) return field_error("check", "must not be empty");
  if (auto e = str_field("kind", r.kind, true)) return *e;
  std::string status;
  if (auto e = str_field("status", status, true)) return *e;
  auto st = parse_status(status);
  if (!st) return field_error("status", "'" + status + "' is not ok, warning, critical or unknown");
  r.status = *st;
  if (auto e = str_field("summary", r.summary, false)) return *e;
  if (auto it = j.find("ts"); it != j.end()) {
    if (!it->is_number_integer()) return field_error("ts", "must be an integer (epoch ms)");
    r.ts_ms = it->get<std::int64_t>();
  } else {
    return field_error("ts", "missing");
  }
  if (auto it = j.find("duration_ms"); it != j.end()) {
    if (!it->is_number()) return field_error("duration_ms", "must be a number");
    r.duration_ms = it->get<std::int64_t>();
  }
  if (auto it = j.find("details"); it != j.end()) {
    if (!it->is_object() && !it->is_null()) return field_error("details", "must be an object");
    if (it->is_object()) r.details = *it;
  }
  if (auto it = j.find("metrics"); it != j.end()) {
    if (!it->is_array()) return field_error("metrics", "must be an array");
    for (std::size_t i = 0; i < it->size(); ++i) {
      const auto& mj = (*it)[i];
      std::string at = "metrics[" + std::to_string(i) + "]";
      if (!mj.is_object()) return field_error(at, "must be an object");
      Metric m;
      auto name = mj.find("name");
      if (name == mj.end() || !name->is_string()) return field_error(at + ".name", "must be a string");
      m.name = name->get<std::string>();
      auto value = mj.find("value");
      if (value == mj.end()) return field_error(at + ".value", "missing");
      if (value->is_null()) m.value = std::nan("");
      else if (value->is_number()) m.value = value->get<double>();
      else return field_error(at + ".value", "must be a number or null");
      if (auto u = mj.find("unit"); u != mj.end()) {
        if (!u->is_string()) return field_error(at + ".unit", "must be a string");
        m.unit = u->get<std::string>();
      }
      if (auto l = mj.find("labels"); l != mj.end()) {
        if (!l->is_object()) return field_error(at + ".labels", "must be an object of strings");
        for (auto& [k, v] : l->items()) {
          if (!v.is_string()) return field_error(at + ".labels." + k, "must be a string");
          m.labels[k] = v.get<std::string>();
        }
      }
      for (const char* key : {"warn", "crit"}) {
        auto t = mj.find(key);
        if (t == mj.end() || t->is_null()) continue;
        if (!t->is_string()) return field_error(at + "." + key, "must be a Nagios range string");
        auto range = Range::parse_nagios(t->get<std::string>());
        if (!range) return field_error(at + "." + key, range.error());
        (std::string(key) == "warn" ? m.warn : m.crit) = *range;
      }
      r.metrics.push_back(std::move(m));
    }
  }
  return r;
}

}  // namespace xj
