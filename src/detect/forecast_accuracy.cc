#include "detect/forecast_accuracy.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "detect/forecast_series.h"

namespace vigil {

Result<ForecastAccuracy> EvaluateForecast(std::span<const Sample> samples, double test_fraction,
                                          const ForecastOptions& opts) {
  if (!(test_fraction > 0 && test_fraction <= 0.5)) {
    return Status::InvalidArgument("test fraction must be in (0, 0.5]");
  }
  auto grid = Regularize(samples, 10'000'000);
  if (!grid.ok()) return grid.status();
  const std::vector<double>& y = grid->values;
  const size_t n = y.size();
  if (n < 20) return Status::InvalidArgument("need at least 20 grid points, got " + std::to_string(n));
  const size_t split = n - std::max<size_t>(1, static_cast<size_t>(std::floor(static_cast<double>(n) * test_fraction)));
  std::span<const double> train(y.data(), split);

  ForecastAccuracy a;
  a.train = split;
  a.test = n - split;
  a.period = opts.period > 0 ? opts.period : DetectSeasonPeriod(train, opts.max_period);
  if (a.period >= 2 && split < 2 * static_cast<size_t>(a.period) + 4) a.period = 1;
  ForecastOptions fo = opts;
  fo.period = a.period;
  fo.fit_horizon = static_cast<int>(a.test);
  auto model = FitForecastModel(train, fo);
  if (!model.ok()) return model.status();
  a.model = model->Describe();
  std::vector<ForecastPoint> f = model->Forecast(static_cast<int>(a.test));
  // As ForecastSamples does: a series never negative is not forecast below 0.
  if (*std::min_element(train.begin(), train.end()) >= 0) {
    for (auto& p : f) {
      p.mean = std::max(p.mean, 0.0);
      p.lower = std::max(p.lower, 0.0);
    }
  }

  const size_t m = static_cast<size_t>(a.period);
  double scale = 0;
  size_t scale_n = 0;
  for (size_t t = m; t < split; ++t) {
    if (!grid->observed[t] || !grid->observed[t - m]) continue;
    scale += std::fabs(y[t] - y[t - m]);
    ++scale_n;
  }
  a.scale = scale_n ? scale / static_cast<double>(scale_n) : 0;

  double err = 0, err_naive = 0;
  size_t count = 0, inside = 0;
  for (size_t h = 1; h <= a.test; ++h) {
    size_t t = split + h - 1;
    if (!grid->observed[t]) continue;
    size_t back = m * ((h + m - 1) / m);  // m * ceil(h / m)
    double naive = y[t - back];
    err += std::fabs(y[t] - f[h - 1].mean);
    err_naive += std::fabs(y[t] - naive);
    inside += y[t] >= f[h - 1].lower && y[t] <= f[h - 1].upper;
    ++count;
  }
  if (count == 0) return Status::InvalidArgument("no observed point in the test part");
  a.mae = err / static_cast<double>(count);
  a.mae_snaive = err_naive / static_cast<double>(count);
  a.coverage = static_cast<double>(inside) / static_cast<double>(count);
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  a.mase = a.scale > 0 ? a.mae / a.scale : kNaN;
  a.relative_mae = a.mae_snaive > 0 ? a.mae / a.mae_snaive : kNaN;
  return a;
}

}  // namespace vigil
