#include <catch2/catch.hpp>

#include "xj/checks/registry.hpp"
#include "xj/common/config_error.hpp"

using namespace xj;

static CheckDefinition load(const std::string& yaml) {
  YAML::Node n = YAML::Load(yaml);
  return load_check(n, "agent.yaml", "checks[0]", CheckEnv{});
}

static std::string load_error(const std::string& yaml) {
  try {
    load(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST_CASE("an unknown key is rejected with the allowed keys listed", "[options]") {
  std::string e = load_error("kind: load\ntreshold: 3\n");
  CHECK(e.find("agent.yaml:2: checks[0] (load): unknown key 'treshold'; allowed: warn, crit") == 0);
  CHECK(e.find("interval") != std::string::npos);
}

TEST_CASE("a value of the wrong type names its key and line", "[options]") {
  std::string e = load_error("kind: load\n\nwarn: lots\n");
  CHECK(e.find("agent.yaml:3: checks[0] (load): key 'warn'") == 0);
  e = load_error("kind: load\ninterval: soon\n");
  CHECK(e.find("agent.yaml:2: checks[0] (load): key 'interval'") == 0);
}

TEST_CASE("an unknown kind lists the known kinds", "[options]") {
  std::string e = load_error("kind: lod\n");
  CHECK(e.find("agent.yaml:1: checks[0]: key 'kind': unknown check kind 'lod'; known: ") == 0);
  CHECK(e.find("load") != std::string::npos);
}

TEST_CASE("defaults apply and common keys are read", "[options]") {
  CheckDefinition d = load("kind: load\ninterval: 30s\nlabels: {role: db}\n");
  CHECK(d.check->id() == "load");
  CHECK(d.interval == std::chrono::seconds(30));
  CHECK_FALSE(d.timeout.has_value());
  CHECK(d.labels.at("role") == "db");
  CHECK(d.enabled);
  CheckDefinition named = load("kind: load\nid: load-main\nenabled: false\n");
  CHECK(named.check->id() == "load-main");
  CHECK_FALSE(named.enabled);
}

TEST_CASE("the generated check documentation lists every kind and key", "[options]") {
  std::string md = checks_markdown();
  for (const auto& spec : check_registry()) {
    CHECK(md.find("## `" + spec.kind + "`") != std::string::npos);
    for (const auto& k : spec.keys) CHECK(md.find("`" + k.name + "`") != std::string::npos);
  }
}

TEST_CASE("a chain-node check's chain key becomes its chain label, and a contradicting label is refused",
          "[options]") {
  CheckDefinition d = load("kind: ethereum\nurl: http://127.0.0.1:8545\nchain: evidence\nlabels: {role: node}\n");
  CHECK(d.labels.at("chain") == "evidence");
  CHECK(d.labels.at("role") == "node");
  CHECK(load("kind: fisco_bcos\nurl: http://127.0.0.1:8545\nlabels: {chain: evidence}\nchain: evidence\n")
            .labels.at("chain") == "evidence");
  std::string e = load_error("kind: ethereum\nurl: http://127.0.0.1:8545\nlabels: {chain: a}\nchain: b\n");
  CHECK(e.find("agent.yaml:4: checks[0] (ethereum): key 'chain': 'b' contradicts labels.chain 'a'") == 0);
  e = load_error("kind: chainmaker\nurl: http://127.0.0.1:14321/metrics\nchain: ''\n");
  CHECK(e.find("key 'chain': must not be empty") != std::string::npos);
  // Kinds that are not chain nodes have no such key.
  CHECK(load_error("kind: load\nchain: x\n").find("unknown key 'chain'") != std::string::npos);
}
