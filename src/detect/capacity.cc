#include "detect/capacity.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/time_format.h"

namespace vigil {

namespace {

// First time the sequence (starting from (t0, v0)) reaches the threshold,
// interpolated between grid steps.
template <typename Value>
std::optional<TimestampMs> FirstReach(const SeriesForecast& f, double v0, double thr, bool up, Value value) {
  TimestampMs t_prev = f.last_ts;
  double v_prev = v0;
  for (size_t i = 0; i < f.points.size(); ++i) {
    double v = value(f.points[i]);
    bool beyond = up ? v >= thr : v <= thr;
    if (beyond) {
      double w = v != v_prev ? (thr - v_prev) / (v - v_prev) : 1.0;
      w = std::isfinite(w) ? std::clamp(w, 0.0, 1.0) : 1.0;
      return t_prev + static_cast<TimestampMs>(std::llround(w * static_cast<double>(f.ts[i] - t_prev)));
    }
    t_prev = f.ts[i];
    v_prev = v;
  }
  return std::nullopt;
}

std::string When(const std::optional<TimestampMs>& t) { return t ? FormatRfc3339(*t) : "beyond the horizon"; }

}  // namespace

ThresholdCrossing FindCrossing(const SeriesForecast& f, double threshold, std::optional<Direction> direction) {
  ThresholdCrossing c;
  c.threshold = threshold;
  c.direction = direction ? *direction : (f.last_value < threshold ? Direction::kUp : Direction::kDown);
  const bool up = c.direction == Direction::kUp;
  c.already_beyond = up ? f.last_value >= threshold : f.last_value <= threshold;
  c.likely = FirstReach(f, f.last_value, threshold, up, [](const ForecastPoint& p) { return p.mean; });
  c.earliest = FirstReach(f, f.last_value, threshold, up,
                          [up](const ForecastPoint& p) { return up ? p.upper : p.lower; });
  c.latest = FirstReach(f, f.last_value, threshold, up,
                        [up](const ForecastPoint& p) { return up ? p.lower : p.upper; });
  return c;
}

Result<CapacityRisk> AssessCapacityRisk(std::span<const Sample> samples, double threshold, TimestampMs horizon_ms,
                                        const SeriesForecastOptions& opts, std::optional<Direction> direction) {
  if (!std::isfinite(threshold)) return Status::InvalidArgument("the threshold must be a finite number");
  auto f = ForecastSamples(samples, horizon_ms, opts);
  if (!f.ok()) return f.status();
  CapacityRisk r;
  r.forecast = std::move(*f);
  r.crossing = FindCrossing(r.forecast, threshold, direction);
  const ThresholdCrossing& c = r.crossing;
  r.at_risk = c.already_beyond || c.likely.has_value();
  r.possible = !r.at_risk && c.earliest.has_value();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", threshold);
  std::string verb = c.direction == Direction::kUp ? "reach " : "fall to ";
  char last[64];
  std::snprintf(last, sizeof last, "%.6g", r.forecast.last_value);
  if (c.already_beyond) {
    r.explanation = std::string("already at ") + last + ", past the threshold " + buf;
  } else if (c.likely) {
    r.explanation = "forecast to " + verb + buf + " at " + When(c.likely) + " (earliest " + When(c.earliest) +
                    ", latest " + When(c.latest) + ")";
  } else if (c.earliest) {
    r.explanation = "could " + verb + buf + " as early as " + When(c.earliest) +
                    "; the expected path stays short of it within the horizon";
  } else {
    r.explanation = std::string("not expected to ") + verb + buf + " within the horizon";
  }
  r.explanation += "; last value " + std::string(last) + ", model: " + r.forecast.model.Describe();
  return r;
}

}  // namespace vigil
