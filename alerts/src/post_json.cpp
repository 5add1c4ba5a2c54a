#include "detail/post_json.hpp"

#include "xj/common/http_client.hpp"

namespace xj::alerts::detail {

PostReply post_json(const ChannelConfig& cfg, const std::string& url, const std::string& body,
                    const OutboxMessage& m) {
  return send_request(cfg, "POST", url, {{"Content-Type", "application/json; charset=utf-8"}}, body, m);
}

PostReply send_request(const ChannelConfig& cfg, const std::string& method, const std::string& url,
                       std::vector<std::pair<std::string, std::string>> headers, const std::string& body,
                       const OutboxMessage& m) {
  HttpClientRequest req;
  req.method = method;
  req.url = url;
  req.headers = std::move(headers);
  req.headers.emplace_back(kIdempotencyHeader, m.idempotency_key);
  // A group or digest: how many outbox messages it stands for (a receiver's accounting).
  if (!m.members.empty()) req.headers.emplace_back(kMembersHeader, std::to_string(m.members.size()));
  req.body = body;
  req.timeout = cfg.timeout;
  req.max_body = 64 * 1024;
  PostReply out;
  auto resp = http_request(req);
  if (!resp) {
    // The URL carries the robot key: name the channel, never the URL.
    std::string msg = resp.error();
    if (auto pos = msg.find(url); pos != std::string::npos) msg.replace(pos, url.size(), "<url>");
    out.error = msg;
    const HttpErrorKind kind = resp.failure().kind;
    out.maybe_sent = kind == HttpErrorKind::kTimeout || kind == HttpErrorKind::kTransfer;
    return out;
  }
  out.transport_ok = true;
  out.status = resp->status;
  out.raw = resp->body;
  out.body = nlohmann::json::parse(resp->body, nullptr, false);
  if (resp->status != 200) out.error = "HTTP " + std::to_string(resp->status) + ": " + resp->body.substr(0, 200);
  return out;
}

SendOutcome robot_verdict(const ChannelConfig& cfg, const PostReply& r, const char* field,
                          std::initializer_list<long> rate_limited, std::int64_t hold_ms) {
  SendOutcome o;
  if (!r.transport_ok || r.status != 200) {
    o.error = cfg.type + " channel '" + cfg.name + "': " + r.error;
    return o;
  }
  if (!r.body.is_object() || !r.body.contains(field) || !r.body[field].is_number_integer()) {
    o.error = cfg.type + " channel '" + cfg.name + "': reply without an integer '" + field + "'";
    return o;
  }
  long code = r.body[field].get<long>();
  if (code == 0) {
    o.delivered = true;
    return o;
  }
  std::string msg;
  for (const char* k : {"errmsg", "msg"}) {
    if (r.body.contains(k) && r.body[k].is_string()) msg = r.body[k].get<std::string>();
  }
  o.error = cfg.type + " channel '" + cfg.name + "': " + field + " " + std::to_string(code) + " " + msg;
  for (long rl : rate_limited) {
    if (code == rl) o.retry_after_ms = hold_ms;
  }
  return o;
}

}  // namespace xj::alerts::detail
