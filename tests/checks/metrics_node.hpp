// tests/fixtures/chain/metrics_node.py with a way to script its answers, shared by the fabric
// and chainmaker check tests. It stands in for real nodes: neither chain can run here.
#pragma once

#include <nlohmann/json.hpp>

#include "../fixtures/chain/script_server.hpp"
#include "xj/checks/registry.hpp"
#include "xj/common/http_client.hpp"

namespace xj::test {

struct MetricsNode {
  MetricsNode() = default;
  // HTTPS requiring a client certificate; `set` then uses `client_cert`/`client_key`.
  MetricsNode(std::vector<std::string> tls_args, std::string ca, std::string client_cert,
              std::string client_key)
      : server("tests/fixtures/chain/metrics_node.py", std::move(tls_args)),
        scheme("https"),
        ca_file(std::move(ca)),
        cert_file(std::move(client_cert)),
        key_file(std::move(client_key)) {}
  ScriptServer server{"tests/fixtures/chain/metrics_node.py"};
  std::string scheme = "http";
  std::string ca_file, cert_file, key_file;
  void set(const std::string& path, int status, const std::string& body) {
    HttpClientRequest req;
    req.method = "POST";
    req.url = server.url("/_set", scheme);
    req.ca_file = ca_file;
    req.cert_file = cert_file;
    req.key_file = key_file;
    req.body = nlohmann::json{{"path", path}, {"status", status}, {"body", body}}.dump();
    auto r = http_request(req);
    REQUIRE(r);
    REQUIRE(r->status == 200);
  }
  std::string url(const std::string& path = "") const { return server.url(path, scheme); }
};

inline Result run_check(Check& c) {
  RunContext ctx(std::chrono::seconds(5));
  return run_guarded(c, ctx);
}

inline std::unique_ptr<Check> make_check(const std::string& yaml) {
  return load_check(YAML::Load(yaml), "t.yaml", "checks[0]", CheckEnv{}).check;
}

inline const Metric* find_metric(const Result& r, const std::string& name,
                                 const std::string& label_value = "") {
  for (const auto& m : r.metrics) {
    if (m.name != name) continue;
    if (label_value.empty()) return &m;
    for (const auto& [k, v] : m.labels) {
      if (v == label_value) return &m;
    }
  }
  return nullptr;
}

}  // namespace xj::test
