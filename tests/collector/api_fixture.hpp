// The collector's Api object as the HTTP server calls it (no socket), over a fresh SQLite
// store with a viewer and an operator token, and the incident and silence endpoints of a real
// AlertPipeline. Shared by incident_api_test.cpp and silence_api_test.cpp.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "xj/alerts/alert_pipeline.hpp"
#include "xj/collector/api.hpp"
#include "xj/collector/incident_api.hpp"
#include "xj/collector/silence_api.hpp"
#include "xj/collector/sqlite_alert_store.hpp"
#include "xj/collector/sqlite_store.hpp"
#include "xj/collector/tokens.hpp"

namespace xj::test {

namespace fs = std::filesystem;

struct ApiFixture {
  fs::path dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<alerts::AlertStore> alert_store;
  std::unique_ptr<CollectorMetrics> metrics;
  std::unique_ptr<alerts::AlertPipeline> pipeline;
  std::unique_ptr<IncidentApi> incidents;
  std::unique_ptr<SilenceApi> silences;
  std::unique_ptr<Api> api;
  std::string viewer = generate_token(TokenKind::kApi);
  std::string op = generate_token(TokenKind::kApi);

  // alerting false: the endpoints as a collector without an alerts: section has them.
  explicit ApiFixture(const std::string& name, bool alerting = true)
      : dir(fs::path(XJ_BINARY_DIR) / "collector-tests" / (name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string db = (dir / "collector.db").string();
    store = std::move(open_sqlite_store(db)).value();
    alert_store = std::move(open_sqlite_alert_store(db)).value();
    metrics = std::make_unique<CollectorMetrics>(*store);
    REQUIRE(store->create_token("lisi", Role::kViewer, token_hash(viewer)).ok());
    REQUIRE(store->create_token("zhangsan", Role::kOperator, token_hash(op)).ok());
    api = std::make_unique<Api>(*store, *metrics, IngestHandler(*store, metrics.get()));
    if (!alerting) return;
    alerts::AlertsConfig cfg;
    cfg.enabled = true;
    pipeline = std::make_unique<alerts::AlertPipeline>(*alert_store, cfg, std::map<std::string, std::size_t>{},
                                                       [] { return now_epoch_ms(); });
    pipeline->restore();
    incidents = std::make_unique<IncidentApi>(*pipeline, *alert_store, *store, cfg.message);
    api->set_incidents(incidents.get());
    silences = std::make_unique<SilenceApi>(*pipeline, *store, std::set<std::string>{});
    api->set_silences(silences.get());
  }

  HttpResponse call(const std::string& method, const std::string& path, const std::string& token,
                    const std::string& body = "", std::map<std::string, std::string> query = {}) {
    HttpRequest r;
    r.method = method;
    r.path = path;
    r.target = path;
    r.query = std::move(query);
    r.body = body;
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    return (*api)(r);
  }
  std::string error_of(const HttpResponse& r) { return nlohmann::json::parse(r.body).value("error", ""); }
};

}  // namespace xj::test
