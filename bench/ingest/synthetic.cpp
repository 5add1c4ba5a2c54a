#include "synthetic.hpp"

#include <array>
#include <charconv>
#include <cstdio>

namespace xj::bench {
namespace {

// A cheap stable hash so values wander between rounds without a random generator's state.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

double wander(std::uint64_t h, double lo, double hi) {
  return lo + (hi - lo) * static_cast<double>(h % 10'000) / 10'000.0;
}

void append_number(std::string& out, std::int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

void append_number(std::string& out, double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

// JSON string escaping for the few characters that need it; the generator's own strings are
// plain, but the summary and labels pass through here so the body is always valid JSON.
void append_string(std::string& out, const std::string& s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out.append(buf);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

Metric metric(std::string name, double value, std::string unit, const char* warn = nullptr,
              const char* crit = nullptr) {
  Metric m;
  m.name = std::move(name);
  m.value = value;
  m.unit = std::move(unit);
  if (warn != nullptr) m.warn = *Range::parse_nagios(warn);
  if (crit != nullptr) m.crit = *Range::parse_nagios(crit);
  return m;
}

}  // namespace

std::string agent_id(std::size_t agent) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "bench-%05zu", agent);
  return buf;
}

Result make_result(std::size_t agent, std::size_t check, std::uint64_t round, std::int64_t ts_ms) {
  const std::uint64_t h = mix((static_cast<std::uint64_t>(agent) << 40) ^ (check << 20) ^ round);
  const bool warn = h % 100 == 0;
  Result r;
  r.ts_ms = ts_ms;
  r.duration_ms = static_cast<std::int64_t>(h % 40);
  // Seven kinds, the profile of the footprint benchmark: host checks first, then the
  // per-service process / port / http checks that make up most of a real config.
  switch (check < 4 ? check : 4 + check % 3) {
    case 0: {
      double used = warn ? 86.5 : wander(h, 40, 75);
      r.check = "disk:/data";
      r.kind = "disk";
      r.metrics = {metric("used_pct", used, "%", "~:80", "~:90"),
                   metric("inodes_used_pct", wander(h >> 8, 1, 10), "%", "~:80", "~:90"),
                   metric("free_bytes", wander(h >> 16, 1e10, 9e10), "B")};
      for (auto& m : r.metrics) m.labels = {{"mount", "/data"}};
      char pct[32];
      std::snprintf(pct, sizeof pct, "%.1f%%", used);
      r.summary = std::string("磁盘 /data 已用 ") + pct;
      break;
    }
    case 1:
      r.check = "cpu";
      r.kind = "cpu";
      r.metrics = {metric("used_pct", warn ? 93 : wander(h, 5, 60), "%", "~:85", "~:95")};
      r.summary = "CPU 使用率正常";
      break;
    case 2:
      r.check = "memory";
      r.kind = "memory";
      r.metrics = {metric("used_pct", warn ? 91 : wander(h, 30, 70), "%", "~:85", "~:95"),
                   metric("available_bytes", wander(h >> 8, 2e9, 8e9), "B")};
      r.summary = "内存使用率正常";
      break;
    case 3:
      r.check = "load";
      r.kind = "load";
      r.metrics = {metric("load1", wander(h, 0.1, 2), "", "~:4", "~:8"),
                   metric("load5", wander(h >> 8, 0.1, 2), "", "~:4", "~:8"),
                   metric("load15", wander(h >> 16, 0.1, 2), "", "~:4", "~:8")};
      if (warn) r.metrics[0].value = 5.5;
      r.summary = "load 正常";
      break;
    case 4:
      r.check = "process:app-" + std::to_string(check);
      r.kind = "process";
      r.metrics = {metric("count", warn ? 0 : 2, "", "1:", "1:")};
      r.summary = warn ? "进程 app-" + std::to_string(check) + " 未运行"
                       : "进程 app-" + std::to_string(check) + " 运行中 (2)";
      break;
    case 5:
      r.check = "port:127.0.0.1:" + std::to_string(8000 + check);
      r.kind = "port";
      r.metrics = {metric("connect_ms", warn ? 1200 : wander(h, 0.1, 3), "ms", "~:1000")};
      r.summary = "端口 " + std::to_string(8000 + check) + " 可连接";
      break;
    default:
      r.check = "http:svc-" + std::to_string(check);
      r.kind = "http";
      r.metrics = {metric("latency_ms", warn ? 2500 : wander(h, 2, 80), "ms", "~:2000", "~:5000"),
                   metric("status_code", 200, "")};
      r.summary = "HTTP 200 OK";
      r.details = {{"url", "http://127.0.0.1:" + std::to_string(9000 + check) + "/health"}};
      break;
  }
  r.status = r.metrics_status();
  return r;
}

void append_wire_result(std::string& out, const Result& r, std::int64_t seq) {
  out += "{\"seq\":";
  append_number(out, seq);
  out += ",\"check\":";
  append_string(out, r.check);
  out += ",\"kind\":";
  append_string(out, r.kind);
  out += ",\"status\":\"";
  out += to_string(r.status);
  out += "\",\"summary\":";
  append_string(out, r.summary);
  out += ",\"metrics\":[";
  for (std::size_t i = 0; i < r.metrics.size(); ++i) {
    const Metric& m = r.metrics[i];
    if (i > 0) out.push_back(',');
    out += "{\"name\":";
    append_string(out, m.name);
    out += ",\"value\":";
    append_number(out, m.value);
    out += ",\"unit\":";
    append_string(out, m.unit);
    if (!m.labels.empty()) {
      out += ",\"labels\":{";
      bool first = true;
      for (const auto& [k, v] : m.labels) {
        if (!first) out.push_back(',');
        first = false;
        append_string(out, k);
        out.push_back(':');
        append_string(out, v);
      }
      out.push_back('}');
    }
    if (m.warn) {
      out += ",\"warn\":";
      append_string(out, m.warn->str());
    }
    if (m.crit) {
      out += ",\"crit\":";
      append_string(out, m.crit->str());
    }
    out.push_back('}');
  }
  out += "],\"ts\":";
  append_number(out, r.ts_ms);
  out += ",\"duration_ms\":";
  append_number(out, r.duration_ms);
  out += ",\"details\":";
  out += r.details.is_object() && !r.details.empty() ? r.details.dump() : "{}";
  out.push_back('}');
}

void append_wire_agent(std::string& out, std::size_t agent) {
  const std::string id = agent_id(agent);
  out += "{\"id\":\"" + id + "\",\"hostname\":\"" + id + ".bench.local\",\"version\":\"" +
         XJ_VERSION + "\",\"labels\":{\"system\":\"区块链存证平台\",\"role\":\"" +
         (agent % 4 == 0 ? "db" : "app") + "\"}}";
}

}  // namespace xj::bench
