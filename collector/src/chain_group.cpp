// The pure part of the chain view: what one member's result says, and the group's verdict.
#include <algorithm>
#include <cstdio>
#include <set>

#include "xj/collector/chain_view.hpp"
#include "xj/common/duration.hpp"

namespace xj {
namespace {

std::string node_name(const ChainMember& m) { return m.host + "/" + m.check; }

std::string short_hash(const std::string& h) { return h.size() > 12 ? h.substr(0, 12) + "…" : h; }

std::string ledger_text(const std::string& ledger) {
  if (ledger.empty()) return "";
  // {"channel":"mych"} -> " (channel mych)"
  auto j = nlohmann::json::parse(ledger, nullptr, false);
  std::string out;
  if (j.is_object()) {
    for (auto& [k, v] : j.items()) {
      out += (out.empty() ? "" : ", ") + k + " " + (v.is_string() ? v.get<std::string>() : v.dump());
    }
  }
  return " (" + out + ")";
}

Labels ledger_labels(const std::string& ledger) {
  Labels l;
  if (ledger.empty()) return l;
  auto j = nlohmann::json::parse(ledger, nullptr, false);
  if (!j.is_object()) return l;
  for (auto& [k, v] : j.items()) l[k] = v.is_string() ? v.get<std::string>() : v.dump();
  return l;
}

}  // namespace

bool is_chain_node_kind(const std::string& kind) {
  return kind == "ethereum" || kind == "fisco_bcos" || kind == "fabric" || kind == "chainmaker";
}

namespace {
// The scheduler puts a check's labels in details.labels when they differ from its agent's.
Labels result_labels(const Result& r, const Labels& agent_labels) {
  if (r.details.is_object()) {
    auto labels = r.details.find("labels");
    if (labels != r.details.end() && labels->is_object()) {
      Labels out;
      for (auto& [k, v] : labels->items()) {
        if (v.is_string()) out[k] = v.get<std::string>();
      }
      return out;
    }
  }
  return agent_labels;
}
}  // namespace

std::string chain_of(const Result& r, const Labels& agent_labels) {
  const Labels labels = result_labels(r, agent_labels);
  auto it = labels.find("chain");
  return it == labels.end() ? std::string() : it->second;
}

ChainMember chain_member_from(const std::string& host, const Result& r, const Labels& agent_labels,
                              const ChainMember* previous) {
  ChainMember m;
  m.labels = result_labels(r, agent_labels);
  m.host = host;
  m.check = r.check;
  m.kind = r.kind;
  m.status = r.status;
  m.summary = r.summary;
  m.ts_ms = r.ts_ms;
  if (previous != nullptr) {
    m.interval = previous->interval;
    m.interval.add_gap(r.ts_ms - previous->ts_ms);
  }
  bool down = false;
  for (const auto& metric : r.metrics) {
    if ((metric.name == "reachable" || metric.name == "healthy") && metric.value < 0.5) down = true;
    // ChainMaker's block_counter is, in older versions, a per-process count and not the
    // ledger height, so only block_number is compared between nodes.
    if (metric.name == "block_number" && metric.value >= 0) {
      std::string ledger;
      if (!metric.labels.empty()) ledger = nlohmann::json(metric.labels).dump();
      m.heights[ledger] = static_cast<std::int64_t>(metric.value);
    }
  }
  // A check that could not measure and gave no height leaves the group blind to this node.
  m.reachable = !down && !(r.status == Status::kUnknown && m.heights.empty());
  if (r.details.is_object()) {
    if (auto h = r.details.find("block_hash"); h != r.details.end() && h->is_string()) {
      m.block_hash = h->get<std::string>();
    }
  }
  return m;
}

Result evaluate_chain_group(const std::string& chain, const std::vector<ChainMember>& members,
                            std::int64_t now_ms, const ChainViewConfig& cfg) {
  Result r;
  r.check = "chain:" + chain;
  r.kind = ChainView::kKind;
  r.ts_ms = now_ms;
  r.status = Status::kOk;

  // Fresh members only: a member silent for stale_intervals of its interval is not judged on
  // an old height (it would show as lagging while it may be down, or be fine).
  std::vector<const ChainMember*> fresh, stale, unreachable;
  for (const auto& m : members) {
    const std::int64_t interval = m.interval.ms() > 0 ? m.interval.ms() : cfg.interval.count();
    if (now_ms - m.ts_ms > cfg.stale_intervals * interval) {
      stale.push_back(&m);
    } else if (!m.reachable) {
      unreachable.push_back(&m);
    } else {
      fresh.push_back(&m);
    }
  }

  std::map<std::string, std::int64_t> highest;  // per ledger
  for (const auto* m : fresh) {
    for (const auto& [ledger, h] : m->heights) {
      auto [it, added] = highest.emplace(ledger, h);
      if (!added) it->second = std::max(it->second, h);
    }
  }

  // Lags are whole blocks: "lag >= 10" is the Nagios range ~:9 (alert above 9).
  const Range lag_warn = Range::above(static_cast<double>(cfg.lag_warn - 1));
  const Range lag_crit = Range::above(static_cast<double>(cfg.lag_crit - 1));
  std::vector<std::string> problems;
  nlohmann::json nodes = nlohmann::json::array();
  std::int64_t max_lag = 0;
  for (const auto* m : fresh) {
    std::int64_t lag = 0;
    for (const auto& [ledger, h] : m->heights) lag = std::max(lag, highest[ledger] - h);
    max_lag = std::max(max_lag, lag);
    r.metrics.push_back({"lag_blocks", static_cast<double>(lag), "", {{"host", m->host}, {"check", m->check}},
                         lag_warn, lag_crit});
    if (lag >= cfg.lag_warn) {
      problems.push_back(node_name(*m) + " " + std::to_string(lag) + " blocks behind");
    }
    nodes.push_back({{"host", m->host}, {"check", m->check}, {"kind", m->kind}, {"state", "reporting"},
                     {"status", std::string(to_string(m->status))}, {"heights", m->heights},
                     {"lag", lag}, {"block_hash", m->block_hash}, {"ts", m->ts_ms}});
  }
  for (const auto* m : unreachable) {
    problems.push_back(node_name(*m) + " unreachable");
    nodes.push_back({{"host", m->host}, {"check", m->check}, {"kind", m->kind}, {"state", "unreachable"},
                     {"status", std::string(to_string(m->status))}, {"summary", m->summary},
                     {"ts", m->ts_ms}});
  }
  for (const auto* m : stale) {
    problems.push_back(node_name(*m) + " silent for " +
                       format_duration(std::chrono::milliseconds((now_ms - m->ts_ms) / 1000 * 1000)));
    nodes.push_back({{"host", m->host}, {"check", m->check}, {"kind", m->kind}, {"state", "silent"},
                     {"status", std::string(to_string(m->status))}, {"ts", m->ts_ms}});
  }

  // A fork: two fresh members at the same height of one ledger with different head hashes.
  // Only the head hash is known, so nodes at different heights cannot be compared.
  nlohmann::json forks = nlohmann::json::array();
  {
    std::map<std::pair<std::string, std::int64_t>, std::map<std::string, std::vector<std::string>>> seen;
    for (const auto* m : fresh) {
      if (m->block_hash.empty()) continue;
      for (const auto& [ledger, h] : m->heights) seen[{ledger, h}][m->block_hash].push_back(node_name(*m));
    }
    for (const auto& [at, by_hash] : seen) {
      if (by_hash.size() < 2) continue;
      std::string text = "fork at height " + std::to_string(at.second) + ledger_text(at.first) + ":";
      nlohmann::json hashes = nlohmann::json::object();
      bool first = true;
      for (const auto& [hash, names] : by_hash) {
        std::string who;
        for (const auto& n : names) who += (who.empty() ? "" : ", ") + n;
        text += std::string(first ? " " : "; ") + short_hash(hash) + " on " + who;
        hashes[hash] = names;
        first = false;
      }
      problems.insert(problems.begin(), text);
      forks.push_back({{"height", at.second}, {"ledger", ledger_labels(at.first)}, {"hashes", hashes}});
    }
  }

  const std::size_t total = members.size();
  const std::size_t missing = unreachable.size() + stale.size();
  r.metrics.push_back({"nodes", static_cast<double>(total), "", {}, std::nullopt, std::nullopt});
  r.metrics.push_back({"nodes_reporting", static_cast<double>(fresh.size()), "", {}, std::nullopt, std::nullopt});
  r.metrics.push_back({"nodes_unreachable", static_cast<double>(unreachable.size()), "", {}, std::nullopt, std::nullopt});
  r.metrics.push_back({"nodes_silent", static_cast<double>(stale.size()), "", {}, std::nullopt, std::nullopt});
  for (const auto& [ledger, h] : highest) {
    r.metrics.push_back({"height", static_cast<double>(h), "", ledger_labels(ledger), std::nullopt, std::nullopt});
  }
  r.metrics.push_back({"max_lag_blocks", static_cast<double>(max_lag), "", {}, lag_warn, lag_crit});
  r.metrics.push_back({"forks", static_cast<double>(forks.size()), "", {}, std::nullopt, Range::above(0)});

  r.status = r.metrics_status();
  // Nodes we cannot see: a warning while the ones reporting are still a majority of the
  // group (a BFT or PoA chain keeps going), critical once they are not.
  if (missing > 0) r.status = worst(r.status, fresh.size() * 2 > total ? Status::kWarning : Status::kCritical);

  std::string text = "chain " + chain + ": " + std::to_string(total) + (total == 1 ? " node" : " nodes");
  if (missing > 0) text += " (" + std::to_string(fresh.size()) + " reporting)";
  if (highest.size() == 1) {
    text += ", height " + std::to_string(highest.begin()->second);
  } else {
    for (const auto& [ledger, h] : highest) text += ", height " + std::to_string(h) + ledger_text(ledger);
  }
  if (!fresh.empty()) text += ", max lag " + std::to_string(max_lag);
  r.summary = text;
  for (const auto& p : problems) r.summary += "; " + p;
  // The labels every member shares (the chain's system, ...), and the chain in any case.
  Labels common = members.empty() ? Labels{} : members.front().labels;
  for (const auto& m : members) {
    for (auto it = common.begin(); it != common.end();) {
      auto other = m.labels.find(it->first);
      it = other == m.labels.end() || other->second != it->second ? common.erase(it) : std::next(it);
    }
  }
  common["chain"] = chain;
  r.details = {{"labels", common}, {"nodes", std::move(nodes)}, {"forks", std::move(forks)},
               {"lag_warn", cfg.lag_warn}, {"lag_crit", cfg.lag_crit}};
  return r;
}

}  // namespace xj
