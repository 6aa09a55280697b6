// Routes of forecasting and change risk:
//   GET /api/v1/forecast?series=<id or selector>&horizon=<duration>[&threshold=X][&direction=up|down][&coverage=0.95]
//   GET /api/v1/events/{id}/risk
// (docs/api-contract.md, docs/forecast-and-change-risk.md)
#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/time_format.h"
#include "detect/capacity.h"
#include "engine/change_risk_runner.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "engine/selector.h"
#include "server/api.h"
#include "server/api_json.h"

namespace vigil {

namespace {

using json = nlohmann::json;

constexpr size_t kMaxForecastSeries = 20;
constexpr size_t kMaxForecastSteps = 10'000;
// Newest points fitted per series: bounds the CPU of one request (the fit is
// linear in the history) while keeping two weeks of 5-minute data.
constexpr size_t kMaxHistoryPoints = 5'000;

json LabelsObject(const Labels& l) {
  json o = json::object();
  for (const auto& x : l.items()) o[x.name] = x.value;
  return o;
}

json OptTime(const std::optional<TimestampMs>& t) {
  return t ? json{{"ms", *t}, {"time", FormatRfc3339(*t)}} : json(nullptr);
}

bool ParseNumber(const std::string& s, double* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(*out);
}

// The series a forecast is asked for: a series id in hex when one exists,
// otherwise a selector.
bool ResolveSeries(const Engine& engine, const std::string& q, HttpResponse& res, std::vector<SeriesInfo>* out) {
  auto id = SeriesIdFromHex(q);
  if (id.ok()) {
    SeriesInfo info;
    std::vector<Sample> none;
    if (engine.Points(*id, 1, 0, &info, &none)) {
      out->push_back(info);
      return true;
    }
  }
  auto sel = SeriesSelector::Parse(q);
  if (!sel.ok()) {
    JsonError(res, 400, "parameter \"series\": neither a known series id nor a selector: " + sel.status().message());
    return false;
  }
  *out = engine.FindSeries(*sel, kMaxForecastSeries + 1);
  if (out->size() > kMaxForecastSeries) {
    JsonError(res, 400, "parameter \"series\": the selector matches more than " + std::to_string(kMaxForecastSeries) +
                            " series; narrow it");
    return false;
  }
  if (out->empty()) {
    JsonError(res, 404, "no series matches \"" + q + "\"");
    return false;
  }
  return true;
}

void ServeForecast(Engine& engine, const HttpRequest& req, HttpResponse& res) {
  std::string series = req.QueryParam("series");
  if (series.empty()) return JsonError(res, 400, "parameter \"series\" is required: a series id or a selector");
  std::string hz = req.QueryParam("horizon");
  if (hz.empty()) hz = "1d";
  auto horizon = ParseDuration(hz);
  if (!horizon.ok() || *horizon <= 0) {
    return JsonError(res, 400, "parameter \"horizon\": " +
                                   (horizon.ok() ? std::string("must be positive") : horizon.status().message()));
  }
  double threshold = 0;
  std::string th = req.QueryParam("threshold");
  const bool has_threshold = !th.empty();
  if (has_threshold && !ParseNumber(th, &threshold)) {
    return JsonError(res, 400, "parameter \"threshold\": expected a number, got \"" + th + "\"");
  }
  std::optional<Direction> dir;
  std::string d = req.QueryParam("direction");
  if (d == "up") dir = Direction::kUp;
  else if (d == "down") dir = Direction::kDown;
  else if (!d.empty() && d != "auto") {
    return JsonError(res, 400, "parameter \"direction\": expected up, down or auto, got \"" + d + "\"");
  }
  SeriesForecastOptions opts;
  opts.max_horizon_steps = kMaxForecastSteps;
  opts.max_history_points = kMaxHistoryPoints;
  std::string cov = req.QueryParam("coverage");
  if (!cov.empty() && (!ParseNumber(cov, &opts.model.coverage) || opts.model.coverage < 0.5 ||
                       opts.model.coverage >= 1)) {
    return JsonError(res, 400, "parameter \"coverage\": expected a number in [0.5, 1), got \"" + cov + "\"");
  }
  std::vector<SeriesInfo> found;
  if (!ResolveSeries(engine, series, res, &found)) return;
  json arr = json::array();
  for (const auto& s : found) {
    SeriesInfo info;
    std::vector<Sample> pts;
    json item = {{"id", SeriesIdToHex(s.id)}, {"name", s.labels.ToString()}, {"labels", LabelsObject(s.labels)}};
    if (!engine.Points(s.id, INT64_MIN, INT64_MAX, &info, &pts)) continue;
    auto risk = AssessCapacityRisk(pts, has_threshold ? threshold : 0.0, *horizon, opts, dir);
    if (!risk.ok()) {
      // One series that cannot be forecast (too few points) does not fail
      // the others; a single one answers with its reason.
      if (found.size() == 1) return JsonError(res, 422, s.labels.ToString() + ": " + risk.status().message());
      item["error"] = risk.status().message();
      arr.push_back(std::move(item));
      continue;
    }
    const SeriesForecast& f = risk->forecast;
    json points = json::array();
    for (size_t i = 0; i < f.points.size(); ++i) {
      points.push_back({f.ts[i], f.points[i].mean, f.points[i].lower, f.points[i].upper});
    }
    item["model"] = f.model.Describe();
    item["is_counter"] = info.is_counter;
    item["history_points"] = f.model.history;
    item["step_ms"] = f.step;
    item["last_ms"] = f.last_ts;
    item["last_value"] = f.last_value;
    item["sigma"] = f.model.sigma;
    item["coverage"] = opts.model.coverage;
    item["points"] = std::move(points);
    if (has_threshold) {
      const ThresholdCrossing& c = risk->crossing;
      item["threshold"] = {{"value", threshold},
                           {"direction", DirectionName(c.direction)},
                           {"already_beyond", c.already_beyond},
                           {"earliest", OptTime(c.earliest)},
                           {"likely", OptTime(c.likely)},
                           {"latest", OptTime(c.latest)},
                           {"at_risk", risk->at_risk},
                           {"possible", risk->possible},
                           {"explanation", risk->explanation}};
    }
    arr.push_back(std::move(item));
  }
  JsonOk(res, {{"horizon_ms", *horizon}, {"forecasts", arr}});
}

json ItemJson(const RiskItem& it) {
  const WindowComparison& e = it.evidence;
  return {{"level", it.level},
          {"entity", it.entity},
          {"kpi", it.kpi},
          {"labels", LabelsObject(it.labels)},
          {"severity", RiskSeverityName(it.severity)},
          {"direction", it.direction},
          {"improved", it.improved},
          {"evidence",
           {{"before_median", e.before_median},
            {"before_mad", e.before_mad},
            {"before_points", e.before_n},
            {"after_median", e.after_median},
            {"after_points", e.after_n},
            {"shift", e.shift},
            {"shift_robust_sd", e.shift_sigmas},
            {"relative_change", e.relative_change},
            {"mann_whitney_u", e.u_statistic},
            {"p_value", e.p_value}}},
          {"explanation", it.explanation}};
}

void ServeRisk(Engine& engine, std::string_view id_text, HttpResponse& res) {
  int64_t id = 0;
  auto [p, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (ec != std::errc() || p != id_text.data() + id_text.size() || id <= 0) {
    return JsonError(res, 404, "no event \"" + std::string(id_text) + "\": ids are positive integers");
  }
  auto entry = engine.change_risk().Get(id);
  if (!entry) {
    return JsonError(res, 404, "no change-risk report for event " + std::to_string(id) +
                                   ": only recent events of the kinds in detect.change_risk.kinds get one");
  }
  const ChangeRiskEntry& e = *entry;
  json window = {{"before", {{"from", FormatRfc3339(e.before_from)}, {"to", FormatRfc3339(e.before_to)}}},
                 {"after", {{"from", FormatRfc3339(e.after_from)}, {"to", FormatRfc3339(e.after_to)}}}};
  json out = {{"event_id", id},
              {"kind", e.event.kind},
              {"labels", LabelsObject(e.event.labels)},
              {"time", FormatRfc3339(e.event.ts_ms)},
              {"state", e.ready ? "ready" : "pending"},
              {"ready_at", FormatRfc3339(e.ready_at_ms)},
              {"windows", window}};
  if (e.ready) {
    json items = json::array();
    for (const auto& it : e.report.items) items.push_back(ItemJson(it));
    out["computed_at"] = FormatRfc3339(e.computed_ms);
    out["risk"] = RiskSeverityName(e.report.risk);
    out["summary"] = e.report.summary;
    out["kpis_matched"] = e.series;
    out["kpis_compared"] = e.report.kpis_compared;
    out["kpis_skipped"] = e.report.kpis_skipped;
    out["items"] = std::move(items);
  }
  JsonOk(res, out);
}

}  // namespace

bool ForecastRoutes(Engine& engine, const HttpRequest& req, HttpResponse& res) {
  const std::string& p = req.path;
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (p == "/api/v1/forecast") {
    if (!get) JsonError(res, 405, "use GET for /api/v1/forecast");
    else ServeForecast(engine, req, res);
    return true;
  }
  constexpr std::string_view kEvents = "/api/v1/events/", kRisk = "/risk";
  if (p.size() > kEvents.size() + kRisk.size() && p.compare(0, kEvents.size(), kEvents) == 0 &&
      p.compare(p.size() - kRisk.size(), kRisk.size(), kRisk) == 0) {
    if (!get) JsonError(res, 405, "use GET for a change-risk report");
    else ServeRisk(engine, std::string_view(p).substr(kEvents.size(), p.size() - kEvents.size() - kRisk.size()), res);
    return true;
  }
  return false;
}

}  // namespace vigil
