// JSON replies shared by the route files (api.cc, api_<area>.cc). Included
// only by them: it pulls in nlohmann/json, which api.h keeps out.
#pragma once

#include <nlohmann/json.hpp>

#include "core/labels.h"
#include "core/status.h"
#include "server/http_server.h"

namespace vigil {

// 200 (or `status`) with `body` as JSON; invalid UTF-8 in strings is replaced.
void JsonOk(HttpResponse& res, const nlohmann::json& body, int status = 200);
// Maps a Status to an HTTP error with a JSON message: InvalidArgument 400,
// NotFound 404, ResourceExhausted/Unavailable 503 with Retry-After, else 500.
void StatusError(HttpResponse& res, const Status& s);
// {"name": "value", ...}
nlohmann::json LabelsJson(const Labels& labels);

}  // namespace vigil
