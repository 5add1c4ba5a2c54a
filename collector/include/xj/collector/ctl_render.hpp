// xunjianctl's tables: the collector's JSON answers (GET /api/v1/hosts, /hosts/{id},
// /checks, /series, /licences) as aligned text, times in the contract zone. Pure functions of the JSON,
// so the layout is tested without a collector. A field missing or of the wrong type shows
// as empty rather than aborting: the operator still sees the rest.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "xj/collector/ctl_time.hpp"

namespace xj {

std::string render_hosts(const nlohmann::json& answer, const ContractZone& zone);
std::string render_host(const nlohmann::json& answer, const ContractZone& zone);
std::string render_checks(const nlohmann::json& answer, const ContractZone& zone);
std::string render_series(const nlohmann::json& answer, const ContractZone& zone);
// GET /api/v1/licences: fewest days left first, as the collector sorts them.
std::string render_licences(const nlohmann::json& answer, const ContractZone& zone);
// GET /api/v1/licences/{id} (with its events), or the {"licence": ...} answer of a change.
std::string render_licence(const nlohmann::json& answer, const ContractZone& zone);
// GET /api/v1/incidents; one incident (GET /incidents/{id}, or an action's {"incident": ...}).
std::string render_incidents(const nlohmann::json& answer, const ContractZone& zone);
std::string render_incident(const nlohmann::json& answer, const ContractZone& zone);
// GET /api/v1/silences, or one silence ({"silence": ...}).
std::string render_silences(const nlohmann::json& answer, const ContractZone& zone);
// GET /api/v1/duty: who is on duty now, since when, the next handover.
std::string render_duty(const nlohmann::json& answer, const ContractZone& zone);

// 85.5 -> "85.5", 3.0 -> "3", 0.000123 -> "0.000123", 1e20 -> "1e+20".
std::string format_value(double v);

}  // namespace xj
