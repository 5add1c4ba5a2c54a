// JSON-RPC 2.0 over HTTP(S) for the chain-node checks (ethereum, fisco_bcos): the pure
// pieces (reply parsing, hex-or-integer quantities, a JSON document encoded as a string)
// apart from the one function that does I/O, so the parsers are tested on fixture text.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "xj/common/expected.hpp"
#include "xj/common/http_client.hpp"

namespace xj {

struct RpcError {
  long code = 0;
  std::string message;
};

// One decoded reply: exactly one of result / error is set.
struct RpcReply {
  std::optional<nlohmann::json> result;
  std::optional<RpcError> error;
};

// Decodes a JSON-RPC 2.0 reply body. Errors: "reply is not JSON: ...", "reply has neither
// result nor error". A batch (array) is not expected and is an error.
Expected<RpcReply> parse_rpc_reply(std::string_view body);

// True for "the node does not implement this method": code -32601, or a message saying the
// method is not found / not supported / does not exist (nodes differ in the code they use).
bool method_not_found(const RpcError& e);

// A number as nodes send them: "0x1a" (Ethereum quantities, FISCO 2.x), a plain JSON integer
// (FISCO 3.x, some Ethereum clients for net_peerCount) or a decimal string ("26").
Expected<std::uint64_t> parse_quantity(const nlohmann::json& v);

// FISCO 3.x returns some results as a JSON document inside a string: parse that string once
// more. Anything that is not a string is returned as it is.
Expected<nlohmann::json> unwrap_json_string(const nlohmann::json& v);

// Where and how to send the calls; the TLS fields mean what they mean for the http check.
struct RpcEndpoint {
  std::string url;
  bool verify_tls = true;
  std::string ca_file, cert_file, key_file;
};

// One call: POST {"jsonrpc":"2.0","method":...,"params":...,"id":1}. Transport failures keep
// the HTTP client's kind (a check reports kRequest/kCancelled as unknown, the rest as the node
// being down); a non-200 status or a body that is not a JSON-RPC reply is kTransfer.
// `latency_ms` is set to the request's total time when given.
Expected<RpcReply, HttpClientError> rpc_call(const RpcEndpoint& ep, const std::string& method,
                                             const nlohmann::json& params,
                                             std::chrono::steady_clock::time_point deadline,
                                             const std::atomic<bool>* cancel,
                                             double* latency_ms = nullptr);

}  // namespace xj
