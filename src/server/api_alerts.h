// Alert routes (api_alerts.cc): Alertmanager-compatible ingest and API,
// silences, and alert-incident actions. See docs/api-contract.md.
#pragma once

#include <cstdint>

#include <nlohmann/json_fwd.hpp>

#include "server/api.h"

namespace vigil {

bool HandleAlertRoutes(Engine& engine, const HttpRequest& req, HttpResponse& res);

// Adds "alerts" (grouped by service, oldest first) and "notifications" to
// the document of incident `id` (GET /api/v1/incidents/{id}).
void AddIncidentAlerts(Engine& engine, int64_t id, nlohmann::json* doc);

// True for /api/v1/incidents/{id}/<action> paths this file handles.
bool IsIncidentActionPath(const std::string& path);

}  // namespace vigil
