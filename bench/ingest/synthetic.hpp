// The simulated fleet of the ingest benchmark: N agents x M checks, each check producing the
// kind of result a real agent sends (disk, cpu, memory, load, process, port, http), with
// thresholds, labels and a one-line summary. Shared by the HTTP load generator and the raw
// SQLite program so both store rows of the same shape and size.
#pragma once

#include <cstdint>
#include <string>

#include "xj/checks/result.hpp"

namespace xj::bench {

// "bench-00042": agent ids are fixed by index so tokens, load and checks agree.
std::string agent_id(std::size_t agent);

// The result of check `check` of agent `agent` in its round `round`, taken at `ts_ms`.
// Deterministic: about 1 % of results are warnings, so status changes are written too.
Result make_result(std::size_t agent, std::size_t check, std::uint64_t round, std::int64_t ts_ms);

// Most metrics any check of the fleet carries (ids of metric series are laid out with it).
constexpr std::size_t kMaxMetricsPerCheck = 3;

// Appends the wire form of `r` with its spool `seq` ({"seq":..,"check":..,...}) to `out`.
// Hand-written rather than nlohmann::json::dump: the generator shares two cores with the
// collector, so every microsecond it spends is one the collector does not get.
void append_wire_result(std::string& out, const Result& r, std::int64_t seq);

// Appends the "agent" object of the batch body for `agent`.
void append_wire_agent(std::string& out, std::size_t agent);

}  // namespace xj::bench
