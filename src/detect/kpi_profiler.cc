#include "detect/kpi_profiler.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>

namespace vigil {

namespace {

constexpr int64_t kDayMs = 86400000;
constexpr int64_t kWeekMs = 7 * kDayMs;

double MedianOf(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// Sorts finite doubles ascending: an LSD radix sort on their bits mapped
// to unsigned keys of the same order, one pass per byte that is not the
// same in every key (values the detector buffered as floats have zero low
// bytes). A profile sorts every buffer it looks at; at these sizes this is
// several times cheaper than a comparison sort. Equal values compare equal
// either way, so everything read from the result is the same (a -0.0 and a
// 0.0 may come out in another order, which nothing distinguishes).
void SortValues(std::vector<double>& v) {
  const size_t n = v.size();
  if (n < 64) {
    std::sort(v.begin(), v.end());
    return;
  }
  std::vector<uint64_t> keys(n), tmp(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t b;
    std::memcpy(&b, &v[i], sizeof b);
    keys[i] = (b >> 63) != 0 ? ~b : b | (uint64_t{1} << 63);
  }
  size_t count[256];
  for (int shift = 0; shift < 64; shift += 8) {
    std::fill(std::begin(count), std::end(count), 0);
    for (uint64_t k : keys) ++count[(k >> shift) & 0xff];
    if (count[(keys[0] >> shift) & 0xff] == n) continue;  // this byte orders nothing
    size_t at = 0;
    for (size_t& c : count) {
      const size_t here = c;
      c = at;
      at += here;
    }
    for (uint64_t k : keys) tmp[count[(k >> shift) & 0xff]++] = k;
    keys.swap(tmp);
  }
  for (size_t i = 0; i < n; ++i) {
    const uint64_t k = keys[i];
    const uint64_t b = (k >> 63) != 0 ? k & ~(uint64_t{1} << 63) : ~k;
    std::memcpy(&v[i], &b, sizeof b);
  }
}

// Robust sd of v (1.4826 * MAD around the median; the mean absolute
// deviation when over half the values are equal), given an ascending copy:
// the median is its middle element, and the deviations from it are visited
// in ascending order by walking outwards from the median, so their middle
// one needs no selection (the fallback sums in v's order).
double RobustSdSorted(const std::vector<double>& v, const std::vector<double>& sorted, double* median_out) {
  const size_t n = sorted.size();
  const double med = sorted[n / 2];
  *median_out = med;
  // The (n/2)-th smallest |x - med|, 0-based.
  size_t right = static_cast<size_t>(std::lower_bound(sorted.begin(), sorted.end(), med) - sorted.begin());
  ptrdiff_t left = static_cast<ptrdiff_t>(right) - 1;
  double cur = 0;
  for (size_t k = 0; k <= n / 2; ++k) {
    double dl = left >= 0 ? med - sorted[static_cast<size_t>(left)] : INFINITY;
    double dr = right < n ? sorted[right] - med : INFINITY;
    if (dl <= dr) {
      cur = dl;
      --left;
    } else {
      cur = dr;
      ++right;
    }
  }
  double mad = 1.4826 * cur;
  if (mad == 0) {
    double s = 0;
    for (double x : v) s += std::fabs(x - med);
    mad = 1.2533 * s / static_cast<double>(n);
  }
  return mad;
}

// Autocorrelation of x at lags 1..max_lag. Four lags share one pass: each
// lag's sum still adds the same products in the same order (so the result
// is bit for bit the plain double loop's), but the four dependency chains
// overlap instead of waiting for each other (profiling is a visible part of
// the daemon's cost while many series finish their learning phase).
std::vector<double> Acf(const std::vector<double>& x, size_t max_lag) {
  double mean = 0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(x.size());
  double var = 0;
  for (double v : x) var += (v - mean) * (v - mean);
  std::vector<double> acf(max_lag + 1, 0.0);
  if (var <= 0) return acf;
  const size_t n = x.size();
  std::vector<double> d(n);
  for (size_t i = 0; i < n; ++i) d[i] = x[i] - mean;
  size_t lag = 1;
  for (; lag + 3 <= max_lag && lag + 3 < n; lag += 4) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    // Lag L's sum runs over i = L..n-1: the first terms of the smaller lags
    // go first, then all four advance together.
    s0 += d[lag] * d[0];
    s0 += d[lag + 1] * d[1];
    s1 += d[lag + 1] * d[0];
    s0 += d[lag + 2] * d[2];
    s1 += d[lag + 2] * d[1];
    s2 += d[lag + 2] * d[0];
    for (size_t i = lag + 3; i < n; ++i) {
      s0 += d[i] * d[i - lag];
      s1 += d[i] * d[i - lag - 1];
      s2 += d[i] * d[i - lag - 2];
      s3 += d[i] * d[i - lag - 3];
    }
    acf[lag] = s0 / var;
    acf[lag + 1] = s1 / var;
    acf[lag + 2] = s2 / var;
    acf[lag + 3] = s3 / var;
  }
  for (; lag <= max_lag; ++lag) {
    double s = 0;
    for (size_t i = lag; i < n; ++i) s += d[i] * d[i - lag];
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

}  // namespace

std::string DetectorNames(uint32_t mask) {
  static const char* kNames[] = {"level", "seasonal", "holt_winters", "spectral_residual", "cusum",
                                 "bocpd", "trend",    "learned_limits", "hard_limits",     "spot", "knn_novelty"};
  std::string out;
  for (int i = 0; i < 11; ++i) {
    if (mask & (1u << i)) {
      if (!out.empty()) out += ",";
      out += kNames[i];
    }
  }
  return out;
}

KpiProfile ProfileSeries(const std::vector<TimestampMs>& ts, const std::vector<double>& values) {
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

  // Sparsity and resolution: runs of equal values in an ascending copy
  // (the most common value, the smallest gap between distinct ones).
  std::vector<double> sorted = v;
  SortValues(sorted);
  size_t mode = 0, run = 0;
  double res = INFINITY;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && sorted[i] == sorted[i - 1]) {
      ++run;
    } else {
      if (i > 0) res = std::min(res, sorted[i] - sorted[i - 1]);
      run = 1;
    }
    mode = std::max(mode, run);
  }
  p.sparsity = static_cast<double>(mode) / static_cast<double>(n);
  p.resolution = std::isfinite(res) ? res : 0;

  // Noise.
  p.scale = RobustSdSorted(v, sorted, &p.level);
  std::vector<double> diffs;
  for (size_t i = 1; i < n; ++i) diffs.push_back(v[i] - v[i - 1]);
  std::vector<double> diffs_sorted = diffs;
  SortValues(diffs_sorted);
  double diff_median;
  const double diff_sd = RobustSdSorted(diffs, diffs_sorted, &diff_median);
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

void ChooseDetectors(KpiProfile* pp) {
  KpiProfile& p = *pp;
  p.detectors = kDetLevel | kDetCusum | kDetSpot | kDetTrend;
  p.regular = p.period_ms > 0 || p.noise_ratio < 0.5;
  if (p.period_ms > 0) {
    p.detectors |= kDetSeasonal | kDetHoltWinters;
    const double points_per_period = static_cast<double>(p.period_ms) / static_cast<double>(p.step_ms);
    p.seasonal_slots = static_cast<int>(std::clamp(points_per_period, 4.0, 168.0));
  } else {
    // Without a period the seasonal profile's memory holds the KNN novelty
    // view instead (shapes and levels never seen before; round nab4).
    p.detectors |= kDetBocpd | kDetNovelty;
  }
  if (!p.regular) {
    p.detectors |= kDetLearnedLimits;
    if (p.spikiness > 0.002 && p.sparsity < 0.5) p.detectors |= kDetSpectral;
  }
  // Trend blocks: the test window spans about a day, or 24 blocks of 16 points.
  const int64_t day_points = kDayMs / std::max<int64_t>(1, p.step_ms);
  p.trend_block = static_cast<int>(std::clamp<int64_t>(day_points / 24, 4, 64));
}

}  // namespace vigil
