#include <malloc.h>

#include <cstdlib>

#include "xj/agent/cli.hpp"

int main(int argc, char** argv) {
  // One malloc arena for every thread, unless the operator set MALLOC_ARENA_MAX. glibc's
  // default gives each thread that allocates its own arena (up to 8 per core), each keeping
  // its freed chunks resident: about 0.4 MiB for the agent's few threads, which allocate
  // little and rarely, on a 10 MiB budget (docs/benchmarks.md, "agent footprint").
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 1);
  return xj::agent_main(argc, argv);
}
