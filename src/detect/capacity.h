// Capacity risk: when will a series cross a threshold (disk usage reaching
// 90%, free table space falling to 10 GB), and is that within a horizon?
//
// The crossing is read off a Holt-Winters forecast (detect/forecast_series.h)
// with its prediction interval:
//   likely   = first time the point forecast reaches the threshold,
//   earliest = first time the interval's near bound reaches it (the upper
//              bound for a rising series, the lower for a falling one),
//   latest   = first time the far bound reaches it (the whole interval is
//              beyond the threshold from then on, as far as the forecast goes).
// Times between grid steps are interpolated linearly. The direction is
// inferred: a series whose last value is below the threshold is watched for
// rising to it, one above for falling to it.
//
// A capacity risk is declared when the likely crossing falls within the
// horizon (a crossing only the interval allows is reported as "possible").
//
// Pure library: no I/O, no clock.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "core/anomaly.h"
#include "core/sample.h"
#include "core/status.h"
#include "detect/forecast_series.h"

namespace vigil {

struct ThresholdCrossing {
  double threshold = 0;
  Direction direction = Direction::kUp;  // kUp: the series rises to the threshold
  bool already_beyond = false;           // the last value is at or past it
  std::optional<TimestampMs> earliest;   // unset: not within the forecast
  std::optional<TimestampMs> likely;
  std::optional<TimestampMs> latest;
};

// Reads the crossing of `threshold` off a forecast. `direction` unset: infer
// it from the last value (below the threshold: rising to it).
ThresholdCrossing FindCrossing(const SeriesForecast& f, double threshold, std::optional<Direction> direction);

struct CapacityRisk {
  bool at_risk = false;   // likely crossing within the horizon (or already beyond)
  bool possible = false;  // only the interval's near bound crosses within it
  ThresholdCrossing crossing;
  SeriesForecast forecast;
  std::string explanation;  // one sentence for people
};

// Forecasts `samples` over `horizon_ms` and judges the crossing of
// `threshold` (see the file comment). Errors as ForecastSamples.
Result<CapacityRisk> AssessCapacityRisk(std::span<const Sample> samples, double threshold, TimestampMs horizon_ms,
                                        const SeriesForecastOptions& opts,
                                        std::optional<Direction> direction = std::nullopt);

}  // namespace vigil
