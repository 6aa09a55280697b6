// Forecast accuracy of one series, as `vigil eval forecast` reports it.
//
// Protocol. The series is put on its even grid (forecast_series.h) and split
// in time: the first 90% trains, the last 10% tests. The model is fitted on
// the training part only and then forecasts the whole test part from the
// training end in one go (multi-step, a single origin: h = 1 .. H, with no
// test value ever fed back), which is how a capacity forecast is used.
// Errors are taken at grid points that hold a real sample.
//
// Scores.
//  - MASE (R. J. Hyndman and A. B. Koehler, "Another look at measures of
//    forecast accuracy", IJF 22, 2006): the test MAE divided by the in-sample
//    MAE of the one-step seasonal-naive forecast y[t-m] on the training part.
//  - relative MAE: the test MAE divided by the test MAE of the seasonal-naive
//    forecast made from the same origin (y[T+h] predicted by the last
//    observed value of the same season phase, y[T + h - m*ceil(h/m)]). Below
//    1 means the model beats seasonal naive on that test span.
// m is the season length DetectSeasonPeriod finds on the training part (1,
// plain naive, when there is none); the model is given the same m.
//
// Pure library.
#pragma once

#include <span>
#include <string>

#include "core/sample.h"
#include "core/status.h"
#include "detect/forecast.h"

namespace vigil {

struct ForecastAccuracy {
  size_t train = 0;       // grid points fitted
  size_t test = 0;        // grid points forecast (errors taken at observed ones)
  int period = 1;         // m
  double mae = 0;         // model, test part
  double mae_snaive = 0;  // seasonal naive from the same origin, test part
  double scale = 0;       // in-sample one-step seasonal-naive MAE
  double mase = 0;        // mae / scale; NaN when scale is 0 (a constant training part)
  double relative_mae = 0;  // mae / mae_snaive; NaN when mae_snaive is 0
  double coverage = 0;    // share of observed test points inside the prediction interval
  std::string model;      // ForecastModel::Describe()
};

// test_fraction in (0, 0.5]. InvalidArgument when the series is too short
// (fewer than 20 grid points) or cannot be fitted.
Result<ForecastAccuracy> EvaluateForecast(std::span<const Sample> samples, double test_fraction,
                                          const ForecastOptions& opts);

}  // namespace vigil
