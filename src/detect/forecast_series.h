// Forecasting a timestamped series: puts the samples on an even time grid,
// fits a Holt-Winters model (detect/forecast.h) and returns the forecast
// with timestamps. Shared by `vigil forecast`, `vigil eval forecast`,
// GET /api/v1/forecast and the capacity-risk check, so that all of them see
// the same numbers.
//
// Pure library: no I/O, no clock.
#pragma once

#include <span>
#include <vector>

#include "core/sample.h"
#include "core/status.h"
#include "detect/forecast.h"

namespace vigil {

// A series on an even grid: values[i] is at start + i * step. Grid points
// without a sample are interpolated linearly between their neighbours and
// marked not observed.
struct RegularSeries {
  TimestampMs start = 0;
  TimestampMs step = 0;
  std::vector<double> values;
  std::vector<bool> observed;

  TimestampMs TimeOf(size_t i) const { return start + static_cast<TimestampMs>(i) * step; }
};

// The step is the median spacing of the samples; each sample goes to the
// nearest grid point (several on one point are averaged). Non-finite values
// are ignored. InvalidArgument when fewer than 2 finite samples, or when the
// grid would exceed max_points (a few samples years apart).
Result<RegularSeries> Regularize(std::span<const Sample> samples, size_t max_points);

struct SeriesForecast {
  ForecastModel model;
  TimestampMs step = 0;
  TimestampMs last_ts = 0;   // time of the last grid point fitted
  double last_value = 0;     // its value
  std::vector<TimestampMs> ts;
  std::vector<ForecastPoint> points;  // points[i] is at ts[i]
};

struct SeriesForecastOptions {
  ForecastOptions model;
  // Season length as a duration (e.g. one day); converted to grid steps.
  // 0 = detect from the data (model.period overrides when set).
  TimestampMs season_ms = 0;
  size_t max_history_points = 100'000;
  size_t max_horizon_steps = 100'000;
};

// Forecasts `samples` from their last point to last + horizon_ms. When the
// horizon would take more than max_horizon_steps grid steps, the grid is
// coarsened (k consecutive points averaged) until it fits. InvalidArgument
// when the history is too short or the horizon not positive.
Result<SeriesForecast> ForecastSamples(std::span<const Sample> samples, TimestampMs horizon_ms,
                                       const SeriesForecastOptions& opts);

}  // namespace vigil
