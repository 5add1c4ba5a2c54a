// ingest_tokens: creates one agent token per simulated agent straight through the Store API,
// and writes "agent_id token" lines for the load generator. `xunjian-collector token create`
// does the same one agent per process and per fsync; for 10,000 agents that takes minutes,
// so the benchmark uses this helper on the fresh store before the collector starts.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "synthetic.hpp"
#include "xj/collector/sqlite_store.hpp"
#include "xj/collector/tokens.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: ingest_tokens STORE AGENTS OUT_FILE\n"
                 "  creates tokens for agents bench-00000 .. bench-(AGENTS-1) in STORE\n";
    return 2;
  }
  const std::string store_path = argv[1];
  const long agents = std::strtol(argv[2], nullptr, 10);
  if (agents <= 0) {
    std::cerr << "ingest_tokens: AGENTS must be a positive number\n";
    return 2;
  }
  xj::SqliteStoreOptions options;
  // Setup only, not measured: no fsync per token (WAL with synchronous=NORMAL still commits
  // atomically; a crash here just means running the benchmark again).
  options.durable = false;
  auto store = xj::open_sqlite_store(store_path, options);
  if (!store) {
    std::cerr << "ingest_tokens: " << store.error() << "\n";
    return 1;
  }
  std::ofstream out(argv[3]);
  for (long i = 0; i < agents; ++i) {
    const std::string id = xj::bench::agent_id(static_cast<std::size_t>(i));
    const std::string token = xj::generate_token(xj::TokenKind::kAgent);
    auto created = (*store)->create_token(id, std::nullopt, xj::token_hash(token));
    if (!created) {
      std::cerr << "ingest_tokens: " << created.error() << "\n";
      return 1;
    }
    out << id << ' ' << token << '\n';
  }
  out.close();
  if (!out) {
    std::cerr << "ingest_tokens: cannot write " << argv[3] << "\n";
    return 1;
  }
  return 0;
}
