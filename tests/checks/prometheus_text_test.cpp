// The Prometheus text-format parser on exposition text of the shapes nodes send.
#include "xj/checks/prometheus_text.hpp"

#include <catch2/catch.hpp>
#include <cmath>

using namespace xj;

TEST_CASE("samples are read with their labels, comments and timestamps skipped", "[prometheus]") {
  const std::string text =
      "# HELP ledger_blockchain_height Height of the chain in blocks.\n"
      "# TYPE ledger_blockchain_height gauge\n"
      "ledger_blockchain_height{channel=\"mychannel\"} 42\n"
      "ledger_blockchain_height{channel=\"other\",extra=\"a b\"} 7 1700000000000\n"
      "\n"
      "process_start_time_seconds 1.7e+09\r\n"
      "  go_gc_duration_seconds{quantile=\"0.5\",} 0.000123\n";
  auto s = parse_prometheus_text(text);
  REQUIRE(s);
  REQUIRE(s->size() == 4);
  CHECK((*s)[0].name == "ledger_blockchain_height");
  CHECK((*s)[0].labels.at("channel") == "mychannel");
  CHECK((*s)[0].value == 42);
  CHECK((*s)[1].labels.at("extra") == "a b");
  CHECK((*s)[1].value == 7);
  CHECK((*s)[2].value == 1.7e9);
  CHECK((*s)[3].labels.at("quantile") == "0.5");
  CHECK(find_samples(*s, "ledger_blockchain_height").size() == 2);
}

TEST_CASE("escaped label values and special values are understood", "[prometheus]") {
  auto s = parse_prometheus_text(
      "m{path=\"C:\\\\dir\",msg=\"say \\\"hi\\\"\\nbye\"} NaN\nup +Inf\ndown -Inf\n");
  REQUIRE(s);
  CHECK((*s)[0].labels.at("path") == "C:\\dir");
  CHECK((*s)[0].labels.at("msg") == "say \"hi\"\nbye");
  CHECK(std::isnan((*s)[0].value));
  CHECK(std::isinf((*s)[1].value));
  CHECK((*s)[2].value < 0);
}

TEST_CASE("a malformed line is an error naming its number", "[prometheus]") {
  CHECK(parse_prometheus_text("ok 1\nbad{a=\"x} 2\n").error() ==
        "metrics line 2: label a value is not closed");
  CHECK(parse_prometheus_text("x abc\n").error().find("'abc' is not a value") != std::string::npos);
  CHECK(parse_prometheus_text("{a=\"b\"} 1\n").error().find("no metric name") != std::string::npos);
  CHECK(parse_prometheus_text("")->empty());
}
