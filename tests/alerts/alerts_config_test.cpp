// The alerts: section of collector.yaml: defaults, secrets only from files or the environment,
// and errors that name file, line and key.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <yaml-cpp/yaml.h>

#include "xj/alerts/alerts_config.hpp"
#include "xj/common/config_error.hpp"
#include "xj/common/config_section.hpp"

using namespace xj;
using namespace xj::alerts;

namespace {

AlertsConfig parse(const std::string& yaml) {
  YAML::Node root = YAML::Load(yaml);
  return parse_alerts_config(ConfigSection(root, "collector.yaml", "").section("alerts"));
}

std::string error_of(const std::string& yaml) {
  try {
    parse(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("no alerts section means alerting is off") {
  CHECK_FALSE(parse("collector: {}\n").enabled);
}

TEST_CASE("rule timings default to 0 for critical and host down and 2m for warning") {
  ::setenv("XJ_CFG_TEST_KEY", "k-123", 1);
  auto c = parse("alerts:\n  channels:\n    - {name: ops, type: wecom, key_env: XJ_CFG_TEST_KEY}\n");
  CHECK(c.enabled);
  CHECK(c.rules.for_critical.count() == 0);
  CHECK(c.rules.for_host_down.count() == 0);
  CHECK(c.rules.for_warning == std::chrono::minutes(2));
  CHECK(c.rules.no_data_intervals == 3);
  REQUIRE(c.channels.size() == 1);
  CHECK(c.channels[0].key == "k-123");
  CHECK(c.channels[0].rate_per_minute == 20);
}

TEST_CASE("channel secrets are read from a file") {
  ::setenv("XJ_CFG_TEST_KEY", "k-123", 1);  // ctest runs each case alone: set what it reads
  auto file = std::filesystem::temp_directory_path() / ("xj-secret-" + std::to_string(::getpid()));
  std::ofstream(file) << "SECabc  \n";
  auto c = parse("alerts:\n  channels:\n    - name: ding\n      type: dingtalk\n      key_env: XJ_CFG_TEST_KEY\n"
                 "      secret_file: " + file.string() + "\n");
  CHECK(c.channels.at(0).secret == "SECabc");
  std::filesystem::remove(file);
}

TEST_CASE("a secret written inline is refused, naming file, line and key") {
  auto e = error_of("alerts:\n  channels:\n    - name: ops\n      type: wecom\n      key: abc\n");
  CHECK_THAT(e, Catch::StartsWith("collector.yaml:5: alerts.channels[0]: key 'key'"));
  CHECK_THAT(e, Catch::Contains("key_file"));
}

TEST_CASE("an unknown channel type and an unknown key are errors with their line") {
  CHECK_THAT(error_of("alerts:\n  channels:\n    - {name: x, type: dingding}\n"),
             Catch::Contains("collector.yaml:3: alerts.channels[0]: key 'type': 'dingding' is not one of"));
  CHECK_THAT(error_of("alerts:\n  for_warnin: 2m\n"),
             Catch::Contains("collector.yaml:2: alerts: unknown key 'for_warnin'"));
}

TEST_CASE("a route must name configured channels and real severities") {
  ::setenv("XJ_CFG_TEST_KEY", "k", 1);
  const std::string chans = "alerts:\n  channels:\n    - {name: ops, type: wecom, key_env: XJ_CFG_TEST_KEY}\n";
  CHECK_THAT(error_of(chans + "  routes:\n    - {severity: [critical], channels: [sms]}\n"),
             Catch::Contains("no channel named 'sms'"));
  CHECK_THAT(error_of(chans + "  routes:\n    - {severity: [ok], channels: [ops]}\n"),
             Catch::Contains("'ok' is not one of critical, warning, unknown"));
  auto c = parse(chans + "  routes:\n    - {severity: [critical, warning], channels: [ops]}\n");
  REQUIRE(c.routes.size() == 1);
  CHECK(c.routes[0].severities.count(Status::kCritical) == 1);
  CHECK(c.routes[0].severities.count(Status::kUnknown) == 0);
}
