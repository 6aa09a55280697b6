#include "detect/forecast_series.h"

#include <algorithm>
#include <cmath>

namespace vigil {

Result<RegularSeries> Regularize(std::span<const Sample> samples, size_t max_points) {
  std::vector<Sample> s;
  s.reserve(samples.size());
  for (const auto& x : samples) {
    if (std::isfinite(x.value)) s.push_back(x);
  }
  std::stable_sort(s.begin(), s.end(), [](const Sample& a, const Sample& b) { return a.ts_ms < b.ts_ms; });
  if (s.size() < 2) {
    return Status::InvalidArgument("need at least 2 finite samples, got " + std::to_string(s.size()));
  }
  std::vector<TimestampMs> gaps;
  gaps.reserve(s.size());
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i].ts_ms > s[i - 1].ts_ms) gaps.push_back(s[i].ts_ms - s[i - 1].ts_ms);
  }
  if (gaps.empty()) return Status::InvalidArgument("all samples have the same timestamp");
  std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2), gaps.end());
  RegularSeries r;
  r.step = gaps[gaps.size() / 2];
  r.start = s.front().ts_ms;
  TimestampMs span = s.back().ts_ms - r.start;
  double n_grid = std::floor(static_cast<double>(span) / static_cast<double>(r.step) + 0.5) + 1;
  if (n_grid > static_cast<double>(max_points)) {
    return Status::InvalidArgument("samples span " + std::to_string(static_cast<long long>(n_grid)) +
                                   " steps of " + std::to_string(r.step) + " ms, more than the limit of " +
                                   std::to_string(max_points));
  }
  size_t n = static_cast<size_t>(n_grid);
  std::vector<double> sum(n, 0.0);
  std::vector<int> count(n, 0);
  for (const auto& x : s) {
    auto i = static_cast<size_t>(std::llround(static_cast<double>(x.ts_ms - r.start) / static_cast<double>(r.step)));
    i = std::min(i, n - 1);
    sum[i] += x.value;
    ++count[i];
  }
  r.values.assign(n, 0.0);
  r.observed.assign(n, false);
  size_t prev = 0;  // last observed index (index 0 is always observed)
  for (size_t i = 0; i < n; ++i) {
    if (count[i] == 0) continue;
    r.values[i] = sum[i] / count[i];
    r.observed[i] = true;
    for (size_t j = prev + 1; j < i; ++j) {
      double w = static_cast<double>(j - prev) / static_cast<double>(i - prev);
      r.values[j] = r.values[prev] + w * (r.values[i] - r.values[prev]);
    }
    prev = i;
  }
  return r;
}

Result<SeriesForecast> ForecastSamples(std::span<const Sample> samples, TimestampMs horizon_ms,
                                       const SeriesForecastOptions& opts) {
  if (horizon_ms <= 0) return Status::InvalidArgument("the horizon must be positive");
  // Regularize at most a few times the history we keep, then keep the tail.
  auto grid = Regularize(samples, std::max<size_t>(opts.max_history_points, 1) * 4);
  if (!grid.ok()) return grid.status();
  RegularSeries& g = *grid;
  const size_t max_steps = std::max<size_t>(opts.max_horizon_steps, 1);
  double steps_d = std::ceil(static_cast<double>(horizon_ms) / static_cast<double>(g.step));
  if (steps_d > static_cast<double>(max_steps)) {
    // A week ahead at 15-second resolution is neither meaningful nor cheap:
    // average k consecutive grid points (aligned to the newest) so the
    // horizon fits in max_steps steps.
    size_t k = static_cast<size_t>(std::ceil(steps_d / static_cast<double>(max_steps)));
    size_t n = g.values.size() / k;
    if (n < 8) {
      return Status::InvalidArgument("a horizon of " + std::to_string(horizon_ms) + " ms needs " +
                                     std::to_string(static_cast<long long>(steps_d)) + " steps of " +
                                     std::to_string(g.step) + " ms; averaged to fit the limit of " +
                                     std::to_string(max_steps) + " steps, too little history is left");
    }
    size_t offset = g.values.size() - n * k;
    RegularSeries c;
    c.step = g.step * static_cast<TimestampMs>(k);
    c.start = g.TimeOf(offset + k - 1);
    for (size_t i = 0; i < n; ++i) {
      double sum = 0;
      bool seen = false;
      for (size_t j = 0; j < k; ++j) {
        sum += g.values[offset + i * k + j];
        seen = seen || g.observed[offset + i * k + j];
      }
      c.values.push_back(sum / static_cast<double>(k));
      c.observed.push_back(seen);
    }
    g = std::move(c);
    steps_d = std::ceil(static_cast<double>(horizon_ms) / static_cast<double>(g.step));
  }
  size_t keep = std::min(g.values.size(), opts.max_history_points);
  std::span<const double> history(g.values.data() + (g.values.size() - keep), keep);
  ForecastOptions mo = opts.model;
  if (mo.period <= 0 && opts.season_ms > 0) {
    mo.period = std::max(1, static_cast<int>(std::llround(static_cast<double>(opts.season_ms) /
                                                          static_cast<double>(g.step))));
  }
  if (mo.fit_horizon <= 1) mo.fit_horizon = static_cast<int>(steps_d);
  auto model = FitForecastModel(history, mo);
  if (!model.ok()) return model.status();
  SeriesForecast f;
  f.model = std::move(*model);
  f.step = g.step;
  f.last_ts = g.TimeOf(g.values.size() - 1);
  f.last_value = g.values.back();
  int steps = static_cast<int>(steps_d);
  f.points = f.model.Forecast(steps);
  // A series that never went negative (counts, bytes, percentages) is not
  // forecast below zero: the normal band is symmetric, the data is not.
  if (*std::min_element(history.begin(), history.end()) >= 0) {
    for (auto& p : f.points) {
      p.mean = std::max(p.mean, 0.0);
      p.lower = std::max(p.lower, 0.0);
    }
  }
  f.ts.reserve(f.points.size());
  for (int h = 1; h <= steps; ++h) f.ts.push_back(f.last_ts + h * g.step);
  return f;
}

}  // namespace vigil
