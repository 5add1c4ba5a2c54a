#include "xj/checks/json_rpc.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "xj/checks/utf8.hpp"

namespace xj {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

Expected<RpcReply> parse_rpc_reply(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return make_error("reply is not JSON: '" + utf8_clip(body, 80) + "'");
  if (!j.is_object()) return make_error("reply is not a JSON-RPC object");
  RpcReply r;
  if (auto e = j.find("error"); e != j.end() && !e->is_null()) {
    RpcError err;
    if (e->is_object()) {
      if (auto c = e->find("code"); c != e->end() && c->is_number()) err.code = c->get<long>();
      if (auto m = e->find("message"); m != e->end()) {
        err.message = m->is_string() ? m->get<std::string>() : m->dump();
      }
    } else {
      err.message = e->is_string() ? e->get<std::string>() : e->dump();
    }
    r.error = std::move(err);
    return r;
  }
  auto res = j.find("result");
  if (res == j.end()) return make_error("reply has neither result nor error");
  r.result = *res;
  return r;
}

bool method_not_found(const RpcError& e) {
  if (e.code == -32601) return true;
  const std::string m = lower(e.message);
  // "header not found" is about a block, not the method: the message must name a method.
  if (m.find("method") == std::string::npos) return false;
  return m.find("not found") != std::string::npos || m.find("not supported") != std::string::npos ||
         m.find("does not exist") != std::string::npos ||
         m.find("not available") != std::string::npos;
}

Expected<std::uint64_t> parse_quantity(const nlohmann::json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer()) {
    const auto n = v.get<std::int64_t>();
    if (n < 0) return make_error("negative quantity " + v.dump());
    return static_cast<std::uint64_t>(n);
  }
  if (!v.is_string()) return make_error("not a quantity: " + utf8_clip(v.dump(), 60));
  const std::string s = v.get<std::string>();
  std::string_view digits = s;
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    digits.remove_prefix(2);
    base = 16;
  }
  std::uint64_t out = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out, base);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    return make_error("not a quantity: '" + utf8_clip(s, 60) + "'");
  }
  return out;
}

Expected<nlohmann::json> unwrap_json_string(const nlohmann::json& v) {
  if (!v.is_string()) return v;
  nlohmann::json inner = nlohmann::json::parse(v.get<std::string>(), nullptr, false);
  if (inner.is_discarded()) {
    return make_error("string result is not JSON: '" + utf8_clip(v.get<std::string>(), 60) + "'");
  }
  return inner;
}

Expected<RpcReply, HttpClientError> rpc_call(const RpcEndpoint& ep, const std::string& method,
                                             const nlohmann::json& params,
                                             std::chrono::steady_clock::time_point deadline,
                                             const std::atomic<bool>* cancel, double* latency_ms) {
  HttpClientRequest req;
  req.method = "POST";
  req.url = ep.url;
  req.headers = {{"Content-Type", "application/json"}, {"User-Agent", "xunjian-agent/" XJ_VERSION}};
  req.body =
      nlohmann::json{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}, {"id", 1}}.dump();
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  req.timeout = std::max(left, std::chrono::milliseconds(1));
  req.deadline = deadline;
  req.verify_tls = ep.verify_tls;
  req.ca_file = ep.ca_file;
  req.cert_file = ep.cert_file;
  req.key_file = ep.key_file;
  req.max_body = 4 * 1024 * 1024;
  req.cancel = cancel;
  auto res = http_request(req);
  if (!res) return res.failure();
  if (latency_ms != nullptr) *latency_ms = res->timings.total_ms;
  const std::string what = method + " at " + ep.url;
  if (res->status != 200) {
    return HttpClientError{HttpErrorKind::kTransfer, what + ": HTTP status " +
                                                         std::to_string(res->status) + " '" +
                                                         utf8_clip(res->body, 80) + "'"};
  }
  auto reply = parse_rpc_reply(res->body);
  if (!reply) return HttpClientError{HttpErrorKind::kTransfer, what + ": " + reply.error()};
  return *reply;
}

}  // namespace xj
