// An existing Prometheus scrapes the whole fleet from the collector: Debian's real
// `prometheus` server scrapes the built collector's /metrics on loopback every second, and
// the test asks Prometheus's own query API for what an agent posted.
#include <cctype>
#include <cstdio>

#include "collector_process.hpp"
#include "xj/checks/result.hpp"

using namespace xj;
using namespace xj::test;
using nlohmann::json;

namespace {

// The test must not pass by skipping: without prometheus it fails and says how to get it.
std::string find_prometheus() {
  std::string dirs = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  dirs += ":/usr/bin:/usr/sbin:/usr/local/bin";
  std::istringstream in(dirs);
  for (std::string d; std::getline(in, d, ':');) {
    if (d.empty()) continue;
    const fs::path p = fs::path(d) / "prometheus";
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  FAIL("the prometheus server is not installed (Debian package 'prometheus'): run ./scripts/deps.sh --test");
  return "";
}

std::string percent_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// Prometheus on a port that was free a moment ago; another try on a new port if something
// took it in between. Ready when /-/ready answers 200.
struct RunningPrometheus {
  std::unique_ptr<ChildProcess> process;
  std::string url;

  RunningPrometheus(const fs::path& dir, std::uint16_t collector_port) {
    const std::string bin = find_prometheus();
    write_text(dir / "prometheus.yml",
               "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
               "scrape_configs:\n  - job_name: xunjian\n    static_configs:\n"
               "      - targets: ['127.0.0.1:" + std::to_string(collector_port) + "']\n");
    for (int attempt = 0; attempt < 3 && !process; ++attempt) {
      const std::uint16_t port = free_port();
      url = "http://127.0.0.1:" + std::to_string(port);
      auto p = std::make_unique<ChildProcess>(
          std::vector<std::string>{bin, "--config.file=" + (dir / "prometheus.yml").string(),
                                   "--storage.tsdb.path=" + (dir / "tsdb").string(),
                                   "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                   "--log.level=warn"},
          std::vector<std::string>{}, dir / "prometheus.out", dir / "prometheus.err");
      const auto end = std::chrono::steady_clock::now() + 20s;
      while (std::chrono::steady_clock::now() < end && p->running()) {
        HttpClientRequest req;
        req.url = url + "/-/ready";
        req.timeout = 1s;
        auto r = http_request(req);
        if (r && r->status == 200) {
          process = std::move(p);
          break;
        }
        std::this_thread::sleep_for(100ms);
      }
      if (!process) {
        INFO("prometheus log:\n" << p->err());
        const bool port_taken = p->err().find("address already in use") != std::string::npos;
        if (!port_taken) FAIL("prometheus did not become ready within 20 s on " + url);
      }
    }
    REQUIRE(process);
  }
};

}  // namespace

TEST_CASE("Prometheus scraping the collector returns the ingested metric value with the host's labels",
          "[prometheus]") {
  TempDir dir;
  RunningCollector collector(dir.path());
  json batch = json::parse(R"({
    "agent": {"id": "web-01", "hostname": "web-01.local", "version": "0.1.0",
              "labels": {"system": "区块链知识产权保护平台", "role": "db"}},
    "results": [
      {"seq": 1, "check": "disk:/data", "kind": "disk", "status": "warning", "summary": "/data 85.5% used",
       "metrics": [{"name": "used_pct", "value": 85.5, "unit": "%", "labels": {"mount": "/data"}}], "ts": 0},
      {"seq": 2, "check": "cpu", "kind": "cpu", "status": "ok", "summary": "cpu 12.25% busy",
       "metrics": [{"name": "busy_pct", "value": 12.25, "unit": "%"}], "ts": 0}
    ]})");
  for (auto& r : batch["results"]) r["ts"] = now_epoch_ms();
  REQUIRE(collector.ingest(batch, collector.agent_token()) == 200);

  RunningPrometheus prometheus(dir.path(), collector.port());

  // Scrapes come every second; the first may take up to one interval to start.
  const std::string query = R"(xunjian_check_metric{host="web-01",metric="used_pct"})";
  json result;
  std::string last_answer;
  const auto end = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < end) {
    HttpClientRequest req;
    req.url = prometheus.url + "/api/v1/query?query=" + percent_encode(query);
    req.timeout = 2s;
    auto r = http_request(req);
    if (r && r->status == 200) {
      last_answer = r->body;
      json j = json::parse(r->body, nullptr, false);
      if (!j.is_discarded() && j["status"] == "success" && !j["data"]["result"].empty()) {
        result = j["data"]["result"];
        break;
      }
    } else {
      last_answer = r ? r->body : r.error();
    }
    std::this_thread::sleep_for(250ms);
  }
  INFO("last answer from Prometheus: " << last_answer << "\nprometheus log:\n" << prometheus.process->err());
  REQUIRE(result.size() == 1);
  const json& labels = result[0]["metric"];
  CHECK(labels["__name__"] == "xunjian_check_metric");
  CHECK(labels["host"] == "web-01");
  CHECK(labels["check"] == "disk:/data");
  CHECK(labels["kind"] == "disk");
  CHECK(labels["unit"] == "%");
  CHECK(labels["mount"] == "/data");
  CHECK(labels["system"] == "区块链知识产权保护平台");
  CHECK(labels["role"] == "db");
  CHECK(labels["job"] == "xunjian");
  CHECK(std::stod(result[0]["value"][1].get<std::string>()) == 85.5);

  // The fleet series beside it: the host is up, and the check's status is warning (1).
  HttpClientRequest up;
  up.url = prometheus.url + "/api/v1/query?query=" +
           percent_encode(R"(xunjian_check_status{host="web-01",check="disk:/data"})");
  auto status = http_request(up);
  REQUIRE(status.ok());
  json s = json::parse(status->body);
  REQUIRE(s["data"]["result"].size() == 1);
  CHECK(s["data"]["result"][0]["value"][1] == "1");
  CHECK(s["data"]["result"][0]["metric"]["system"] == "区块链知识产权保护平台");
}
