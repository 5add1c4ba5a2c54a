// Config keys shared by the chain-node checks (ethereum, fisco_bcos, fabric, chainmaker):
// where the node is and how to speak TLS to it. Private to checks/.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "xj/checks/json_rpc.hpp"
#include "xj/checks/spec.hpp"
#include "xj/common/http_client.hpp"

namespace xj {

// `chain`: the group this node belongs to at the collector. load_check turns it into the
// result label `chain`, so it travels like any label (details.labels).
inline KeySpec chain_group_key() {
  return {"chain", KeyType::kString, "",
          "chain (network) this node belongs to: nodes with the same `chain` form one group in the "
          "collector's `chain:<name>` result (lag, unreachable nodes, forks); the same as `labels: {chain: NAME}`"};
}

// url (required) plus verify_tls, ca_file, cert_file, key_file, chain.
inline std::vector<KeySpec> chain_endpoint_keys(const std::string& url_description) {
  return {
      {"url", KeyType::kString, "", url_description, true},
      {"verify_tls", KeyType::kBool, "true",
       "verify the node's certificate and host name; false only when said explicitly"},
      {"ca_file", KeyType::kString, "",
       "PEM file of CA certificates to trust (e.g. the chain's CA)"},
      {"cert_file", KeyType::kString, "", "client certificate (PEM) for mutual TLS"},
      {"key_file", KeyType::kString, "", "private key (PEM) of `cert_file`"},
      chain_group_key(),
  };
}

// Validates the shared keys (throws ConfigError through o.fail) and returns the endpoint.
inline RpcEndpoint chain_endpoint(const CheckOptions& o) {
  if (auto url = parse_url(o.str("url")); !url) o.fail("url", url.error());
  if (o.has("key_file") && !o.has("cert_file")) o.fail("key_file", "needs cert_file");
  RpcEndpoint ep;
  ep.url = o.str("url");
  ep.verify_tls = o.boolean("verify_tls");
  ep.ca_file = o.str("ca_file");
  ep.cert_file = o.str("cert_file");
  ep.key_file = o.str("key_file");
  return ep;
}

// A transport failure is the node being down, unless the request could not be made as
// configured or the run was cancelled: then we could not measure.
inline bool node_down(const HttpClientError& e) {
  return e.kind != HttpErrorKind::kRequest && e.kind != HttpErrorKind::kCancelled;
}

}  // namespace xj

namespace xj {

// A GET of `url` with the endpoint's TLS settings, ending a little before the run's deadline
// so that our message naming the URL is the one reported.
inline Expected<HttpClientResponse, HttpClientError> chain_get(
    const RpcEndpoint& ep, const std::string& url, std::chrono::steady_clock::time_point deadline,
    std::chrono::milliseconds timeout, const std::atomic<bool>* cancel) {
  HttpClientRequest req;
  req.url = url;
  req.headers = {{"User-Agent", "xunjian-agent/" XJ_VERSION}};
  const auto reserve =
      std::clamp(timeout / 20, std::chrono::milliseconds(5), std::chrono::milliseconds(200));
  req.timeout = timeout;
  req.deadline = deadline - reserve;
  req.verify_tls = ep.verify_tls;
  req.ca_file = ep.ca_file;
  req.cert_file = ep.cert_file;
  req.key_file = ep.key_file;
  req.max_body = 16 * 1024 * 1024;  // a busy node's /metrics runs to megabytes
  req.cancel = cancel;
  return http_request(req);
}

}  // namespace xj
