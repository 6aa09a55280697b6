// Equivalence of ProfileSeries with the implementation it replaced.
//
// The profiler's passes were made cheaper (a sorted copy instead of a map
// and two selections; four autocorrelation lags per pass); every field of
// the profile must stay bit for bit the same. The previous implementation
// is kept below, verbatim except for its name, and both profile random and
// adversarial buffers of the sizes the detector uses.
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "detect/kpi_profiler.h"

namespace vigil {
namespace {

// ---- the previous implementation (reference) ----
constexpr int64_t kDayMs = 86400000;
constexpr int64_t kWeekMs = 7 * kDayMs;

double MedianOf(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

double RobustSd(const std::vector<double>& v, double* median_out = nullptr) {
  const double med = MedianOf(v);
  std::vector<double> dev(v.size());
  for (size_t i = 0; i < v.size(); ++i) dev[i] = std::fabs(v[i] - med);
  if (median_out != nullptr) *median_out = med;
  double mad = 1.4826 * MedianOf(dev);
  if (mad == 0) {  // more than half equal: fall back to the mean absolute deviation
    double s = 0;
    for (double d : dev) s += d;
    mad = v.empty() ? 0 : 1.2533 * s / static_cast<double>(v.size());
  }
  return mad;
}

// Autocorrelation of x at lags 1..max_lag.
std::vector<double> Acf(const std::vector<double>& x, size_t max_lag) {
  double mean = 0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(x.size());
  double var = 0;
  for (double v : x) var += (v - mean) * (v - mean);
  std::vector<double> acf(max_lag + 1, 0.0);
  if (var <= 0) return acf;
  for (size_t lag = 1; lag <= max_lag; ++lag) {
    double s = 0;
    for (size_t i = lag; i < x.size(); ++i) s += (x[i] - mean) * (x[i - lag] - mean);
    acf[lag] = s / var;
  }
  return acf;
}

// Highest local ACF peak in [min_lag, max_lag]; returns lag 0 when none.
size_t BestPeak(const std::vector<double>& acf, size_t min_lag, double* value) {
  size_t best = 0;
  *value = 0;
  for (size_t l = std::max<size_t>(min_lag, 2); l + 1 < acf.size(); ++l) {
    if (acf[l] > acf[l - 1] && acf[l] >= acf[l + 1] && acf[l] > *value) {
      *value = acf[l];
      best = l;
    }
  }
  return best;
}

double MannKendallZ(const std::vector<double>& v) {
  const size_t n = v.size();
  if (n < 8) return 0;
  double s = 0;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) s += (v[j] > v[i]) - (v[j] < v[i]);
  }
  const double dn = static_cast<double>(n);
  const double var = dn * (dn - 1) * (2 * dn + 5) / 18;
  return s > 0 ? (s - 1) / std::sqrt(var) : s < 0 ? (s + 1) / std::sqrt(var) : 0;
}

std::vector<double> BlockMeans(const std::vector<double>& v, size_t block) {
  std::vector<double> out;
  for (size_t i = 0; i + block <= v.size(); i += block) {
    double s = 0;
    for (size_t j = 0; j < block; ++j) s += v[i + j];
    out.push_back(s / static_cast<double>(block));
  }
  return out;
}

KpiProfile OldProfileSeries(const std::vector<TimestampMs>& ts, const std::vector<double>& values) {
  KpiProfile p;
  const size_t n = std::min(ts.size(), values.size());
  p.points = static_cast<int64_t>(n);
  p.detectors = kDetLevel | kDetCusum | kDetSpot | kDetTrend;
  if (n < 16) {
    p.step_ms = n >= 2 ? ts[1] - ts[0] : 60000;
    return p;
  }
  std::vector<double> v(values.begin(), values.begin() + static_cast<ptrdiff_t>(n));

  // Spacing and gaps.
  std::vector<double> gaps;
  for (size_t i = 1; i < n; ++i) gaps.push_back(static_cast<double>(ts[i] - ts[i - 1]));
  p.step_ms = std::max<int64_t>(1, static_cast<int64_t>(MedianOf(gaps)));
  size_t big = 0;
  for (double g : gaps) big += g > 1.5 * static_cast<double>(p.step_ms);
  p.gap_fraction = static_cast<double>(big) / static_cast<double>(gaps.size());

  // Counter: non-decreasing except rare resets, and not constant.
  size_t ups = 0, downs = 0;
  for (size_t i = 1; i < n; ++i) {
    ups += v[i] > v[i - 1];
    downs += v[i] < v[i - 1];
  }
  p.counter = ups > n / 2 && downs * 100 <= n;

  // Sparsity and resolution.
  std::map<double, size_t> counts;
  for (double x : v) ++counts[x];
  size_t mode = 0;
  for (auto& [x, c] : counts) mode = std::max(mode, c);
  p.sparsity = static_cast<double>(mode) / static_cast<double>(n);
  double res = INFINITY, prev = NAN;
  for (auto& [x, c] : counts) {
    if (!std::isnan(prev)) res = std::min(res, x - prev);
    prev = x;
  }
  p.resolution = std::isfinite(res) ? res : 0;

  // Noise.
  p.scale = RobustSd(v, &p.level);
  std::vector<double> diffs;
  for (size_t i = 1; i < n; ++i) diffs.push_back(v[i] - v[i - 1]);
  const double diff_sd = RobustSd(diffs);
  p.noise_ratio = p.scale > 0 ? std::min(2.0, diff_sd / (std::sqrt(2.0) * p.scale)) : 0;

  // Spikiness.
  size_t spikes = 0;
  for (double x : v) spikes += p.scale > 0 && std::fabs(x - p.level) > 6 * p.scale;
  p.spikiness = static_cast<double>(spikes) / static_cast<double>(n);

  // Trend over ~24 blocks.
  const size_t tblock = std::max<size_t>(1, n / 24);
  p.trend_z = MannKendallZ(BlockMeans(v, tblock));

  // Period: ACF of the detrended block means.
  const size_t block = std::max<size_t>(1, (n + 511) / 512);
  std::vector<double> bm = BlockMeans(v, block);
  if (bm.size() >= 16) {
    // Remove a linear trend (least squares) so that a ramp does not look periodic.
    const double m = static_cast<double>(bm.size());
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < bm.size(); ++i) {
      sx += static_cast<double>(i);
      sy += bm[i];
      sxx += static_cast<double>(i * i);
      sxy += static_cast<double>(i) * bm[i];
    }
    const double slope = (m * sxy - sx * sy) / std::max(1e-12, m * sxx - sx * sx);
    for (size_t i = 0; i < bm.size(); ++i) bm[i] -= slope * static_cast<double>(i);
    auto acf = Acf(bm, bm.size() / 2);
    double peak = 0;
    const size_t lag = BestPeak(acf, 3, &peak);
    if (lag > 0 && peak > 0.3) {
      int64_t period = static_cast<int64_t>(lag * block) * p.step_ms;
      for (int64_t snap : {kDayMs, kWeekMs}) {
        if (std::llabs(period - snap) * 10 <= snap) period = snap;
      }
      p.period_ms = period;
      p.period_strength = peak;
      // Jitter: width of the peak at half its height, relative to the lag.
      size_t lo = lag, hi = lag;
      while (lo > 1 && acf[lo - 1] > peak / 2) --lo;
      while (hi + 1 < acf.size() && acf[hi + 1] > peak / 2) ++hi;
      p.period_jitter = static_cast<double>(hi - lo) / static_cast<double>(lag);
      // Phase drift: best lag near the period in each half.
      if (bm.size() >= 4 * lag) {
        std::vector<double> a(bm.begin(), bm.begin() + static_cast<ptrdiff_t>(bm.size() / 2));
        std::vector<double> b(bm.begin() + static_cast<ptrdiff_t>(bm.size() / 2), bm.end());
        double pa = 0, pb = 0;
        size_t la = BestPeak(Acf(a, std::min(a.size() - 1, lag * 3 / 2)), lag / 2, &pa);
        size_t lb = BestPeak(Acf(b, std::min(b.size() - 1, lag * 3 / 2)), lag / 2, &pb);
        if (la > 0 && lb > 0) {
          p.phase_drift = std::fabs(static_cast<double>(la) - static_cast<double>(lb)) / static_cast<double>(lag);
        }
      }
    }
  }

  ChooseDetectors(&p);
  return p;
}

// ---- the comparison ----

std::vector<double> Buffer(std::mt19937_64& rng, size_t n) {
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> g(0, 1);
  const double level = std::pow(10.0, u(rng) * 8 - 3) * (u(rng) < 0.2 ? -1 : 1);
  const double noise = level * std::pow(10.0, -u(rng) * 4);
  const double period = 3 + u(rng) * static_cast<double>(n) / 3;
  const int mode = static_cast<int>(rng() % 7);
  std::vector<double> v(n);
  double counter = 0;
  for (size_t i = 0; i < n; ++i) {
    double x = 0;
    const double t = static_cast<double>(i);
    switch (mode) {
      case 0: x = level + noise * g(rng); break;
      case 1: x = std::round(level + noise * 3 * g(rng)); break;
      case 2: x = u(rng) < 0.9 ? 0.0 : std::round(u(rng) * 5); break;
      case 3: x = level; break;
      case 4: x = level + noise * (5 * std::sin(6.283185307179586 * t / period) + 0.3 * g(rng)); break;
      case 5: x = level + noise * std::pow(u(rng) + 1e-9, -1.5); break;
      case 6: counter += std::fabs(noise) * u(rng); x = counter; break;
    }
    if (u(rng) < 0.01) x = u(rng) < 0.5 ? 0.0 : -0.0;
    // The detector buffers floats.
    v[i] = static_cast<double>(static_cast<float>(x));
  }
  return v;
}

void ExpectSameProfile(const KpiProfile& a, const KpiProfile& b, uint64_t seed) {
  EXPECT_EQ(a.points, b.points) << seed;
  EXPECT_EQ(a.step_ms, b.step_ms) << seed;
  EXPECT_EQ(a.gap_fraction, b.gap_fraction) << seed;
  EXPECT_EQ(a.counter, b.counter) << seed;
  EXPECT_EQ(a.sparsity, b.sparsity) << seed;
  EXPECT_EQ(a.resolution, b.resolution) << seed;
  EXPECT_EQ(a.noise_ratio, b.noise_ratio) << seed;
  EXPECT_EQ(a.trend_z, b.trend_z) << seed;
  EXPECT_EQ(a.period_ms, b.period_ms) << seed;
  EXPECT_EQ(a.period_strength, b.period_strength) << seed;
  EXPECT_EQ(a.period_jitter, b.period_jitter) << seed;
  EXPECT_EQ(a.phase_drift, b.phase_drift) << seed;
  EXPECT_EQ(a.spikiness, b.spikiness) << seed;
  EXPECT_EQ(a.level, b.level) << seed;
  EXPECT_EQ(a.scale, b.scale) << seed;
  EXPECT_EQ(a.regular, b.regular) << seed;
  EXPECT_EQ(a.detectors, b.detectors) << seed;
  EXPECT_EQ(a.seasonal_slots, b.seasonal_slots) << seed;
  EXPECT_EQ(a.trend_block, b.trend_block) << seed;
}

TEST(KpiProfilerEquivalence, SameProfileAsThePreviousImplementation) {
  size_t periodic = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    std::mt19937_64 rng(seed);
    // Sizes of the first profile (600), the history (192, 96) and others.
    const size_t sizes[] = {600, 192, 96, 16, 17, 40, 1000, 2000};
    const size_t n = sizes[seed % 8];
    std::vector<double> v = Buffer(rng, n);
    std::vector<TimestampMs> ts(n);
    TimestampMs t = 1700000000000;
    for (size_t i = 0; i < n; ++i) {
      t += rng() % 20 == 0 ? 1000 + static_cast<TimestampMs>(rng() % 5000) : 1000;
      ts[i] = t;
    }
    KpiProfile a = ProfileSeries(ts, v), b = OldProfileSeries(ts, v);
    ExpectSameProfile(a, b, seed);
    periodic += b.period_ms > 0;
  }
  EXPECT_GT(periodic, 10u);  // the period search is exercised
}

}  // namespace
}  // namespace vigil
