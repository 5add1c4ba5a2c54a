// tls_cert's PostgreSQL STARTTLS (SSLRequest) against a real PostgreSQL server started by
// the database tests' fixture, first without SSL, then with a certificate made by openssl.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <regex>

#include "db_servers.hpp"
#include "xj/checks/registry.hpp"

using namespace xj;
using namespace std::chrono_literals;

TEST_CASE("a PostgreSQL server's certificate is read after its SSLRequest", "[tls_cert][real]") {
  test::PgServer pg;
  const std::string yaml = "kind: tls_cert\nendpoints: [127.0.0.1:" + std::to_string(pg.port()) +
                           "]\nstarttls: postgres\nsni: db.example\n";
  auto run = [&] {
    auto def = load_check(YAML::Load(yaml), "t.yaml", "checks[0]", CheckEnv{});
    RunContext ctx(5s);
    return run_guarded(*def.check, ctx);
  };
  Result plain = run();
  INFO(plain.summary);
  CHECK(plain.status == Status::kCritical);
  CHECK(plain.summary.find("PostgreSQL server does not offer SSL") != std::string::npos);

  pg.stop();
  const std::string data = pg.dir() + "/data";
  // The server refuses a key readable by others or owned by someone else: make it as the
  // server's user.
  const std::string as_pg = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
  REQUIRE(test::sh(as_pg +
                   "openssl req -x509 -newkey rsa:2048 -nodes -days 20 -subj /CN=db.example"
                   " -addext subjectAltName=DNS:db.example -keyout " +
                   data + "/server.key -out " + data + "/server.crt >/dev/null 2>&1") == 0);
  std::ofstream(data + "/postgresql.conf", std::ios::app)
      << "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n";
  pg.start();
  Result tls = run();
  INFO(tls.summary);
  CHECK(tls.status == Status::kWarning);  // 20 days left
  CHECK(std::regex_search(tls.summary, std::regex("expires in (19|20) days")));
  CHECK(tls.details["certificates"][0]["subject"] == "CN=db.example");
  CHECK(tls.details["certificates"][0]["hostname_match"] == true);
}
