// Equivalence of RobustDetector with the implementation it replaced.
//
// The detector's window bookkeeping is tuned for speed (docs/design.md,
// "Cost of a point"); its verdicts must not change. The
// previous implementation is kept below, verbatim except for the class name
// and the snapshot code, and both run side by side on long random and
// adversarial streams; every verdict field must be equal.
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "detect/robust_detector.h"

namespace vigil {
namespace {

// ---- the previous implementation (reference) ----
class OldRobustDetector {
 public:

  // Out-of-range config values are clamped to the nearest sane value.
  explicit OldRobustDetector(const RobustDetectorConfig& cfg);

  // Judges `value` against the window BEFORE adding it, then adds it (or its
  // clipped form, see above). Non-finite values are ignored: a not-ready
  // verdict and no state change. `ts` is not used for the judgement; values
  // must come in time order.
  Verdict Update(TimestampMs ts, double value);
  // Forgets everything (e.g. when a series switches between raw values and
  // rates).
  void Reset();
  // Values in the window.
  size_t size() const { return values_.size(); }
  const RobustDetectorConfig& config() const { return cfg_; }


 private:
  struct Band;

  Band ComputeBand();
  void RefreshMad();
  void Insert(double v);
  void ReplaceSorted(double old, double v);
  void Replace(uint64_t seq, double v);
  void EndRun();
  void Rebaseline(double old_lo, double old_hi);

  RobustDetectorConfig cfg_;
  std::deque<double> values_;    // window in arrival order; values_[i] has sequence first_seq_ + i
  std::vector<double> sorted_;   // same values, ascending
  uint64_t first_seq_ = 0;
  double mad_ = 0;               // raw MAD, refreshed lazily
  double step_ = 0;              // resolution of the window's values, refreshed with mad_
  int since_mad_ = 0;            // inserts since mad_ was computed; < 0 = never computed

  // Current excursion: consecutive values beyond the z band in one direction,
  // and how many of the latest of them were also outside the applied band.
  int run_ = 0;
  int outside_run_ = 0;
  int gap_ = 0;
  Direction run_dir_ = Direction::kUp;
  std::vector<double> run_raw_;        // raw values of the excursion (capped at rebaseline_after)
  std::vector<uint64_t> run_seqs_;     // where its median stand-ins sit in the window (short runs only)

  // The normal band before the last rebaseline, accepted as normal too.
  bool has_prev_normal_ = false;
  double prev_lo_ = 0, prev_hi_ = 0;
  int since_rebaseline_ = 0;
};

constexpr double kMadToSigma = 1.4826;     // 1 / Phi^-1(3/4): MAD -> sigma under normal noise
constexpr double kMedianFloor = 0.02;      // scale >= 2% of |median|
constexpr double kSparseMedianFloor = 0.1; // ... 10% when over half the window is one value
constexpr double kSpreadFloor = 0.1;       // scale >= 10% of the 10-90% inter-quantile range
constexpr double kEpsilonFloor = 1e-9;     // scale > 0 even for a constant zero series
// A series that sits at zero most of the time (errors, drops, socket memory)
// has no scale of its own: any departure is infinitely many "sigmas" away.
// Such departures are still reported, but their score is capped at this
// multiple of the threshold, so that they can join an incident yet do not
// look like the strongest evidence on the node by virtue of dividing by ~0.
constexpr double kZeroBaselineScoreCap = 1.5;
constexpr double kZeroBaselineSustainedScoreCap = 2.0;  // after 2 * sparse_confirm_points outside
constexpr double kStepFloor = 1.0 / 3;     // scale >= 1/3 of the series' resolution (threshold 6: 2 steps)
constexpr double kExtremeMargin = 0.5;     // beyond an extreme by half its distance from the median
constexpr double kHeavyTailSigmas = 4.0;   // a window extreme this far out marks that side heavy-tailed
constexpr int kMadRefreshEvery = 32;       // inserts between MAD recomputations (candidates always get a fresh one)

// Value at quantile q of an ascending vector (nearest rank, no interpolation).
double Quantile(const std::vector<double>& sorted, double q) {
  size_t idx = static_cast<size_t>(std::lround(q * static_cast<double>(sorted.size() - 1)));
  return sorted[idx];
}

double Median(const std::vector<double>& sorted) {
  size_t n = sorted.size();
  return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

// Median of |x - med| over an ascending vector, in one linear pass: the
// deviations left of `med` grow walking left, those right of it grow walking
// right, so merging the two walks visits deviations in ascending order.
double MedianAbsDeviation(const std::vector<double>& sorted, double med) {
  size_t n = sorted.size();
  size_t right = static_cast<size_t>(std::lower_bound(sorted.begin(), sorted.end(), med) - sorted.begin());
  ptrdiff_t left = static_cast<ptrdiff_t>(right) - 1;
  size_t k_lo = (n - 1) / 2, k_hi = n / 2;
  double lo_val = 0, cur = 0;
  for (size_t k = 0; k <= k_hi; ++k) {
    double dl = left >= 0 ? med - sorted[static_cast<size_t>(left)] : INFINITY;
    double dr = right < n ? sorted[right] - med : INFINITY;
    if (dl <= dr) {
      cur = dl;
      --left;
    } else {
      cur = dr;
      ++right;
    }
    if (k == k_lo) lo_val = cur;
  }
  return 0.5 * (lo_val + cur);
}

// Decimal resolution of one value as exporters print it: 0.03 -> 0.01,
// 1536 -> 1; 0 for zero or values with more than 9 decimals (no useful
// resolution).
double DecimalQuantum(double v) {
  if (v == 0 || !std::isfinite(v)) return 0;
  double q = 1;
  for (int digits = 0; digits <= 9; ++digits, q /= 10) {
    double scaled = v / q;
    if (std::fabs(scaled) > 1e15) return 0;
    if (std::fabs(scaled - std::nearbyint(scaled)) <= 1e-9 * std::fabs(scaled)) return q;
  }
  return 0;
}

// Resolution of a quantised series: the smallest positive gap between two
// distinct values of the window (1 for counts of sockets or errors, 0.01
// for load averages). A constant window has the decimal resolution of its
// value. Gaps within rounding noise of the values are not resolution: the
// rate of a counter that moves in steps of 0.01 (process_cpu_seconds_total)
// comes out as 0.010000000000000009 and 0.009999999999999787, and a
// resolution of 2e-16 would let 0.03 score in the tens.
double Resolution(const std::vector<double>& sorted) {
  constexpr double kRoundingNoise = 1e-9;  // relative to the values' magnitude
  double step = 0;
  for (size_t i = 1; i < sorted.size(); ++i) {
    double gap = sorted[i] - sorted[i - 1];
    if (gap <= kRoundingNoise * std::max(std::fabs(sorted[i]), std::fabs(sorted[i - 1]))) continue;
    if (step == 0 || gap < step) step = gap;
  }
  if (step == 0 && !sorted.empty()) step = DecimalQuantum(sorted.front());
  return step;
}


struct OldRobustDetector::Band {
  double median = 0;
  double scale = 0;
  double z_lo = 0, z_hi = 0;      // median -/+ threshold * scale
  double lo = 0, hi = 0;          // limits applied (z band widened to the learned extremes)
  bool sparse = false;            // over half the window is one value
  bool heavy_up = false;          // the window already holds an outlier above / below
  bool heavy_down = false;
};

OldRobustDetector::OldRobustDetector(const RobustDetectorConfig& cfg) : cfg_(cfg) {
  cfg_.window = std::max(3, cfg_.window);
  cfg_.warmup = std::clamp(cfg_.warmup, 3, cfg_.window);
  if (!(cfg_.threshold > 0)) cfg_.threshold = 6.0;
  if (!(cfg_.min_scale >= 0) || !std::isfinite(cfg_.min_scale)) cfg_.min_scale = 0;
  cfg_.level_shift_points = std::max(1, cfg_.level_shift_points);
  cfg_.sparse_confirm_points = std::max(1, cfg_.sparse_confirm_points);
  cfg_.heavy_tail_confirm_points = std::max(1, cfg_.heavy_tail_confirm_points);
  if (cfg_.rebaseline_after <= 0) cfg_.rebaseline_after = std::max(cfg_.warmup, cfg_.window / 8);
  cfg_.rebaseline_after = std::clamp(cfg_.rebaseline_after, cfg_.warmup, cfg_.window);
  cfg_.shift_gap_points = std::clamp(cfg_.shift_gap_points, 0, cfg_.rebaseline_after);
  if (cfg_.mature_after <= 0) cfg_.mature_after = std::min(cfg_.window, std::max(4 * cfg_.warmup, cfg_.window / 2));
  cfg_.mature_after = std::clamp(cfg_.mature_after, cfg_.warmup, cfg_.window);
  since_mad_ = -1;
}

void OldRobustDetector::Reset() {
  values_.clear();
  sorted_.clear();
  first_seq_ = 0;
  mad_ = 0;
  step_ = 0;
  since_mad_ = -1;
  run_ = 0;
  outside_run_ = 0;
  gap_ = 0;
  run_raw_.clear();
  run_seqs_.clear();
  has_prev_normal_ = false;
  prev_lo_ = prev_hi_ = 0;
  since_rebaseline_ = 0;
}

void OldRobustDetector::RefreshMad() {
  mad_ = MedianAbsDeviation(sorted_, Median(sorted_));
  step_ = Resolution(sorted_);
  since_mad_ = 0;
}

OldRobustDetector::Band OldRobustDetector::ComputeBand() {
  if (since_mad_ < 0 || since_mad_ >= kMadRefreshEvery) RefreshMad();
  Band b;
  b.median = Median(sorted_);
  double spread = Quantile(sorted_, 0.9) - Quantile(sorted_, 0.1);
  b.sparse = mad_ == 0;
  double median_floor = (b.sparse ? kSparseMedianFloor : kMedianFloor) * std::fabs(b.median);
  double floor = median_floor + kSpreadFloor * spread + kStepFloor * step_ + cfg_.min_scale + kEpsilonFloor;
  b.scale = std::max(kMadToSigma * mad_, floor);
  double reach = cfg_.threshold * b.scale;
  b.z_lo = b.median - reach;
  b.z_hi = b.median + reach;
  double mn = sorted_.front(), mx = sorted_.back();
  b.heavy_up = mx - b.median > kHeavyTailSigmas * b.scale;
  b.heavy_down = b.median - mn > kHeavyTailSigmas * b.scale;
  // Extremes widen the band only when they are outliers themselves (bursts
  // the series has shown): otherwise values creeping up inside the z band
  // would drag the limit along with them.
  b.hi = mx > b.z_hi ? mx + kExtremeMargin * (mx - b.median) + b.scale : b.z_hi;
  b.lo = mn < b.z_lo ? mn - kExtremeMargin * (b.median - mn) - b.scale : b.z_lo;
  return b;
}

// Replaces one occurrence of `old` in the sorted window by `v` with a single
// shift of the values between the two positions (erase + insert would move
// twice as much memory; on a full window this is the detector's hot spot).
void OldRobustDetector::ReplaceSorted(double old, double v) {
  auto first = sorted_.begin();
  auto at = std::lower_bound(first, sorted_.end(), old);
  if (v >= old) {
    auto to = std::upper_bound(at + 1, sorted_.end(), v);
    std::move(at + 1, to, at);
    *(to - 1) = v;
  } else {
    auto to = std::upper_bound(first, at, v);
    std::move_backward(to, at, at + 1);
    *to = v;
  }
}

void OldRobustDetector::Insert(double v) {
  if (values_.size() == static_cast<size_t>(cfg_.window)) {
    double old = values_.front();
    values_.pop_front();
    ++first_seq_;
    ReplaceSorted(old, v);
  } else {
    sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), v), v);
  }
  values_.push_back(v);
  if (since_mad_ >= 0) ++since_mad_;
}

void OldRobustDetector::Replace(uint64_t seq, double v) {
  if (seq < first_seq_ || seq - first_seq_ >= values_.size()) return;  // already left the window
  double& slot = values_[seq - first_seq_];
  ReplaceSorted(slot, v);
  slot = v;
  if (since_mad_ >= 0) ++since_mad_;
}

// A short excursion is over: it was a burst, and the series can do that, so
// its real values replace the clipped copies (learned extremes).
void OldRobustDetector::EndRun() {
  if (run_ > 0 && run_ < cfg_.level_shift_points) {
    for (size_t i = 0; i < run_seqs_.size() && i < run_raw_.size(); ++i) Replace(run_seqs_[i], run_raw_[i]);
  }
  run_ = 0;
  outside_run_ = 0;
  gap_ = 0;
  run_raw_.clear();
  run_seqs_.clear();
}

// The excursion has lasted long enough to be the new normal. The old normal
// band is remembered: a return to it is not news.
void OldRobustDetector::Rebaseline(double old_lo, double old_hi) {
  std::vector<double> recent = std::move(run_raw_);
  Reset();
  for (double v : recent) Insert(v);
  has_prev_normal_ = true;
  prev_lo_ = old_lo;
  prev_hi_ = old_hi;
  since_rebaseline_ = 0;
}

Verdict OldRobustDetector::Update(TimestampMs /*ts*/, double value) {
  Verdict v;
  if (!std::isfinite(value)) return v;
  if (values_.size() < static_cast<size_t>(cfg_.warmup)) {
    Insert(value);
    v.expected = Median(sorted_);
    v.lower = sorted_.front();
    v.upper = sorted_.back();
    return v;
  }

  Band b = ComputeBand();
  bool beyond_z = value > b.z_hi || value < b.z_lo;
  if (beyond_z && since_mad_ != 0) {  // judge candidates with a fresh MAD
    RefreshMad();
    b = ComputeBand();
    beyond_z = value > b.z_hi || value < b.z_lo;
  }
  bool outside = value > b.hi || value < b.lo;  // implies beyond_z

  bool back_to_prev = false;
  if (has_prev_normal_) {
    // Forget the earlier normal once the window is back in it, or after a
    // whole window of the new one.
    if (++since_rebaseline_ > cfg_.window || (b.median >= prev_lo_ && b.median <= prev_hi_)) {
      has_prev_normal_ = false;
    } else if (beyond_z && value >= prev_lo_ && value <= prev_hi_) {
      beyond_z = outside = false;  // back to the normal before the last level shift
      back_to_prev = true;
    }
  }

  v.ready = true;
  v.expected = b.median;
  v.lower = b.lo;
  v.upper = b.hi;
  const double raw_score = std::fabs(value - b.median) / b.scale;
  const bool zero_baseline = b.sparse && b.median == 0.0;
  v.score = zero_baseline ? std::min(raw_score, kZeroBaselineScoreCap * cfg_.threshold) : raw_score;
  v.direction = value >= b.median ? Direction::kUp : Direction::kDown;

  // A confirmed level shift whose noise reaches back inside the band is
  // still that shift: a point on its side, more than half the band's reach
  // from the old median, continues the run (neither reported nor learned)
  // instead of ending it, so a new level straddling the band's edge is
  // accepted after rebaseline_after points like one wholly outside it (the
  // interrupt rate of an idle host after a load test: 920/s before, 450-600/s
  // after, band edge at 547).
  const bool continues_shift = !beyond_z && !back_to_prev && run_ >= cfg_.level_shift_points &&
                               v.direction == run_dir_ && std::fabs(value - b.median) > 0.5 * (b.z_hi - b.median);
  if (!beyond_z && !continues_shift) {
    if (run_ >= cfg_.level_shift_points && !back_to_prev && !b.sparse && gap_ < cfg_.shift_gap_points) {
      ++gap_;
      Insert(sorted_[sorted_.size() / 2]);
      return v;
    }
    EndRun();
    Insert(value);
    return v;
  }
  gap_ = 0;

  // Beyond the z band: part of an excursion, whether or not the learned
  // extremes tolerate it. Tolerated points are not learned either (the
  // median stands in for them), so a slow ramp cannot raise the extremes
  // step by step and creep past them.
  if (run_ > 0 && run_dir_ != v.direction) EndRun();
  run_dir_ = v.direction;
  ++run_;
  outside_run_ = outside ? outside_run_ + 1 : 0;
  if (run_raw_.size() < static_cast<size_t>(cfg_.rebaseline_after)) run_raw_.push_back(value);

  bool heavy = v.direction == Direction::kUp ? b.heavy_up : b.heavy_down;
  int needed = 1;
  // A young window has not yet seen the series' tails: one point is not enough.
  bool young = values_.size() < static_cast<size_t>(cfg_.mature_after);
  if (heavy || young) needed = std::max(needed, cfg_.heavy_tail_confirm_points);
  if (b.sparse) needed = std::max(needed, cfg_.sparse_confirm_points);
  if (outside && outside_run_ >= needed) {
    v.anomalous = true;
    bool up = v.direction == Direction::kUp;
    if (run_ >= cfg_.level_shift_points) {
      v.pattern = up ? "level_shift_up" : "level_shift_down";
    } else {
      v.pattern = up ? "spike" : "dip";
    }
    if (zero_baseline && cfg_.counts_failures && outside_run_ >= 2 * cfg_.sparse_confirm_points) {
      v.score = std::min(raw_score, kZeroBaselineSustainedScoreCap * cfg_.threshold);
    }
  }

  if (run_ >= cfg_.rebaseline_after) {
    Rebaseline(b.lo, b.hi);
    return v;
  }
  // Hampel's replacement rule: an outlier enters the window as the median
  // (a value the window holds, so integers stay integers), leaving centre,
  // spread, extremes and resolution as they were.
  Insert(sorted_[sorted_.size() / 2]);
  if (run_ < cfg_.level_shift_points) run_seqs_.push_back(first_seq_ + values_.size() - 1);
  return v;
}


// ---- streams ----

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Values a stream draws from; every kind of series the daemon meets.
std::vector<double> Stream(uint64_t seed, size_t n) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> g(0, 1);
  std::vector<double> out;
  out.reserve(n);
  double level = std::pow(10.0, u(rng) * 8 - 3) * (u(rng) < 0.2 ? -1 : 1);
  double noise = level * std::pow(10.0, -u(rng) * 4) + (u(rng) < 0.3 ? 0 : 1e-3);
  int mode = static_cast<int>(rng() % 7);
  double counter = 0;
  while (out.size() < n) {
    // regime changes: level shifts, new modes
    if (u(rng) < 0.004) mode = static_cast<int>(rng() % 7);
    if (u(rng) < 0.003) level *= u(rng) < 0.5 ? 10 : 0.1;
    if (u(rng) < 0.003) level += noise * (u(rng) * 40 - 20);
    double x = 0;
    switch (mode) {
      case 0: x = level + noise * g(rng); break;                                     // gaussian
      case 1: x = std::round(level + noise * 3 * g(rng)); break;                     // integer counts
      case 2: x = u(rng) < 0.9 ? 0.0 : std::round(u(rng) * 5); break;                // sparse, mostly zero
      case 3: x = level; break;                                                      // constant run
      case 4: x = std::round((level + noise * g(rng)) * 100) / 100; break;           // two decimals
      case 5: x = level + noise * std::pow(u(rng) + 1e-9, -1.5); break;              // heavy tail
      case 6: counter += std::fabs(noise) * u(rng); x = counter; break;              // ramp / counter
    }
    double r = u(rng);
    if (r < 0.01) x = level + noise * (u(rng) < 0.5 ? 50 : -50) * (1 + 10 * u(rng));  // spike
    else if (r < 0.015) x = kNaN;                                                    // staleness / gaps
    else if (r < 0.017) x = u(rng) < 0.5 ? kInf : -kInf;
    else if (r < 0.02) x = 0.0;
    else if (r < 0.022) x = -0.0;
    else if (r < 0.025) counter = 0;                                                 // counter reset
    else if (r < 0.027 && !out.empty()) x = out.back();                              // repeats
    // bursts: a few points far out, then back
    if (u(rng) < 0.005) {
      int len = 1 + static_cast<int>(rng() % 8);
      double far = level + noise * (u(rng) < 0.5 ? 1 : -1) * (20 + 100 * u(rng));
      for (int k = 0; k < len && out.size() < n; ++k) out.push_back(far);
    }
    out.push_back(x);
  }
  out.resize(n);
  return out;
}

RobustDetectorConfig RandomConfig(std::mt19937_64& rng) {
  RobustDetectorConfig c;
  switch (rng() % 4) {
    case 0: break;  // the daemon's defaults
    case 1: c.window = 3 + static_cast<int>(rng() % 20); c.warmup = 3 + static_cast<int>(rng() % 5); break;
    case 2: c.window = 50 + static_cast<int>(rng() % 300); c.warmup = 10 + static_cast<int>(rng() % 40); break;
    case 3: c.window = 64; c.warmup = 64; c.min_scale = 0.01; c.threshold = 3; break;
  }
  return c;
}

// Equal as the daemon uses them: every field, doubles compared with ==
// (so NaN never equals; a -0.0 and a 0.0 in the same place are equal).
void ExpectSame(const Verdict& a, const Verdict& b, size_t i, uint64_t seed) {
  ASSERT_EQ(a.ready, b.ready) << "seed " << seed << " point " << i;
  ASSERT_EQ(a.anomalous, b.anomalous) << "seed " << seed << " point " << i;
  ASSERT_EQ(a.expected, b.expected) << "seed " << seed << " point " << i;
  ASSERT_EQ(a.lower, b.lower) << "seed " << seed << " point " << i;
  ASSERT_EQ(a.upper, b.upper) << "seed " << seed << " point " << i;
  ASSERT_EQ(a.score, b.score) << "seed " << seed << " point " << i;
  ASSERT_EQ(a.direction, b.direction) << "seed " << seed << " point " << i;
  ASSERT_STREQ(a.pattern, b.pattern) << "seed " << seed << " point " << i;
}

TEST(RobustDetectorEquivalence, SameVerdictsAsThePreviousImplementation) {
  size_t points = 0, anomalies = 0, ready = 0;
  for (uint64_t seed = 1; seed <= 120; ++seed) {
    std::mt19937_64 rng(seed * 7919);
    RobustDetectorConfig cfg = RandomConfig(rng);
    RobustDetector now(cfg);
    OldRobustDetector old(cfg);
    std::vector<double> xs = Stream(seed, 6000);
    for (size_t i = 0; i < xs.size(); ++i) {
      if (rng() % 3000 == 0) {  // a series switching between raw values and rates
        now.Reset();
        old.Reset();
      }
      Verdict a = now.Update(static_cast<TimestampMs>(i) * 1000, xs[i]);
      Verdict b = old.Update(static_cast<TimestampMs>(i) * 1000, xs[i]);
      ExpectSame(a, b, i, seed);
      ASSERT_EQ(now.size(), old.size()) << "seed " << seed << " point " << i;
      anomalies += a.anomalous;
      ready += a.ready;
      ++points;
    }
  }
  // The streams exercise the detector, not just its warm-up.
  EXPECT_GT(ready, points / 2);
  EXPECT_GT(anomalies, points / 1000);
}

TEST(RobustDetectorEquivalence, SameVerdictsAfterASnapshotRoundTrip) {
  // The new window layout is rebuilt from a snapshot; it must continue
  // exactly as an uninterrupted detector (and so as the old one).
  for (uint64_t seed = 200; seed < 230; ++seed) {
    std::mt19937_64 rng(seed);
    RobustDetectorConfig cfg = RandomConfig(rng);
    RobustDetector now(cfg);
    OldRobustDetector old(cfg);
    std::vector<double> xs = Stream(seed, 3000);
    size_t cut = 500 + rng() % 2000;
    for (size_t i = 0; i < xs.size(); ++i) {
      if (i == cut) {
        std::string blob;
        now.AppendTo(&blob);
        std::string_view in(blob);
        auto restored = RobustDetector::Parse(&in, cfg);
        ASSERT_TRUE(restored.ok());
        now = std::move(restored).value();
      }
      ExpectSame(now.Update(static_cast<TimestampMs>(i), xs[i]), old.Update(static_cast<TimestampMs>(i), xs[i]), i,
                 seed);
    }
  }
}

// The daemon's call: Detail::kAnomalies defers the sorted window for points
// well inside the band. Same decisions as the previous implementation on
// every point, every field of every anomaly, and the same state: the
// snapshot of a deferred detector is byte-identical to that of one judging
// every point in full.
TEST(RobustDetectorEquivalence, DeferredSortedWindowDecidesTheSame) {
  size_t points = 0, deferred = 0, anomalies = 0;
  for (uint64_t seed = 1; seed <= 120; ++seed) {
    std::mt19937_64 rng(seed * 104729);
    RobustDetectorConfig cfg = RandomConfig(rng);
    RobustDetector lazy(cfg), full(cfg);
    OldRobustDetector old(cfg);
    std::vector<double> xs = Stream(seed + 1000, 6000);
    for (size_t i = 0; i < xs.size(); ++i) {
      if (rng() % 3000 == 0) {
        lazy.Reset();
        full.Reset();
        old.Reset();
      }
      const auto ts = static_cast<TimestampMs>(i) * 1000;
      Verdict a = lazy.Update(ts, xs[i], RobustDetector::Detail::kAnomalies);
      Verdict f = full.Update(ts, xs[i]);
      Verdict b = old.Update(ts, xs[i]);
      ExpectSame(f, b, i, seed);
      ASSERT_EQ(a.ready, b.ready) << "seed " << seed << " point " << i;
      ASSERT_EQ(a.anomalous, b.anomalous) << "seed " << seed << " point " << i;
      ASSERT_STREQ(a.pattern, b.pattern) << "seed " << seed << " point " << i;
      if (a.anomalous) ExpectSame(a, b, i, seed);
      // A full verdict always has lower < upper (the scale is > 0).
      deferred += a.ready && a.lower == 0 && a.upper == 0;
      anomalies += a.anomalous;
      ++points;
      if (i % 997 == 0 || i + 1 == xs.size()) {
        std::string sa, sf;
        lazy.AppendTo(&sa);
        full.AppendTo(&sf);
        ASSERT_EQ(sa, sf) << "seed " << seed << " point " << i;
      }
    }
  }
  // The deferred path is taken (21% of these points: a quarter of the
  // configurations have windows too small for it, and the streams are
  // dense with spikes, regime changes and resets).
  EXPECT_GT(deferred, points / 8);
  EXPECT_GT(anomalies, points / 1000);
}

// Switching between the two kinds of call, and snapshots taken while
// replacements are still deferred, change nothing.
TEST(RobustDetectorEquivalence, DeferredAndFullCallsMix) {
  for (uint64_t seed = 300; seed < 340; ++seed) {
    std::mt19937_64 rng(seed);
    RobustDetectorConfig cfg;  // the daemon's window
    if (seed % 2 == 1) cfg.window = 100 + static_cast<int>(rng() % 200);
    RobustDetector now(cfg);
    OldRobustDetector old(cfg);
    std::vector<double> xs = Stream(seed, 4000);
    for (size_t i = 0; i < xs.size(); ++i) {
      if (rng() % 700 == 0) {
        std::string blob;
        now.AppendTo(&blob);
        std::string_view in(blob);
        auto restored = RobustDetector::Parse(&in, cfg);
        ASSERT_TRUE(restored.ok());
        now = std::move(restored).value();
      }
      const bool lazy = (i / 50) % 3 != 0;
      Verdict a = now.Update(static_cast<TimestampMs>(i), xs[i],
                             lazy ? RobustDetector::Detail::kAnomalies : RobustDetector::Detail::kFull);
      Verdict b = old.Update(static_cast<TimestampMs>(i), xs[i]);
      ASSERT_EQ(a.ready, b.ready) << "seed " << seed << " point " << i;
      ASSERT_EQ(a.anomalous, b.anomalous) << "seed " << seed << " point " << i;
      ASSERT_STREQ(a.pattern, b.pattern) << "seed " << seed << " point " << i;
      if (!lazy || a.anomalous) ExpectSame(a, b, i, seed);
    }
  }
}

}  // namespace
}  // namespace vigil
