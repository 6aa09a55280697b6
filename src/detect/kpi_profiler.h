// KpiProfiler: measures a series and picks the detectors and parameters that
// suit it, so that nobody configures them per KPI.
//
// From a learning buffer (the first points of a series, and later a fresh
// buffer at each re-profiling) it measures:
//  - step (median spacing), gap fraction (spacings over 1.5 steps);
//  - counter or gauge (non-decreasing apart from rare resets);
//  - sparsity (share of the most common value) and resolution;
//  - noise: robust sd of first differences / (sqrt 2 * robust sd of values)
//    -- near 1 for white noise, near 0 for a smooth or stepwise series;
//  - trend: Mann-Kendall z over block means;
//  - period: the autocorrelation of the detrended series (reduced to at most
//    512 block means) at its highest local peak; a period within 10 % of a
//    day or a week snaps to it; jitter is the width of the peak, phase drift
//    the shift of the peak between the two halves of the buffer;
//  - spikiness: share of points beyond 6 robust sds.
// Choice (docs/detection.md has the table): the robust level, CUSUM, trend
// test and SPOT always run; a seasonal profile (and a Holt-Winters residual)
// when a period is present; Bayesian change points for non-seasonal series;
// spectral residual and learned extreme limits for irregular series; the
// KNN novelty view for series without a period (round nab4).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/sample.h"

namespace vigil {

enum DetectorBit : uint32_t {
  kDetLevel = 1u << 0,          // RobustLevel (median-like robust EWMA + scale)
  kDetSeasonal = 1u << 1,       // SeasonalProfile
  kDetHoltWinters = 1u << 2,    // HoltWintersResidual
  kDetSpectral = 1u << 3,       // SpectralResidual
  kDetCusum = 1u << 4,          // Cusum
  kDetBocpd = 1u << 5,          // Bocpd
  kDetTrend = 1u << 6,          // TrendTest
  kDetLearnedLimits = 1u << 7,  // LearnedLimits
  kDetHardLimits = 1u << 8,     // user-set limits
  kDetSpot = 1u << 9,           // SpotThreshold on the combined score
  kDetNovelty = 1u << 10,       // KnnNovelty (non-seasonal series, in the seasonal profile's memory)
};
// "level,seasonal,..." for a mask.
std::string DetectorNames(uint32_t mask);

struct KpiProfile {
  int64_t points = 0;
  int64_t step_ms = 0;
  double gap_fraction = 0;
  bool counter = false;
  double sparsity = 0;       // share of the most common value
  double resolution = 0;     // smallest non-zero difference between values
  double noise_ratio = 1;    // 1 = white noise, 0 = smooth
  double trend_z = 0;        // Mann-Kendall z
  int64_t period_ms = 0;     // 0 = none found
  double period_strength = 0;  // autocorrelation at the period
  double period_jitter = 0;    // relative width of the autocorrelation peak
  double phase_drift = 0;      // relative shift of the peak between halves
  double spikiness = 0;
  double level = 0, scale = 0;  // median and robust sd of the buffer
  bool regular = true;          // has a usable pattern (period or smooth)
  // The choice.
  uint32_t detectors = 0;
  int seasonal_slots = 0;
  int trend_block = 16;
};

// Picks detectors and parameters from the measurements (sets detectors,
// seasonal_slots, trend_block, regular).
void ChooseDetectors(KpiProfile* p);

// Profiles a buffer of points in time order (at least 16 for a useful
// result; fewer give a level-only profile).
KpiProfile ProfileSeries(const std::vector<TimestampMs>& ts, const std::vector<double>& values);

}  // namespace vigil
