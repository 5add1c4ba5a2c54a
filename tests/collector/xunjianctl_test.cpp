// xunjianctl end to end: the built xunjian-collector serves a fresh store on loopback, two
// agents post a batch over HTTP, and the built xunjianctl is run as an operator would.
#include <ctime>

#include "collector_process.hpp"
#include "xj/checks/result.hpp"
#include "xj/collector/ctl_table.hpp"

using namespace xj;
using namespace xj::test;
using nlohmann::json;

namespace {

// The moment the results were measured: a whole second, a minute ago.
const std::int64_t kTs = (now_epoch_ms() / 1000 - 60) * 1000;

// Shanghai has been UTC+8 without daylight saving since 1991, so this is an independent way
// to say what the operator should read.
std::string shanghai(std::int64_t utc_ms, const char* format = "%Y-%m-%d %H:%M:%S") {
  std::time_t t = static_cast<std::time_t>(utc_ms / 1000 + 8 * 3600);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

json web01_batch() {
  return json::parse(R"({
    "agent": {"id": "web-01", "hostname": "web-01.local", "version": "0.1.0",
              "labels": {"system": "区块链知识产权保护平台", "role": "db"}},
    "results": [
      {"seq": 1, "check": "disk:/data", "kind": "disk", "status": "warning", "summary": "/data 85.5% used",
       "metrics": [{"name": "used_pct", "value": 85.5, "unit": "%", "warn": "80", "crit": "90"}], "ts": 0},
      {"seq": 2, "check": "log:应用日志", "kind": "log_scan", "status": "critical", "summary": "3 个 ERROR 行",
       "metrics": [{"name": "matches", "value": 3}], "ts": 0},
      {"seq": 3, "check": "cpu", "kind": "cpu", "status": "ok", "summary": "cpu 12.25% busy",
       "metrics": [{"name": "busy_pct", "value": 12.25, "unit": "%"}], "ts": 0}
    ]})");
}

json db02_batch() {
  return json::parse(R"({
    "agent": {"id": "db-02", "hostname": "db-02.local", "version": "0.1.0", "labels": {"system": "数据共享平台"}},
    "results": [{"seq": 1, "check": "disk:/", "kind": "disk", "status": "ok", "summary": "/ 40% used",
                 "metrics": [{"name": "used_pct", "value": 40}], "ts": 0}]})");
}

json stamped(json batch) {
  for (auto& r : batch["results"]) r["ts"] = kTs;
  return batch;
}

struct Fleet {
  TempDir dir;
  RunningCollector collector{dir.path()};
  Fleet() {
    REQUIRE(collector.ingest(stamped(web01_batch()), collector.agent_token()) == 200);
    REQUIRE(collector.ingest(stamped(db02_batch()), collector.db_token()) == 200);
  }
  Run ctl(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), XJ_CTL_BIN);
    if (env.empty()) env = {"XJ_URL=" + collector.url(), "XJ_TOKEN=" + collector.viewer_token()};
    return run(args, env, dir.path());
  }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string line_with(const std::string& text, const std::string& needle) {
  for (const auto& l : lines_of(text)) {
    if (l.find(needle) != std::string::npos) return l;
  }
  FAIL("no line with '" << needle << "' in:\n" << text);
  return "";
}

// Terminal column where `needle` starts in `line`.
std::size_t column_of(const std::string& line, const std::string& needle) {
  const auto pos = line.find(needle);
  REQUIRE(pos != std::string::npos);
  return display_width(line.substr(0, pos));
}

}  // namespace

TEST_CASE("xunjianctl hosts prints one row per host with status, check counts and Chinese labels",
          "[xunjianctl]") {
  Fleet f;
  Run r = f.ctl({"hosts"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind("HOST", 0) == 0);
  const std::string web = line_with(r.out, "web-01");
  CHECK(web.find("CRITICAL") != std::string::npos);
  CHECK(web.find("role=db system=区块链知识产权保护平台") != std::string::npos);
  CHECK(column_of(web, "0.1.0") == column_of(lines[0], "VERSION"));
  CHECK(line_with(r.out, "db-02").find("OK") != std::string::npos);
}

TEST_CASE("xunjianctl checks aligns columns after a Chinese check id and filters by status, host and kind",
          "[xunjianctl]") {
  Fleet f;
  Run all = f.ctl({"checks"});
  INFO(all.err);
  REQUIRE(all.code == 0);
  const std::string header = lines_of(all.out).at(0);
  const std::string log = line_with(all.out, "log:应用日志");
  CHECK(column_of(log, "log_scan") == column_of(header, "KIND"));
  CHECK(column_of(log, "3 个 ERROR 行") == column_of(header, "SUMMARY"));
  CHECK(column_of(line_with(all.out, "busy"), "cpu 12.25% busy") == column_of(header, "SUMMARY"));
  CHECK(lines_of(all.out).size() == 7);  // header + 4 agent checks + host:alive of each host

  Run critical = f.ctl({"checks", "--status", "critical"});
  REQUIRE(critical.code == 0);
  CHECK(lines_of(critical.out).size() == 2);
  CHECK(critical.out.find("log:应用日志") != std::string::npos);

  Run disks_of_db = f.ctl({"checks", "--host", "db-02", "--kind", "disk"});
  REQUIRE(disks_of_db.code == 0);
  CHECK(lines_of(disks_of_db.out).size() == 2);
  CHECK(line_with(disks_of_db.out, "db-02").find("disk:/") != std::string::npos);

  Run none = f.ctl({"checks", "--host", "web-01", "--kind", "postgres"});
  REQUIRE(none.code == 0);
  CHECK(none.out == "no checks match\n");
}

TEST_CASE("xunjianctl host shows the host's details and checks, times in the contract zone",
          "[xunjianctl]") {
  Fleet f;
  Run r = f.ctl({"host", "web-01"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(line_with(r.out, "hostname").find("web-01.local") != std::string::npos);
  CHECK(line_with(r.out, "labels").find("system=区块链知识产权保护平台") != std::string::npos);
  CHECK(line_with(r.out, "disk:/data").find("WARNING") != std::string::npos);
  // The checks' "since" is when they were measured, shown as the operator's clock reads it.
  CHECK(line_with(r.out, "disk:/data").find(shanghai(kTs)) != std::string::npos);
  CHECK(r.out.find("db-02") == std::string::npos);

  Run missing = f.ctl({"host", "no-such-host"});
  CHECK(missing.code == 1);
  CHECK(missing.out.empty());
  CHECK(missing.err.find("not found (404)") != std::string::npos);
  CHECK(missing.err.find("no-such-host") != std::string::npos);
}

TEST_CASE("xunjianctl --json prints exactly the API's JSON", "[xunjianctl]") {
  Fleet f;
  Run hosts = f.ctl({"--json", "hosts"});
  REQUIRE(hosts.code == 0);
  CHECK(hosts.out == f.collector.get("/api/v1/hosts") + "\n");
  Run critical = f.ctl({"checks", "--status", "critical", "--json"});
  REQUIRE(critical.code == 0);
  CHECK(critical.out == f.collector.get("/api/v1/checks?status=critical") + "\n");
  CHECK(json::parse(critical.out)["checks"].size() == 1);
}

TEST_CASE("xunjianctl series reads --from and --to as local times of the contract zone",
          "[xunjianctl]") {
  Fleet f;
  const std::vector<std::string> what{"series", "--host", "web-01", "--check", "disk:/data",
                                      "--metric", "used_pct", "--step", "0"};
  auto with = [&](std::vector<std::string> extra) {
    auto args = what;
    args.insert(args.end(), extra.begin(), extra.end());
    return f.ctl(args);
  };
  Run recent = with({"--from", "-1h"});
  INFO(recent.err);
  REQUIRE(recent.code == 0);
  CHECK(lines_of(recent.out).at(0).find("web-01  disk:/data  used_pct (%)") == 0);
  const std::string point = line_with(recent.out, shanghai(kTs));
  CHECK(point.find("85.5") != std::string::npos);

  // A window of two minutes around the measurement, written as Shanghai wall-clock time: it
  // only contains the point if the times are taken in the contract zone, not UTC.
  Run around = with({"--from", shanghai(kTs - 60'000, "%Y-%m-%d %H:%M"), "--to", shanghai(kTs + 60'000, "%Y-%m-%d %H:%M:%S")});
  REQUIRE(around.code == 0);
  CHECK(around.out.find("85.5") != std::string::npos);
  Run after = with({"--from", shanghai(kTs + 60'000, "%Y-%m-%dT%H:%M:%S"), "--to", "now"});
  REQUIRE(after.code == 0);
  CHECK(after.out.find("85.5") == std::string::npos);

  Run json_series = with({"--from", "-1h", "--json"});
  REQUIRE(json_series.code == 0);
  CHECK(json::parse(json_series.out)["series"][0]["points"][0]["last"] == 85.5);
}

TEST_CASE("xunjianctl exits 1 with 'token refused' for an unknown token, 403 for an agent token, printing neither",
          "[xunjianctl]") {
  Fleet f;
  const std::string bad = "xjapi_this-is-not-a-real-token";
  Run r = f.ctl({"hosts"}, {"XJ_URL=" + f.collector.url(), "XJ_TOKEN=" + bad});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("token refused (401)") != std::string::npos);
  CHECK(r.err.find(f.collector.url() + "/api/v1/hosts") != std::string::npos);
  CHECK(r.err.find(bad) == std::string::npos);

  // An agent token is a token, but not one for the read API.
  Run agent = f.ctl({"checks"}, {"XJ_URL=" + f.collector.url(), "XJ_TOKEN=" + f.collector.agent_token()});
  CHECK(agent.code == 1);
  CHECK(agent.err.find("(403)") != std::string::npos);
  CHECK(agent.err.find(f.collector.agent_token()) == std::string::npos);
}

TEST_CASE("xunjianctl reads the token from --token-file, which wins over XJ_TOKEN", "[xunjianctl]") {
  Fleet f;
  const auto file = f.dir.path() / "ops.token";
  write_text(file, f.collector.viewer_token() + "\n");
  Run r = f.ctl({"--token-file", file.string(), "--url", f.collector.url(), "hosts"}, {"XJ_TOKEN=xjapi_stale-token-in-the-environment"});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(r.out.find("web-01") != std::string::npos);
  CHECK(r.out.find(f.collector.viewer_token()) == std::string::npos);
}

TEST_CASE("xunjianctl verifies an https collector against --ca-file and refuses one it cannot verify",
          "[xunjianctl]") {
  TempDir dir;
  const TestCert cert = make_test_cert(dir.path());
  RunningCollector collector(dir.path(), &cert);
  REQUIRE(collector.ingest(stamped(web01_batch()), collector.agent_token()) == 200);
  const std::vector<std::string> env{"XJ_TOKEN=" + collector.viewer_token()};

  Run trusted = run({XJ_CTL_BIN, "--url", collector.url(), "--ca-file", cert.cert, "hosts"}, env, dir.path());
  INFO(trusted.err);
  CHECK(trusted.code == 0);
  CHECK(trusted.out.find("web-01") != std::string::npos);

  // The system CA store does not know the self-signed certificate.
  Run untrusted = run({XJ_CTL_BIN, "--url", collector.url(), "hosts"}, env, dir.path());
  INFO(untrusted.err);
  CHECK(untrusted.code == 1);
  CHECK(untrusted.out.empty());
  CHECK(untrusted.err.find(collector.url() + "/api/v1/hosts") != std::string::npos);
  CHECK(untrusted.err.find("certificate verify failed") != std::string::npos);
  CHECK(untrusted.err.find("--ca-file") != std::string::npos);
}

TEST_CASE("xunjianctl exits 1 naming the URL and the cause when no collector listens", "[xunjianctl]") {
  TempDir dir;
  const std::string url = "http://127.0.0.1:" + std::to_string(free_port());
  Run r = run({XJ_CTL_BIN, "--url", url, "hosts"}, {"XJ_TOKEN=xjapi_whatever"}, dir.path());
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find(url + "/api/v1/hosts") != std::string::npos);
  CHECK(r.err.find("refused") != std::string::npos);
  CHECK(r.err.find("cannot reach the collector") != std::string::npos);
}

TEST_CASE("xunjianctl usage errors exit 2 with a message", "[xunjianctl]") {
  TempDir dir;
  auto ctl = [&](std::vector<std::string> args, std::vector<std::string> env = {"XJ_TOKEN=xjapi_x"}) {
    args.insert(args.begin(), XJ_CTL_BIN);
    return run(args, env, dir.path());
  };
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> env;
    const char* says;
  };
  const std::vector<Case> cases{
      {{"hosts"}, {}, "no API token"},
      {{"--token", "xjapi_secret", "hosts"}, {}, "never given on the command line"},
      {{"--token=xjapi_secret", "hosts"}, {}, "never given on the command line"},
      {{"frobnicate"}, {"XJ_TOKEN=xjapi_x"}, "commands are hosts, host ID, checks, series"},
      {{}, {"XJ_TOKEN=xjapi_x"}, "subcommand"},
      {{"checks", "--status", "red"}, {"XJ_TOKEN=xjapi_x"}, "red"},
      {{"series", "--host", "h", "--check", "c"}, {"XJ_TOKEN=xjapi_x"}, "--metric"},
      {{"series", "--host", "h", "--check", "c", "--metric", "m", "--from", "yesterday"}, {"XJ_TOKEN=xjapi_x"}, "yesterday"},
      {{"series", "--host", "h", "--check", "c", "--metric", "m", "--from", "now", "--to", "-1h"}, {"XJ_TOKEN=xjapi_x"}, "after"},
      {{"--tz", "Mars/Olympus", "hosts"}, {"XJ_TOKEN=xjapi_x"}, "Mars/Olympus"},
      {{"--token-file", (dir.path() / "absent").string(), "hosts"}, {}, "cannot be read"},
  };
  for (const auto& c : cases) {
    Run r = ctl(c.args, c.env);
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    INFO("xunjianctl " << joined << "\n" << r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find(c.says) != std::string::npos);
    CHECK(r.err.find("xjapi_secret") == std::string::npos);
  }
}
