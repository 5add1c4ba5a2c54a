#include "xj/collector/collector_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cmath>
#include <map>
#include <set>

namespace xj {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::string prometheus_label_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9');
    out += ok ? c : '_';
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out = "_" + out;
  if (out.rfind("__", 0) == 0) out = "x" + out;  // names starting with __ are reserved
  return out;
}

CollectorMetrics::CollectorMetrics(Store& store)
    : store_(store), registry_(std::make_shared<prometheus::Registry>()) {
  auto& results = prometheus::BuildCounter()
                      .Name("xunjian_ingest_results_total")
                      .Help("Results received from agents, by outcome")
                      .Register(*registry_);
  accepted_ = &results.Add({{"outcome", "accepted"}});
  duplicates_ = &results.Add({{"outcome", "duplicate"}});
  batches_ = &prometheus::BuildCounter()
                  .Name("xunjian_ingest_batches_total")
                  .Help("Batches committed to the store")
                  .Register(*registry_)
                  .Add({});
  rejects_ = &prometheus::BuildCounter()
                  .Name("xunjian_http_rejected_total")
                  .Help("Requests rejected, by reason")
                  .Register(*registry_);
  commit_ = &prometheus::BuildHistogram()
                 .Name("xunjian_ingest_commit_seconds")
                 .Help("Time to commit one batch to the store")
                 .Register(*registry_)
                 .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                                  0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
  alert_send_failures_ = &prometheus::BuildCounter()
                              .Name("xunjian_alert_send_failures_total")
                              .Help("Failed attempts to deliver an alert message, by channel and whether it was the last")
                              .Register(*registry_);
  alert_store_errors_ = &prometheus::BuildCounter()
                             .Name("xunjian_alert_store_errors_total")
                             .Help("Alert state changes the store could not commit (their messages are lost)")
                             .Register(*registry_)
                             .Add({});
  ssh_rounds_ = &prometheus::BuildCounter()
                     .Name("xunjian_ssh_rounds_total")
                     .Help("Rounds of agentless SSH targets, by target and outcome (connected, "
                           "unreachable, host_key, auth, local)")
                     .Register(*registry_);
}

CollectorMetrics::~CollectorMetrics() = default;

void CollectorMetrics::count_alert_send_failure(const std::string& channel, bool gave_up) {
  alert_send_failures_->Add({{"channel", channel}, {"final", gave_up ? "true" : "false"}}).Increment();
}

void CollectorMetrics::count_alert_store_error() { alert_store_errors_->Increment(); }

void CollectorMetrics::count_ssh_round(const std::string& target, const std::string& outcome) {
  ssh_rounds_->Add({{"target", target}, {"outcome", outcome}}).Increment();
}

void CollectorMetrics::count_results(std::size_t accepted, std::size_t duplicates) {
  accepted_->Increment(static_cast<double>(accepted));
  duplicates_->Increment(static_cast<double>(duplicates));
  batches_->Increment();
}

void CollectorMetrics::count_reject(const std::string& reason) {
  rejects_->Add({{"reason", reason}}).Increment();
}

void CollectorMetrics::observe_commit(double seconds) { commit_->Observe(seconds); }

namespace {

MetricFamily gauge_family(const std::string& name, const std::string& help) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = MetricType::Gauge;
  return f;
}

void add_gauge(MetricFamily& f, std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

// Adds labels from `extra` unless the name is taken; reserved names get an "exported_" prefix.
void merge_labels(std::vector<ClientMetric::Label>& out, const Labels& extra) {
  static const std::set<std::string> reserved{"host", "check", "kind", "metric", "unit", "job", "instance"};
  for (const auto& [k, v] : extra) {
    std::string name = prometheus_label_name(k);
    if (reserved.count(name)) name = "exported_" + name;
    bool taken = false;
    for (const auto& l : out) taken = taken || l.name == name;
    if (!taken) out.push_back({name, v});
  }
}

}  // namespace

std::string CollectorMetrics::render() {
  std::vector<MetricFamily> families = registry_->Collect();

  auto size = gauge_family("xunjian_store_size_bytes", "Size of the store on disk (database and WAL)");
  add_gauge(size, {}, static_cast<double>(store_.size_bytes()));
  families.push_back(std::move(size));

  std::map<std::string, Labels> host_labels;
  auto hosts = store_.hosts();
  auto up = gauge_family("xunjian_host_up", "1 while the host's agent is in contact (host:alive ok)");
  std::size_t n_up = 0, n_down = 0;
  std::map<std::string, bool> alive;
  auto checks = store_.checks({});
  for (const auto& c : checks) {
    if (c.check == "host:alive") alive[c.host] = c.status == Status::kOk;
  }
  for (const auto& h : hosts) {
    host_labels[h.agent.id] = h.agent.labels;
    bool is_up = alive.count(h.agent.id) ? alive[h.agent.id] : true;
    (is_up ? n_up : n_down)++;
    std::vector<ClientMetric::Label> labels{{"host", h.agent.id}};
    merge_labels(labels, h.agent.labels);
    add_gauge(up, std::move(labels), is_up ? 1 : 0);
  }
  families.push_back(std::move(up));
  auto count = gauge_family("xunjian_hosts", "Hosts known to the collector, by state");
  add_gauge(count, {{"state", "up"}}, static_cast<double>(n_up));
  add_gauge(count, {{"state", "down"}}, static_cast<double>(n_down));
  families.push_back(std::move(count));

  auto status = gauge_family("xunjian_check_status", "Current status of each check: 0 ok, 1 warning, 2 critical, 3 unknown");
  auto metric = gauge_family("xunjian_check_metric", "Latest value of each check metric");
  for (const auto& c : checks) {
    std::vector<ClientMetric::Label> base{{"host", c.host}, {"check", c.check}, {"kind", c.kind}};
    auto with_host = base;
    merge_labels(with_host, host_labels[c.host]);
    add_gauge(status, with_host, code_of(c.status));
    for (const auto& m : c.metrics) {
      if (!std::isfinite(m.value)) continue;
      std::vector<ClientMetric::Label> labels = base;
      labels.push_back({"metric", m.name});
      if (!m.unit.empty()) labels.push_back({"unit", m.unit});
      merge_labels(labels, m.labels);
      merge_labels(labels, host_labels[c.host]);
      add_gauge(metric, std::move(labels), m.value);
    }
  }
  families.push_back(std::move(status));
  families.push_back(std::move(metric));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace xj
