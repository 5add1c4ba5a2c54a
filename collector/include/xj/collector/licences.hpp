// The licence registry's model: the software licences a contract's systems run under, seen
// by `licence` checks on the agents or entered by an operator, and their lifecycle events
// 申请 applied / 激活 activated / 续期 renewed / 注销 revoked (plus `seen`: a licence check
// reported it first, or its expiry changed). Every event is also an entry of the SM3-chained
// audit log, written in the same transaction (Store::licence_*).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xj {

enum class LicenceState { kApplied, kActive, kRevoked };
std::string_view to_string(LicenceState s);
std::optional<LicenceState> parse_licence_state(std::string_view s);

// Lifecycle events. `seen` is what a licence check reports (first sight, or the expiry it
// reads moved): the registry records it, an operator did nothing.
enum class LicenceEventKind { kApplied, kActivated, kRenewed, kRevoked, kSeen };
std::string_view to_string(LicenceEventKind e);
std::string_view chinese_name(LicenceEventKind e);  // 申请, 激活, 续期, 注销, 检查发现

struct LicenceRow {
  std::int64_t id = 0;
  std::string product;
  std::string holder;          // the licensee
  std::string host;            // the host it is installed on; "" when not tied to one
  std::int64_t expiry_ms = 0;  // end of validity, UTC epoch ms
  std::string contract;        // the contract or order it was bought under
  std::string source;          // "check" or "operator"
  std::string check;           // source "check": the licence check's id on `host`
  LicenceState state = LicenceState::kActive;
  std::int64_t created_ms = 0, updated_ms = 0;
};

struct LicenceEvent {
  std::int64_t id = 0, licence = 0, ts_ms = 0;
  LicenceEventKind event = LicenceEventKind::kSeen;
  std::string actor;   // "api:alice", "agent:web-01"
  std::string detail;  // JSON: what changed
  std::int64_t audit_id = 0;
};

// What an operator's renew / revoke / activate brings along.
struct LicenceUpdate {
  std::optional<std::int64_t> expiry_ms;  // renew: required, after the current expiry
  std::string contract;                   // renew: replaces the contract when not empty
  std::string note;                       // why (kept in the event and the audit entry)
};

// What a licence operation can fail on, so the API can answer 404 / 409 / 500.
struct LicenceError {
  enum Kind { kNotFound, kConflict, kInvalid, kStore } kind = kStore;
  std::string field;  // kInvalid: the input field at fault
  std::string message;
};

// What a licence check's result says about its licence (from the result's details).
struct SeenLicence {
  std::string host, check, product;
  std::int64_t expiry_ms = 0;
};

}  // namespace xj
