// The view of a Report for the templates: every figure formatted, every label in the report's
// locale (strings from templates/reports/<locale>.json), charts as SVG text.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "xj/common/expected.hpp"
#include "xj/reports/report_model.hpp"

namespace xj::reports::detail {

class Strings {
 public:
  static Expected<Strings> load(const std::string& locale);
  // The string for `key` with "{v}", "{host}", "{target}" filled in; the key itself if missing.
  std::string get(const std::string& key, const std::string& v = "", const std::string& host = "",
                  const std::string& target = "") const;
  const nlohmann::json& all() const { return j_; }

 private:
  nlohmann::json j_;
};

std::string fmt(double v, int decimals);
std::string fmt_pct(std::optional<double> v, int decimals);  // "99.798%" or "—"

nlohmann::json make_view(const Report& r, const Strings& s, bool charts);

}  // namespace xj::reports::detail
