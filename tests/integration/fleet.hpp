// A collector and its agents as real processes, the way a site runs them: config files
// written to a scratch dir, tokens made with `xunjian-collector token create`, the daemons
// started with `serve` / `run` and reached over loopback on ports chosen at run time.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <regex>

#include "../support/processes.hpp"

namespace xj::itest {

// A self-signed certificate for 127.0.0.1, made with the openssl CLI as an operator would;
// the certificate is its own CA file for the agent.
struct TlsFiles {
  fs::path cert, key;
};
inline TlsFiles make_tls_cert(const fs::path& dir) {
  TlsFiles f{dir / "tls.crt", dir / "tls.key"};
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '" + f.key.string() +
      "' -out '" + f.cert.string() + "' 2>'" + (dir / "openssl.log").string() + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  return f;
}

class CollectorProc {
 public:
  // heartbeat: how often agents must show up; 3 missed ones make host:alive critical.
  // tls: serve HTTPS with this certificate.
  // extra_config: more top-level sections for collector.yaml (e.g. "chains:\n  lag_warn: 3\n").
  explicit CollectorProc(const fs::path& dir, std::string heartbeat = "1s",
                         std::optional<TlsFiles> tls = std::nullopt, std::string extra_config = "")
      : dir_(dir),
        port_(free_port()),
        heartbeat_(std::move(heartbeat)),
        tls_(std::move(tls)),
        extra_config_(std::move(extra_config)) {
    fs::create_directories(dir_);
    write_config();
    auto api = run(kCollector, {"token", "create", "--api", "itest", "--role", "admin", "-c", config()},
                   dir_);
    REQUIRE(api.exit_code == 0);
    api_token_ = token_line(api.out);
    REQUIRE(!api_token_.empty());
  }

  std::string config() const { return (dir_ / "collector.yaml").string(); }
  // More top-level sections for collector.yaml (e.g. ssh:), before start().
  void append_config(const std::string& yaml) const {
    std::ofstream(config(), std::ios::app) << yaml;
  }
  fs::path store() const { return dir_ / "collector.db"; }
  fs::path log() const { return dir_ / "collector.log"; }
  std::uint16_t port() const { return port_; }
  std::string url() const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  }
  const std::string& api_token() const { return api_token_; }

  // A new agent token, written to `file` for the agent's token_file.
  std::string agent_token(const std::string& agent, const fs::path& file) {
    auto r = run(kCollector, {"token", "create", "--agent", agent, "-c", config()}, dir_);
    REQUIRE(r.exit_code == 0);
    std::string t = token_line(r.out);
    REQUIRE(!t.empty());
    write_file(file, t + "\n");
    return t;
  }

  // Starts `serve` and waits until /healthz answers.
  void start() {
    child_ = std::make_unique<Child>(kCollector, std::vector<std::string>{"serve", "-c", config()}, log());
    REQUIRE(child_->pid() > 0);
    bool up = wait_until(20s, [&] {
      return child_->running() && get("/healthz").status == 200;
    });
    if (!up) FAIL("collector did not come up on " << url() << "; log:\n" << slurp(log()));
  }
  void kill(int sig = SIGKILL) {
    if (child_) child_->kill(sig);
  }
  bool running() { return child_ && child_->running(); }
  void signal(int sig) const {
    if (child_) child_->signal(sig);
  }

  Http get(const std::string& path) const {
    return http("GET", url() + path, api_token_, "", "application/json",
                tls_ ? tls_->cert.string() : "");
  }
  nlohmann::json get_json(const std::string& path) const {
    auto r = get(path);
    INFO(path << " -> " << r.status << " " << r.error << " " << r.body);
    REQUIRE(r.status == 200);
    return r.json();
  }
  // The current status ("ok", "critical", ...) of one check of a host, or "" if none yet.
  std::string check_status(const std::string& host, const std::string& check) const {
    auto r = get("/api/v1/checks?host=" + host);
    if (r.status != 200) return "";
    const auto j = r.json();
    for (const auto& c : j["checks"]) {
      if (c["check"] == check) return c["status"].get<std::string>();
    }
    return "";
  }

  // Stored agent results of one host: count, distinct seqs, min and max seq.
  struct SeqStats {
    std::int64_t rows = 0, distinct = 0, min = 0, max = 0;
  };
  SeqStats seqs(const std::string& host, std::int64_t upto = INT64_MAX) const {
    const std::string where = " FROM results WHERE seq > 0 AND seq <= " + std::to_string(upto) +
                              " AND hid = (SELECT hid FROM hosts WHERE id = '" + host + "')";
    SeqStats s;
    s.rows = sql_int(store(), "SELECT count(*)" + where).value_or(0);
    s.distinct = sql_int(store(), "SELECT count(DISTINCT seq)" + where).value_or(0);
    s.min = sql_int(store(), "SELECT min(seq)" + where).value_or(0);
    s.max = sql_int(store(), "SELECT max(seq)" + where).value_or(0);
    return s;
  }
  // Batches of the host that were stored after a batch holding a higher seq: backfill out of
  // order. (Within one batch the store may apply results in time order, so rows are grouped
  // by the time their batch was received.)
  std::int64_t out_of_order(const std::string& host) const {
    return sql_int(store(),
                   "SELECT count(*) FROM (SELECT lo, max(hi) OVER (ORDER BY received ROWS BETWEEN "
                   "UNBOUNDED PRECEDING AND 1 PRECEDING) AS before FROM (SELECT received, "
                   "min(seq) AS lo, max(seq) AS hi FROM results WHERE seq > 0 AND hid = (SELECT "
                   "hid FROM hosts WHERE id = '" + host + "') GROUP BY received)) WHERE lo < before")
        .value_or(-1);
  }

 private:
  void write_config() const {
    write_file(dir_ / "collector.yaml",
               "collector:\n"
               "  listen: 127.0.0.1:" + std::to_string(port_) + "\n"
               "  store: " + store().string() + "\n"
               "  heartbeat: " + heartbeat_ + "\n"
               "  read_timeout: 2s\n" +
               (tls_ ? "  tls: {cert_file: " + tls_->cert.string() + ", key_file: " +
                           tls_->key.string() + "}\n"
                     : std::string()) +
               "  log_level: debug\n"
               "contract:\n"
               "  customer: 集成测试\n" +
               extra_config_);
  }

  fs::path dir_;
  std::uint16_t port_;
  std::string heartbeat_;
  std::optional<TlsFiles> tls_;
  std::string extra_config_;
  std::string api_token_;
  std::unique_ptr<Child> child_;
};

struct AgentOptions {
  std::string id = "itest-01";
  std::string collector_url;  // empty: no collector section
  fs::path token_file;
  std::string checks =
      "  - kind: cpu\n"
      "  - kind: memory\n"
      "  - kind: load\n";
  std::string interval = "1s";
  std::string extra_agent_keys;  // more lines under agent:, indented by two spaces
  std::string heartbeat = "1s";
  fs::path ca_file;  // the CA the collector's certificate is checked against
};

class AgentProc {
 public:
  AgentProc(const fs::path& dir, AgentOptions o) : dir_(dir), opts_(std::move(o)) {
    fs::create_directories(dir_ / "state");
    std::string cfg =
        "agent:\n"
        "  id: " + opts_.id + "\n"
        "  labels: {system: 集成测试平台, role: app}\n"
        "  state_dir: " + (dir_ / "state").string() + "\n"
        "  metrics_listen: off\n"
        "  log_level: debug\n"
        "  limits: {max_rss: 4GB, max_cpu: 100%}\n" +  // ASan builds are big; do not back off
        opts_.extra_agent_keys;
    if (!opts_.collector_url.empty()) {
      cfg += "collector:\n"
             "  url: " + opts_.collector_url + "\n"
             "  token_file: " + opts_.token_file.string() + "\n" +
             (opts_.ca_file.empty() ? std::string() : "  ca_file: " + opts_.ca_file.string() + "\n") +
             "  batch_age: 200ms\n"
             "  heartbeat: " + opts_.heartbeat + "\n"
             "  timeout: 2s\n";
    }
    cfg += "defaults: {interval: " + opts_.interval + ", timeout: 1s}\nchecks:\n" + opts_.checks;
    write_file(config(), cfg);
  }

  std::string config() const { return (dir_ / "agent.yaml").string(); }
  fs::path log() const { return dir_ / "agent.log"; }
  fs::path spool() const { return dir_ / "state" / "spool.db"; }

  // Starts `run` and waits for its "agent_started" line (signals are handled from then on).
  void start() {
    auto starts = [&] {
      const std::string text = slurp(log());
      std::size_t n = 0;
      for (auto at = text.find("event=agent_started"); at != std::string::npos;
           at = text.find("event=agent_started", at + 1)) {
        ++n;
      }
      return n;
    };
    const std::size_t before = starts();
    child_ = std::make_unique<Child>(kAgent, std::vector<std::string>{"run", "-c", config()}, log());
    REQUIRE(child_->pid() > 0);
    bool up = wait_until(10s, [&] { return starts() > before; });
    if (!up || !child_->running()) FAIL("agent did not start; log:\n" << slurp(log()));
  }
  // SIGTERM and wait for a clean exit; returns the exit code.
  int stop() {
    child_->signal(SIGTERM);
    auto code = child_->wait_exit(15s);
    return code ? *code : -1;
  }
  void kill() { child_->kill(SIGKILL); }
  bool running() { return child_ && child_->running(); }

  // Results waiting in the spool, and the highest seq the spool ever gave out.
  std::int64_t spooled() const {
    return sql_int(spool(), "SELECT count(*) FROM results").value_or(-1);
  }
  std::int64_t last_seq() const {
    return sql_int(spool(), "SELECT seq FROM sqlite_sequence WHERE name = 'results'").value_or(0);
  }

 private:
  fs::path dir_;
  AgentOptions opts_;
  std::unique_ptr<Child> child_;
};

}  // namespace xj::itest
