#include "xj/agent/shipper.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace xj {

Shipper::Shipper(Spool& spool, nlohmann::json agent, PostFn post, ShipperOptions options,
                 std::uint32_t seed)
    : spool_(spool),
      agent_(std::move(agent)),
      post_(std::move(post)),
      options_(options),
      rng_(seed),
      batch_limit_(options.max_batch_results) {}

std::string Shipper::body_of(const std::vector<SpoolEntry>& entries,
                             const std::vector<SpoolGap>& gaps) const {
  // The spool holds each result's wire JSON; splice in seq without re-parsing every result.
  std::string body = "{\"agent\":" + agent_.dump() + ",\"results\":[";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string& r = entries[i].json;
    if (i > 0) body += ',';
    body += "{\"seq\":" + std::to_string(entries[i].seq);
    if (r.size() > 2) body += "," + r.substr(1);  // r is "{...}"
    else body += "}";
  }
  body += "],\"gaps\":[";
  for (std::size_t i = 0; i < gaps.size(); ++i) {
    if (i > 0) body += ',';
    body += nlohmann::json{{"from_seq", gaps[i].from_seq}, {"to_seq", gaps[i].to_seq},
                           {"count", gaps[i].count},       {"from_ts", gaps[i].from_ts_ms},
                           {"to_ts", gaps[i].to_ts_ms}}
                .dump();
  }
  return body + "]}";
}

Shipper::Step Shipper::retry(std::string error) {
  ++failures_;
  backoff_ = backoff_.count() == 0 ? options_.backoff_min
                                   : std::min(backoff_ * 2, options_.backoff_max);
  // Full jitter in [backoff/2, backoff]: many agents coming back after an outage must not
  // hit the collector in step.
  std::uniform_int_distribution<std::int64_t> jitter(backoff_.count() / 2, backoff_.count());
  Step s;
  s.outcome = Outcome::kRetry;
  s.wait = std::chrono::milliseconds(jitter(rng_));
  s.error = std::move(error);
  return s;
}

Shipper::Step Shipper::step(std::chrono::steady_clock::time_point now) {
  auto entries = spool_.peek(batch_limit_, options_.max_batch_bytes);
  if (!entries) return retry("spool: " + entries.error());
  auto gaps = spool_.gaps();
  if (!gaps) return retry("spool: " + gaps.error());
  const bool heartbeat_due = now - last_contact_ >= options_.heartbeat;
  if (entries->empty() && gaps->empty() && !heartbeat_due) {
    Step s;
    s.outcome = Outcome::kIdle;
    s.wait = std::chrono::duration_cast<std::chrono::milliseconds>(options_.heartbeat - (now - last_contact_));
    return s;
  }
  auto reply = post_(body_of(*entries, *gaps));
  if (!reply) return retry(reply.error());
  const int status = reply->status;
  if (status == 200) {
    std::int64_t ack = 0;
    auto j = nlohmann::json::parse(reply->body, nullptr, false);
    if (j.is_object() && j.contains("ack_seq") && j["ack_seq"].is_number_integer()) {
      ack = j["ack_seq"].get<std::int64_t>();
    } else if (!entries->empty()) {
      return retry("collector answered 200 without ack_seq: " + reply->body.substr(0, 200));
    }
    Step s;
    s.outcome = entries->empty() ? Outcome::kHeartbeat : Outcome::kShipped;
    // Never acknowledge past what this batch carried: a collector that remembers a higher seq
    // (e.g. from before this spool was recreated) must not make us delete unsent results.
    ack = entries->empty() ? 0 : std::min(ack, entries->back().seq);
    if (ack > 0 || !gaps->empty()) {
      auto acked = spool_.ack(std::max<std::int64_t>(ack, gaps->empty() ? 0 : gaps->back().to_seq));
      if (!acked) return retry("spool: " + acked.error());
      s.acked = static_cast<std::size_t>(*acked);
    }
    shipped_ += s.acked;
    last_contact_ = now;
    backoff_ = std::chrono::milliseconds(0);
    batch_limit_ = std::min(options_.max_batch_results, batch_limit_ * 2);
    return s;
  }
  const std::string why = "collector answered " + std::to_string(status) + ": " + reply->body.substr(0, 300);
  if ((status == 400 || status == 413) && entries->size() > 1) {
    batch_limit_ = std::max<std::size_t>(1, entries->size() / 2);
    Step s;
    s.outcome = Outcome::kSplit;
    s.error = why;
    return s;
  }
  if (status == 400 && entries->size() == 1) {
    auto q = spool_.quarantine(entries->front().seq, why);
    if (!q) return retry("spool: " + q.error());
    spdlog::error("event=result_quarantined seq={} reason=\"{}\"", entries->front().seq, why);
    Step s;
    s.outcome = Outcome::kQuarantined;
    s.error = why;
    return s;
  }
  return retry(why);
}

}  // namespace xj
