// AlertPipeline: what the collector calls after each committed batch. Results go through the
// rule engine; each state change and the messages it causes (rendered, routed, split to the
// channel's byte limit) are committed to the AlertStore in one transaction, together with the
// incidents they open or change (IncidentTracker); the sender is then woken. Operator actions
// on incidents come through here too, so an incident number is given exactly once.
// Thread-safe: ingest threads, API threads and the tick thread share one engine under a mutex.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "xj/alerts/alert_store.hpp"
#include "xj/alerts/alerts_config.hpp"
#include "xj/alerts/incident_tracker.hpp"
#include "xj/alerts/rule_engine.hpp"

namespace xj::alerts {

class AlertPipeline {
 public:
  using Clock = std::function<std::int64_t()>;
  // Per channel name, the recipients (phone numbers, addresses) one message goes to instead of
  // that personal channel's static `to:` list. Routing passes it; without it the static lists
  // apply. Robots ignore it (they post to their group).
  using Recipients = std::map<std::string, std::vector<std::string>>;
  // The text of one message in a channel's locale and style.
  using Render = std::function<std::string(const MessageContext&)>;
  // max_text_bytes: per channel name, the longest text it takes (Channel::max_text_bytes).
  AlertPipeline(AlertStore& store, AlertsConfig config,
                std::map<std::string, std::size_t> max_text_bytes, Clock clock);

  // Loads the active alerts from the store (call once, before the first result).
  void restore();
  // Results of one committed batch of a host. Returns the messages enqueued.
  std::size_t on_results(const Subject& subject, const std::vector<Result>& results);
  // Alerts from another system (Alertmanager). Returns the messages enqueued.
  std::size_t on_external(const std::vector<ExternalAlert>& alerts);
  // No-data detection and incident deadlines; call every few seconds.
  std::size_t tick();

  // Operator actions on incident `id` (ack, note, resolve, close), committed before the
  // tracker takes the new state. 404 for an unknown number, 409 for a state that forbids it.
  Expected<Incident, ActionError> act(std::int64_t id, const IncidentAction& action);
  // An incident an operator opens (no alert behind it); its people are notified.
  Expected<Incident, ActionError> open_incident(const NewIncident& n);

  // Silences and maintenance windows: stored, then in force at once. Ending one releases the
  // suppressed firing messages of alerts that still fire (at the next tick).
  Expected<Silence, ActionError> add_silence(Silence s);
  Expected<Silence, ActionError> end_silence(std::int64_t id);
  std::vector<Silence> silences();
  // Called after messages were committed (wakes the sender).
  void set_on_enqueued(std::function<void()> f) { on_enqueued_ = std::move(f); }
  // Called when a commit to the store failed (a counter in /metrics).
  void set_on_store_error(std::function<void()> f) { on_store_error_ = std::move(f); }

  std::vector<Alert> active();

 private:
  std::size_t apply(const std::vector<AlertEvent>& events, std::vector<IncidentNotice> notices,
                    IncidentChanges changes);
  // Where the messages of an alert episode go: its routes as they matched when it fired (now
  // for one not fired yet), people resolved then, so a restart resolves the same deliveries.
  std::vector<Delivery> deliveries_for(const Alert& a, std::int64_t now) const;
  std::vector<Delivery> incident_deliveries(std::int64_t now) const;
  // Escalation levels due for firing alerts nobody acknowledged.
  std::size_t escalate_unacknowledged(std::int64_t now);
  // The active silence or maintenance window that mutes `a` now, if any.
  const Silence* muting(const Alert& a, std::int64_t now, bool maintenance_only) const;
  std::size_t release_unmuted(std::int64_t now);
  // Reminders of firing alerts nobody acknowledged, every repeat_interval.
  std::size_t repeat_unacknowledged(std::int64_t now);
  // One outbox message per channel, recipient and part; the text rendered once per locale
  // and style the channels want.
  void enqueue(std::vector<OutboxMessage>& out, const Render& render,
               const std::map<std::string, std::string>& fields, const std::string& subject,
               std::int64_t since, const std::string& transition, const std::vector<Delivery>& deliveries,
               std::int64_t now, const Recipients* recipients = nullptr) const;

  AlertStore& store_;
  AlertsConfig cfg_;
  std::map<std::string, std::size_t> max_bytes_;
  Clock clock_;
  std::mutex mu_;
  RuleEngine engine_;
  IncidentTracker incidents_;
  std::vector<Silence> silences_;
  std::set<std::pair<std::string, std::int64_t>> suppressed_;  // firing messages not sent
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> repeats_;  // reminders enqueued
  Routing routing_;
  std::set<std::string> escalated_;  // "<fingerprint>/<since>/<route>/<level>" enqueued
  std::function<void()> on_enqueued_;
  std::function<void()> on_store_error_;
};

}  // namespace xj::alerts
