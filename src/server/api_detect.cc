// Routes of the KPI detector suite:
//   GET  /api/v1/series/{id}/profile        what the profiler measured and chose
//   POST /api/v1/anomalies/{id}/feedback    {"verdict": "false_alarm" | "real"}
// (the expected band of GET /api/v1/series/{id}/points is served by api.cc).
#include <string>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "server/api.h"
#include "server/api_json.h"

namespace vigil {

namespace {

using json = nlohmann::json;

bool ServeProfile(Engine& engine, const HttpRequest& req, HttpResponse& res) {
  const std::string& p = req.path;
  constexpr std::string_view kPrefix = "/api/v1/series/", kSuffix = "/profile";
  if (p.rfind(kPrefix, 0) != 0 || p.size() <= kPrefix.size() + kSuffix.size() ||
      p.compare(p.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
    return false;
  }
  if (req.method != "GET") {
    JsonError(res, 405, "use GET for a series profile");
    return true;
  }
  const std::string hex = p.substr(kPrefix.size(), p.size() - kPrefix.size() - kSuffix.size());
  auto id = SeriesIdFromHex(hex);
  if (!id.ok()) {
    JsonError(res, 400, id.status().message());
    return true;
  }
  SeriesProfileInfo info;
  if (!engine.Profile(*id, &info)) {
    JsonError(res, 404, "no series with id " + hex);
    return true;
  }
  const KpiProfile& pr = info.profile;
  json detectors = json::array();
  for (uint32_t bit = 1; bit != 0 && bit <= kDetSpot; bit <<= 1) {
    if (pr.detectors & bit) detectors.push_back(DetectorNames(bit));
  }
  JsonOk(res, {{"id", SeriesIdToHex(info.info.id)},
              {"name", info.info.labels.ToString()},
              {"profiled", info.profiled},
              {"points_profiled", pr.points},
              {"step_ms", pr.step_ms},
              {"gap_fraction", pr.gap_fraction},
              {"counter", pr.counter || info.info.is_counter},
              {"sparsity", pr.sparsity},
              {"resolution", pr.resolution},
              {"noise_ratio", pr.noise_ratio},
              {"trend_z", pr.trend_z},
              {"period_ms", pr.period_ms},
              {"period_strength", pr.period_strength},
              {"period_jitter", pr.period_jitter},
              {"phase_drift", pr.phase_drift},
              {"spikiness", pr.spikiness},
              {"regular", pr.regular},
              {"detectors", detectors},
              {"seasonal_slots", pr.seasonal_slots},
              {"sensitivity", info.sensitivity},
              {"state_bytes", info.state_bytes}});
  return true;
}

bool ServeFeedback(Engine& engine, const HttpRequest& req, HttpResponse& res) {
  const std::string& p = req.path;
  constexpr std::string_view kPrefix = "/api/v1/anomalies/", kSuffix = "/feedback";
  if (p.rfind(kPrefix, 0) != 0 || p.size() <= kPrefix.size() + kSuffix.size() ||
      p.compare(p.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
    return false;
  }
  if (req.method != "POST") {
    JsonError(res, 405, "use POST for anomaly feedback");
    return true;
  }
  const std::string digits = p.substr(kPrefix.size(), p.size() - kPrefix.size() - kSuffix.size());
  int64_t id = 0;
  try {
    size_t used = 0;
    id = std::stoll(digits, &used);
    if (used != digits.size() || id <= 0) throw std::invalid_argument("id");
  } catch (...) {
    JsonError(res, 400, "anomaly id \"" + digits + "\" is not a positive integer");
    return true;
  }
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("verdict") || !body["verdict"].is_string()) {
    JsonError(res, 400, "body must be {\"verdict\": \"false_alarm\" | \"real\"}");
    return true;
  }
  const std::string verdict = body["verdict"].get<std::string>();
  if (verdict != "false_alarm" && verdict != "real") {
    JsonError(res, 400, "field \"verdict\": \"" + verdict + "\" is not \"false_alarm\" or \"real\"");
    return true;
  }
  auto s = engine.AnomalyFeedback(id, verdict == "false_alarm");
  if (!s.ok()) {
    JsonError(res, s.status().code() == StatusCode::kNotFound ? 404 : 500, s.status().message());
    return true;
  }
  JsonOk(res, {{"anomaly", id}, {"verdict", verdict}, {"sensitivity", *s}});
  return true;
}

}  // namespace

bool DetectRoutes(Engine& engine, const HttpRequest& req, HttpResponse& res) {
  return ServeProfile(engine, req, res) || ServeFeedback(engine, req, res);
}

}  // namespace vigil
