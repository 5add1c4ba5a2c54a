// The tls_cert check on certificates made by the openssl command in each test process
// (expiring in 5, 20 and 400 days, expired, SM2, a chain whose intermediate expires first),
// read from files and served by `openssl s_server` and an SMTP STARTTLS fixture on 127.0.0.1.
#include "xj/checks/tls_cert_check.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "../fixtures/chain/script_server.hpp"
#include "../fixtures/http/test_server.hpp"
#include "xj/checks/registry.hpp"

using namespace xj;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct ScratchDir {
  fs::path path = fs::path(XJ_BINARY_DIR) / ("tls_cert_test." + std::to_string(::getpid()));
  ScratchDir() { fs::create_directories(path); }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

const fs::path& dir() {
  static const ScratchDir d;
  return d.path;
}

void sh(const std::string& cmd) {
  // Braces, so that the command's own redirections (> ca.cnf) win over the silencing one.
  const std::string full = "cd " + dir().string() + " && { " + cmd + "; } >/dev/null 2>&1";
  INFO(full);
  REQUIRE(std::system(full.c_str()) == 0);
}

// A self-signed certificate `name`.pem / `name`.key valid for `days`.
void self_signed(const std::string& name, int days, const std::string& cn,
                 const std::string& san = "DNS:localhost,IP:127.0.0.1") {
  sh("openssl req -x509 -newkey rsa:2048 -nodes -days " + std::to_string(days) + " -subj /CN=" +
     cn + " -addext subjectAltName=" + san + " -keyout " + name + ".key -out " + name + ".pem");
}

// root (400 days) -> intermediate (10 days) -> leaf (300 days): the intermediate expires first.
void chain() {
  static bool made = false;
  if (made) return;
  made = true;
  sh("openssl req -x509 -newkey rsa:2048 -nodes -days 400 -subj /CN=Test-Root -addext "
     "basicConstraints=critical,CA:TRUE -keyout root.key -out root.pem");
  sh("openssl req -new -newkey rsa:2048 -nodes -subj /CN=Test-Intermediate -keyout inter.key "
     "-out inter.csr");
  sh("printf 'basicConstraints=critical,CA:TRUE\\n' > inter.ext && openssl x509 -req -in "
     "inter.csr -CA root.pem -CAkey root.key -CAcreateserial -days 10 -extfile inter.ext -out "
     "inter.pem");
  sh("openssl req -new -newkey rsa:2048 -nodes -subj /CN=localhost -keyout leaf.key -out "
     "leaf.csr");
  sh("printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > leaf.ext && openssl x509 -req -in "
     "leaf.csr -CA inter.pem -CAkey inter.key -CAcreateserial -days 300 -extfile leaf.ext -out "
     "leaf.pem");
  sh("cat leaf.pem inter.pem > leaf-chain.pem");
}

// Expired in 2020: `openssl req` cannot back-date, `openssl ca` can.
void expired() {
  sh("printf '[ca]\\ndefault_ca=d\\n[d]\\ndatabase=index.txt\\nnew_certs_dir=.\\nserial=serial\\n"
     "default_md=sha256\\npolicy=p\\nunique_subject=no\\n[p]\\ncommonName=supplied\\n' > ca.cnf");
  sh(": > index.txt && echo 01 > serial && openssl req -new -newkey rsa:2048 -nodes -subj "
     "/CN=expired.example -keyout expired.key -out expired.csr && openssl ca -batch -config "
     "ca.cnf -selfsign -keyfile expired.key -in expired.csr -startdate 20200101000000Z "
     "-enddate 20200201000000Z -notext -out expired.pem");
}

// `openssl s_server` serving cert (+ chain) on a free loopback port; killed on destruction.
class SServer {
 public:
  SServer(const std::string& cert, const std::string& key, const std::string& chain_file = "") {
    port_ = test::closed_port();
    std::vector<std::string> args = {"openssl", "s_server",
                                     "-quiet",  "-www",
                                     "-accept", "127.0.0.1:" + std::to_string(port_),
                                     "-cert",   (dir() / cert).string(),
                                     "-key",    (dir() / key).string()};
    if (!chain_file.empty()) {
      args.push_back("-cert_chain");
      args.push_back((dir() / chain_file).string());
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int in[2];
    REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    REQUIRE(::posix_spawnp(&pid_, "openssl", &fa, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    stdin_ = in[1];
    // Ready once it accepts a connection; 10 s at most.
    for (int i = 0; i < 200; ++i) {
      const int s = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<std::uint16_t>(port_));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      const bool up = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(s);
      if (up) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL("openssl s_server did not listen on " << port_);
  }
  ~SServer() {
    ::close(stdin_);
    ::kill(pid_, SIGTERM);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
  std::string endpoint(const std::string& host = "127.0.0.1") const {
    return host + ":" + std::to_string(port_);
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int port_ = 0;
};

Result run_yaml(const std::string& yaml) {
  auto def = load_check(YAML::Load(yaml), "t.yaml", "checks[0]", CheckEnv{});
  RunContext ctx(5s);
  return run_guarded(*def.check, ctx);
}

const Metric* metric(const Result& r, const std::string& name) {
  for (const auto& m : r.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::string file(const std::string& name) { return (dir() / name).string(); }

std::string slurp(const std::string& name) {
  std::ifstream in(dir() / name, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("certificates expiring in 400, 20 and 5 days are ok, warning and critical",
          "[tls_cert]") {
  self_signed("c400", 400, "far.example");
  self_signed("c20", 20, "soon.example");
  self_signed("c5", 5, "sooner.example");
  Result ok = run_yaml("kind: tls_cert\nfiles: [" + file("c400.pem") + "]\n");
  INFO(ok.summary);
  CHECK(ok.status == Status::kOk);
  CHECK(metric(ok, "days_left")->value == Approx(400).margin(1));
  CHECK(ok.details["certificates"][0]["subject"] == "CN=far.example");
  CHECK(ok.details["certificates"][0]["self_signed"] == true);
  Result warn = run_yaml("kind: tls_cert\nfiles: [" + file("c20.pem") + "]\n");
  CHECK(warn.status == Status::kWarning);
  INFO(warn.summary);
  // 20 days from the moment openssl signed it: 19 whole days left, or 20 in the same second.
  CHECK(std::regex_search(warn.summary, std::regex("expires in (19|20) days")));
  Result crit = run_yaml("kind: tls_cert\nfiles: [" + file("c5.pem") + "]\n");
  CHECK(crit.status == Status::kCritical);
  // A glob takes all three; the worst decides.
  Result all = run_yaml("kind: tls_cert\nfiles: ['" + file("c*.pem") + "']\n");
  CHECK(all.status == Status::kCritical);
  CHECK(all.details["certificates"].size() == 3);
}

TEST_CASE("an expired certificate is critical and says how long ago", "[tls_cert]") {
  expired();
  Result r = run_yaml("kind: tls_cert\nfiles: [" + file("expired.pem") + "]\n");
  INFO(r.summary);
  CHECK(r.status == Status::kCritical);
  CHECK(metric(r, "days_left")->value < 0);
  CHECK(r.summary.find("expired") != std::string::npos);
  CHECK(r.summary.find("2020-02-01") != std::string::npos);
}

TEST_CASE("an SM2 certificate parses with its key type and SM3 signature", "[tls_cert]") {
  sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:SM2 -out sm2.key && openssl req "
     "-x509 -key sm2.key -sm3 -subj /CN=sm2.example -days 100 -out sm2.pem");
  Result r = run_yaml("kind: tls_cert\nfiles: [" + file("sm2.pem") + "]\n");
  INFO(r.summary);
  CHECK(r.status == Status::kOk);
  CHECK(r.details["certificates"][0]["key_type"] == "SM2");
  CHECK(r.details["certificates"][0]["signature"] == "SM2-with-SM3");
  CHECK(metric(r, "days_left")->value == Approx(100).margin(1));
}

TEST_CASE("a DER file parses like PEM, and a file without a certificate is critical",
          "[tls_cert]") {
  self_signed("der", 60, "der.example");
  sh("openssl x509 -in der.pem -outform DER -out der.crt");
  auto certs = parse_certificates(slurp("der.crt"));
  REQUIRE(certs);
  CHECK(certs->front().subject == "CN=der.example");
  CHECK(run_yaml("kind: tls_cert\nfiles: [" + file("der.crt") + "]\n").status == Status::kOk);
  Result key_only = run_yaml("kind: tls_cert\nfiles: [" + file("der.key") + "]\n");
  CHECK(key_only.status == Status::kCritical);
  CHECK(key_only.summary.find("no certificate found") != std::string::npos);
  Result missing = run_yaml("kind: tls_cert\nfiles: [" + file("nope-*.pem") + "]\n");
  CHECK(missing.status == Status::kCritical);
  CHECK(missing.summary.find("no such file") != std::string::npos);
}

TEST_CASE("a chain file reports the intermediate that expires before the leaf", "[tls_cert]") {
  chain();
  Result r = run_yaml("kind: tls_cert\nfiles: [" + file("leaf-chain.pem") + "]\n");
  INFO(r.summary);
  CHECK(metric(r, "days_left")->value == Approx(300).margin(1));
  CHECK(metric(r, "chain_days_left")->value == Approx(10).margin(1));
  CHECK(r.status == Status::kWarning);
  CHECK(std::regex_search(
      r.summary,
      std::regex("chain certificate CN=Test-Intermediate expires first, in (9|10) days")));
  CHECK(r.details["certificates"][0]["self_signed"] == false);
  CHECK(r.details["certificates"][0]["issuer"] == "CN=Test-Intermediate");
  CHECK(r.details["certificates"][0]["sans"] ==
        nlohmann::json::array({"DNS:localhost", "IP:127.0.0.1"}));
}

TEST_CASE("an endpoint served by openssl s_server reports its chain and matching names",
          "[tls_cert][real]") {
  chain();
  SServer server("leaf.pem", "leaf.key", "inter.pem");
  Result r = run_yaml("kind: tls_cert\nendpoints: [" + server.endpoint() + "]\n");
  INFO(r.summary);
  CHECK(r.status == Status::kWarning);  // the intermediate's 10 days
  CHECK(metric(r, "hostname_match")->value == 1);
  CHECK(metric(r, "chain_days_left")->value == Approx(10).margin(1));
  CHECK(r.details["certificates"][0]["chain"].size() == 2);
  Result by_name = run_yaml("kind: tls_cert\nendpoints: [" + server.endpoint("localhost") + "]\n");
  INFO(by_name.summary);
  CHECK(metric(by_name, "hostname_match")->value == 1);
}

TEST_CASE("an endpoint whose certificate is for another name is critical", "[tls_cert][real]") {
  self_signed("other", 200, "other.example", "DNS:other.example");
  SServer server("other.pem", "other.key");
  Result r = run_yaml("kind: tls_cert\nendpoints: [" + server.endpoint() + "]\n");
  INFO(r.summary);
  CHECK(r.status == Status::kCritical);
  CHECK(metric(r, "hostname_match")->value == 0);
  CHECK(r.summary.find("not valid for 127.0.0.1") != std::string::npos);
  Result sni = run_yaml("kind: tls_cert\nendpoints: [" + server.endpoint() +
                        "]\nsni: other.example\nself_signed_warn: true\n");
  INFO(sni.summary);
  CHECK(sni.status == Status::kWarning);
  CHECK(sni.summary.find("self-signed") != std::string::npos);
}

TEST_CASE("an endpoint that does not answer is critical", "[tls_cert][real]") {
  Result r = run_yaml(
      "kind: tls_cert\nendpoints: [127.0.0.1:" + std::to_string(test::closed_port()) + "]\n");
  INFO(r.summary);
  CHECK(r.status == Status::kCritical);
  CHECK(r.summary.find("refused") != std::string::npos);
}

TEST_CASE("an SMTP server's certificate is read after STARTTLS", "[tls_cert][real]") {
  self_signed("smtp", 20, "mail.example", "DNS:mail.example");
  test::ScriptServer smtp("tests/fixtures/tls/smtp_starttls.py",
                          {file("smtp.pem"), file("smtp.key")});
  Result r = run_yaml("kind: tls_cert\nendpoints: [127.0.0.1:" + std::to_string(smtp.port()) +
                      "]\nstarttls: smtp\nsni: mail.example\n");
  INFO(r.summary);
  CHECK(r.status == Status::kWarning);
  CHECK(r.details["certificates"][0]["subject"] == "CN=mail.example");
  CHECK(metric(r, "hostname_match")->value == 1);
}

TEST_CASE("tls_cert config errors name the key", "[tls_cert]") {
  CHECK_THROWS_WITH(run_yaml("kind: tls_cert\n"), Catch::Contains("endpoints"));
  CHECK_THROWS_WITH(run_yaml("kind: tls_cert\nendpoints: [example.com]\n"),
                    Catch::Contains("not host:port"));
  CHECK_THROWS_WITH(run_yaml("kind: tls_cert\nendpoints: ['a:1']\nstarttls: imap\n"),
                    Catch::Contains("starttls"));
}
