// Config keys shared by the chain-node checks (ethereum, fisco_bcos, fabric, chainmaker):
// where the node is and how to speak TLS to it. Private to checks/.
#pragma once

#include <string>
#include <vector>

#include "xj/checks/json_rpc.hpp"
#include "xj/checks/spec.hpp"
#include "xj/common/http_client.hpp"

namespace xj {

// url (required) plus verify_tls, ca_file, cert_file, key_file.
inline std::vector<KeySpec> chain_endpoint_keys(const std::string& url_description) {
  return {
      {"url", KeyType::kString, "", url_description, true},
      {"verify_tls", KeyType::kBool, "true",
       "verify the node's certificate and host name; false only when said explicitly"},
      {"ca_file", KeyType::kString, "",
       "PEM file of CA certificates to trust (e.g. the chain's CA)"},
      {"cert_file", KeyType::kString, "", "client certificate (PEM) for mutual TLS"},
      {"key_file", KeyType::kString, "", "private key (PEM) of `cert_file`"},
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
