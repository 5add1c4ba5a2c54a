// The collector's licence registry (model in licences.hpp): licences come in from `licence`
// check results (LicenceIntake) and from operators through the JSON API (LicenceApi):
//   GET  /api/v1/licences                 viewer+    every licence, fewest days left first
//   GET  /api/v1/licences/{id}            viewer+    one licence and its lifecycle events
//   POST /api/v1/licences                 operator+  {product, holder, expiry, host?, contract?,
//                                                     state?: applied|active}
//   POST /api/v1/licences/{id}/activate   operator+  {note?}
//   POST /api/v1/licences/{id}/renew      operator+  {expiry, contract?, note?}
//   POST /api/v1/licences/{id}/revoke     operator+  {note?}
// `expiry` is a date `2026-10-31` (valid through that day in the contract's time zone, as the
// licence check reads dates) or epoch milliseconds. Bad input is a 400 naming the field.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "xj/collector/http_types.hpp"
#include "xj/collector/store.hpp"

namespace xj {
namespace detail {
class TimeZone;
}

// What a licence check's result says about its licence; nullopt for other results and for
// runs that could not read the expiry.
std::optional<SeenLicence> seen_licence(const std::string& host, const Result& r);

// After each committed agent batch: licence check results into the registry. Only a licence
// seen for the first time, or one whose expiry or product changed, costs a write.
class LicenceIntake {
 public:
  explicit LicenceIntake(Store& store) : store_(store) {}
  void on_batch(const IngestBatch& batch);

 private:
  Store& store_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::pair<std::int64_t, std::string>> known_;
};

class LicenceApi {
 public:
  // `timezone`: the contract's zone, for dates typed without a time.
  static Expected<LicenceApi> create(Store& store, const std::string& timezone);

  // A request under /api/v1/licences by an authorised caller (`actor`, e.g. "api:alice");
  // the caller's role has been checked by Api (GET viewer, POST operator).
  HttpResponse operator()(const HttpRequest& request, const std::string& actor) const;

  // Pure, for tests: `expiry` as typed (date or epoch ms) -> UTC ms of the end of validity.
  Expected<std::int64_t> parse_expiry(const nlohmann::json& value) const;
  // The last valid local day of a licence ending at `expiry_ms`: "2026-10-31".
  std::string last_day(std::int64_t expiry_ms) const;

 private:
  LicenceApi(Store& store, std::shared_ptr<const detail::TimeZone> tz) : store_(&store), tz_(std::move(tz)) {}
  HttpResponse list() const;
  HttpResponse one(std::int64_t id) const;
  HttpResponse add(const nlohmann::json& body, const std::string& actor) const;
  HttpResponse change(std::int64_t id, const std::string& verb, const nlohmann::json& body,
                      const std::string& actor) const;
  nlohmann::json to_json(const LicenceRow& l) const;

  Store* store_;
  std::shared_ptr<const detail::TimeZone> tz_;
};

}  // namespace xj
