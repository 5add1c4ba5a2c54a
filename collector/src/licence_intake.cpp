#include <spdlog/spdlog.h>

#include "xj/collector/licence_registry.hpp"

namespace xj {

std::optional<SeenLicence> seen_licence(const std::string& host, const Result& r) {
  if (r.kind != "licence" || !r.details.is_object()) return std::nullopt;
  auto expires = r.details.find("expires_epoch_s");
  if (expires == r.details.end() || !expires->is_number()) return std::nullopt;
  SeenLicence s;
  s.host = host;
  s.check = r.check;
  s.expiry_ms = static_cast<std::int64_t>(expires->get<double>() * 1000.0);
  auto product = r.details.find("product");
  s.product = product != r.details.end() && product->is_string() ? product->get<std::string>() : r.check;
  return s;
}

void LicenceIntake::on_batch(const IngestBatch& batch) {
  std::lock_guard lock(mu_);
  for (const auto& sr : batch.results) {
    auto seen = seen_licence(batch.agent.id, sr.result);
    if (!seen) continue;
    auto key = std::make_pair(seen->host, seen->check);
    auto value = std::make_pair(seen->expiry_ms, seen->product);
    if (auto it = known_.find(key); it != known_.end() && it->second == value) continue;
    auto changed = store_.note_seen_licence(*seen);
    if (!changed) {
      spdlog::error("event=licence_intake_failed host={} check={} error=\"{}\"", seen->host, seen->check,
                    changed.error());
      continue;  // not remembered: the next result tries again
    }
    if (*changed) {
      spdlog::info("event=licence_seen host={} check={} licence={} expiry_ms={}", seen->host, seen->check,
                   (*changed)->id, seen->expiry_ms);
    }
    known_[key] = value;
  }
}

}  // namespace xj
