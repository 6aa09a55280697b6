#include "detect/robust_detector.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "core/byte_codec.h"
#include "detect/snapshot_fields.h"

namespace vigil {

namespace {

using snapshot_fields::GetDouble;
using snapshot_fields::GetI64;
using snapshot_fields::GetU32;
using snapshot_fields::GetU64;
using snapshot_fields::GetU8;

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
// ... but on a series that counts failures (RobustDetectorConfig::
// counts_failures), a departure from zero that has lasted twice
// sparse_confirm_points (a minute of 5xx at a 10 s scrape, where a static
// rule says "5xx > 5% for 2 scrapes") is no artefact of the division: zero is
// that series' healthy value, and the departure may reach this multiple
// of the threshold (12 at threshold 6, the incidents' default open_score), so
// an error-only fault (a method throwing on a third of its calls, every other
// series of the service normal) opens an incident instead of only joining one.
constexpr double kZeroBaselineSustainedScoreCap = 2.0;
constexpr double kStepFloor = 1.0 / 3;     // scale >= 1/3 of the series' resolution (threshold 6: 2 steps)
constexpr double kExtremeMargin = 0.5;     // beyond an extreme by half its distance from the median
constexpr double kHeavyTailSigmas = 4.0;   // a window extreme this far out marks that side heavy-tailed
constexpr uint8_t kSnapshotVersion = 3;  // 3 added the shift's gap count; 2 is still read (gap 0)
constexpr uint32_t kMaxSnapshotValues = 1u << 20;

// Value at quantile q of an ascending vector (nearest rank, no interpolation).
double Quantile(const std::vector<double>& sorted, double q) {
  size_t idx = static_cast<size_t>(std::lround(q * static_cast<double>(sorted.size() - 1)));
  return sorted[idx];
}

double Median(const std::vector<double>& sorted) {
  size_t n = sorted.size();
  return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

// Median of |x - med| over an ascending vector. The deviations left of
// `med` grow walking left, those right of it grow walking right: two sorted
// sequences, whose k-th smallest element a binary search over how many come
// from the left one finds in O(log n) (the classic selection in the union
// of two sorted arrays), instead of merging the walks (which mispredicted a
// branch at every other step). Each deviation is computed as the merge did,
// so the result is the same double.
double KthDeviation(const std::vector<double>& sorted, double med, size_t right, size_t k) {
  const double* s = sorted.data();
  const size_t m = right, p = sorted.size() - right;  // left and right sequence lengths
  auto left_dev = [&](size_t i) { return med - s[right - 1 - i]; };
  auto right_dev = [&](size_t j) { return s[right + j] - med; };
  const size_t take = k + 1;  // the take smallest: i from the left, take - i from the right
  size_t lo = take > p ? take - p : 0, hi = std::min(take, m);
  while (lo < hi) {
    const size_t i = lo + (hi - lo) / 2;
    if (left_dev(i) < right_dev(take - i - 1)) {
      lo = i + 1;
    } else {
      hi = i;
    }
  }
  const size_t i = lo, j = take - lo;
  const double a = i > 0 ? left_dev(i - 1) : -INFINITY;
  const double b = j > 0 ? right_dev(j - 1) : -INFINITY;
  return std::max(a, b);
}

double MedianAbsDeviation(const std::vector<double>& sorted, double med) {
  const size_t n = sorted.size();
  const size_t right = static_cast<size_t>(std::lower_bound(sorted.begin(), sorted.end(), med) - sorted.begin());
  const size_t k_lo = (n - 1) / 2, k_hi = n / 2;
  const double lo_val = KthDeviation(sorted, med, right, k_lo);
  const double hi_val = k_hi == k_lo ? lo_val : KthDeviation(sorted, med, right, k_hi);
  return 0.5 * (lo_val + hi_val);
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

}  // namespace

struct RobustDetector::Band {
  double median = 0;
  double scale = 0;
  double z_lo = 0, z_hi = 0;      // median -/+ threshold * scale
  double lo = 0, hi = 0;          // limits applied (z band widened to the learned extremes)
  bool sparse = false;            // over half the window is one value
  bool heavy_up = false;          // the window already holds an outlier above / below
  bool heavy_down = false;
};

RobustDetector::RobustDetector(const RobustDetectorConfig& cfg) : cfg_(cfg) {
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

void RobustDetector::Reset() {
  ring_.clear();
  head_ = 0;
  count_ = 0;
  deferred_ = 0;
  sorted_.clear();
  fast_ok_ = false;
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

void RobustDetector::RefreshMad() {
  mad_ = MedianAbsDeviation(sorted_, Median(sorted_));
  step_ = Resolution(sorted_);
  since_mad_ = 0;
}

RobustDetector::Band RobustDetector::ComputeBand() {
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
void RobustDetector::ReplaceSorted(double old, double v) {
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

// Writes v into the slot after the newest value (the ring grows until it
// has all its slots; the slot it overwrites then is one that left the
// window kMadRefreshEvery values ago).
void RobustDetector::PutNewest(double v) {
  const size_t cap = static_cast<size_t>(cfg_.window) + kMadRefreshEvery;
  const size_t slot = Physical(head_ + count_);
  if (slot < ring_.size()) {
    ring_[slot] = v;
  } else {
    if (ring_.capacity() < cap) ring_.reserve(cap);
    ring_.push_back(v);  // not wrapped yet: slot == ring_.size()
  }
}

void RobustDetector::Insert(double v) {
  const size_t window = static_cast<size_t>(cfg_.window);
  if (count_ == window) {
    double old = ring_[head_];
    PutNewest(v);
    head_ = Physical(head_ + 1);
    ++first_seq_;
    ReplaceSorted(old, v);
  } else {
    PutNewest(v);
    ++count_;
    sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), v), v);
  }
  if (since_mad_ >= 0) ++since_mad_;
}

void RobustDetector::Replace(uint64_t seq, double v) {
  if (seq < first_seq_ || seq - first_seq_ >= count_) return;  // already left the window
  double& slot = ring_[Slot(seq - first_seq_)];
  ReplaceSorted(slot, v);
  slot = v;
  if (since_mad_ >= 0) ++since_mad_;
}

namespace {

// Sorts a[0..N) (N a power of two) with Batcher's bitonic network (K. E.
// Batcher, "Sorting networks and their applications", AFIPS 1968): a fixed
// sequence of min/max exchanges, so no branch depends on the values (the
// values of a catch-up are noise, and a comparison sort mispredicts about
// every other comparison on them).
template <size_t N>
void BitonicSort(double* a) {
  for (size_t k = 2; k <= N; k <<= 1) {
    for (size_t j = k >> 1; j > 0; j >>= 1) {
      for (size_t b = 0; b < N; b += 2 * j) {
        const bool up = (b & k) == 0;
        for (size_t i = b; i < b + j; ++i) {
          const double x = a[i], y = a[i + j];
          const double lo = std::min(x, y), hi = std::max(x, y);
          a[i] = up ? lo : hi;
          a[i + j] = up ? hi : lo;
        }
      }
    }
  }
}

// Sorts the p finite values of a[0..p) (p <= 32; a has room for 32): padded
// with +inf to the next network size.
void SortFew(double* a, size_t p) {
  if (p <= 1) return;
  const size_t size = p <= 8 ? 8 : p <= 16 ? 16 : 32;
  for (size_t i = p; i < size; ++i) a[i] = INFINITY;
  if (size == 8) {
    BitonicSort<8>(a);
  } else if (size == 16) {
    BitonicSort<16>(a);
  } else {
    BitonicSort<32>(a);
  }
}

}  // namespace

// Brings the sorted copy up to date with the ring: removes the deferred_
// values that left the window (still in the slots before the oldest) and
// inserts the newest deferred_ values that replaced them, in two linear
// passes over the part of the array they touch. Values that left and came
// back in the same batch cancel out.
void RobustDetector::CatchUpSorted() {
  static_assert(kMadRefreshEvery == 32, "SortFew sorts at most 32 values");
  const size_t p = deferred_;
  if (p == 0) return;
  double gone[kMadRefreshEvery], came[kMadRefreshEvery];
  const size_t n = count_, cap = n + kMadRefreshEvery;  // deferring needs a full window
  for (size_t i = 0; i < p; ++i) {
    gone[i] = ring_[Physical(head_ + cap - p + i)];
    came[i] = ring_[Slot(n - p + i)];
  }
  deferred_ = 0;
  SortFew(gone, p);
  SortFew(came, p);
  // Cancel values both in and out (multiset difference, in place).
  size_t q = 0, j = 0, kept_came = 0;
  for (size_t i = 0; i < p; ++i) {
    while (j < p && came[j] < gone[i]) came[kept_came++] = came[j++];
    if (j < p && came[j] == gone[i]) {
      ++j;  // gone[i] came back: neither leaves nor enters
    } else {
      gone[q++] = gone[i];
    }
  }
  while (j < p) came[kept_came++] = came[j++];
  if (q == 0) return;  // q == kept_came: as many leave as enter
  // Remove gone[0..q) (each is in sorted_, which holds the old window).
  // (Branches here mispredict only at the q hits; a branch-free form makes
  // every step wait for the previous one and was slower.)
  double* s = sorted_.data();
  size_t r = static_cast<size_t>(std::lower_bound(s, s + n, gone[0]) - s), w = r;
  for (size_t g = 0; r < n; ++r) {
    if (g < q && s[r] == gone[g]) {
      ++g;
    } else {
      s[w++] = s[r];
    }
  }
  // Merge came[0..q) in from the back: s[0..n-q) is sorted, room for q.
  ptrdiff_t a = static_cast<ptrdiff_t>(n - q) - 1, c = static_cast<ptrdiff_t>(q) - 1, out = static_cast<ptrdiff_t>(n) - 1;
  while (c >= 0) {
    if (a >= 0 && s[a] > came[c]) {
      s[out--] = s[a--];
    } else {
      s[out--] = came[c--];
    }
  }
}

// After a point judged in full: the narrowest z band any window reachable by
// up to kMadRefreshEvery replacements can have, from order statistics kMad-
// RefreshEvery ranks further out (each replacement moves an order statistic
// by at most one rank) and the MAD and resolution in force until the next
// refresh. Every step is monotone under IEEE rounding, so a value inside
// [fast_lo_, fast_hi_] is inside ComputeBand's z band then.
void RobustDetector::ArmFastPath() {
  fast_ok_ = false;
  const size_t n = sorted_.size();
  const size_t k = kMadRefreshEvery;
  if (n != static_cast<size_t>(cfg_.window) || has_prev_normal_ || run_ != 0 || since_mad_ < 0) return;
  const size_t mid_a = n % 2 == 1 ? n / 2 : n / 2 - 1, mid_b = n / 2;
  const size_t q10 = static_cast<size_t>(std::lround(0.1 * static_cast<double>(n - 1)));
  const size_t q90 = static_cast<size_t>(std::lround(0.9 * static_cast<double>(n - 1)));
  if (mid_a < k || mid_b + k >= n || q10 + k >= n || q90 < k) return;  // window too small to gain
  const double* s = sorted_.data();
  const double med_min = n % 2 == 1 ? s[mid_a - k] : 0.5 * (s[mid_a - k] + s[mid_b - k]);
  const double med_max = n % 2 == 1 ? s[mid_a + k] : 0.5 * (s[mid_a + k] + s[mid_b + k]);
  const double spread_min = s[q90 - k] - s[q10 + k];
  const double abs_med_min = med_min <= 0 && med_max >= 0 ? 0.0 : std::min(std::fabs(med_min), std::fabs(med_max));
  // The same expression as ComputeBand's, in the same order, on lower bounds.
  const bool sparse = mad_ == 0;
  double median_floor = (sparse ? kSparseMedianFloor : kMedianFloor) * abs_med_min;
  double floor = median_floor + kSpreadFloor * spread_min + kStepFloor * step_ + cfg_.min_scale + kEpsilonFloor;
  double reach = cfg_.threshold * std::max(kMadToSigma * mad_, floor);
  fast_lo_ = med_max - reach;
  fast_hi_ = med_min + reach;
  fast_ok_ = fast_lo_ <= fast_hi_;
}

// A short excursion is over: it was a burst, and the series can do that, so
// its real values replace the clipped copies (learned extremes).
void RobustDetector::EndRun() {
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
void RobustDetector::Rebaseline(double old_lo, double old_hi) {
  std::vector<double> recent = std::move(run_raw_);
  Reset();
  for (double v : recent) Insert(v);
  has_prev_normal_ = true;
  prev_lo_ = old_lo;
  prev_hi_ = old_hi;
  since_rebaseline_ = 0;
}

Verdict RobustDetector::Update(TimestampMs /*ts*/, double value, Detail detail) {
  // -0.0 is kept as 0.0: equal values, but which of the two zeros a sorted
  // update keeps would otherwise leak into the window (the median stand-in).
  value += 0.0;
  if (detail == Detail::kAnomalies && FastPathArmed() && value >= fast_lo_ && value <= fast_hi_) {
    // Inside the z band whatever the deferred replacements do to it: the
    // verdict is "not anomalous" and the state change that of Insert on a
    // full window, minus the sorted copy (run_ is 0, so EndRun has nothing
    // to do; has_prev_normal_ is false).
    PutNewest(value);
    head_ = Physical(head_ + 1);
    ++first_seq_;
    ++deferred_;
    ++since_mad_;
    Verdict v;
    v.ready = true;
    return v;
  }
  fast_ok_ = false;
  if (!std::isfinite(value)) return Verdict{};
  CatchUpSorted();
  Verdict v = UpdateInFull(value, detail);
  if (detail == Detail::kAnomalies && v.ready) ArmFastPath();
  return v;
}

Verdict RobustDetector::UpdateInFull(double value, Detail /*detail*/) {
  Verdict v;
  if (count_ < static_cast<size_t>(cfg_.warmup)) {
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
    // A confirmed shift whose new level is bimodal (the same host after a
    // load test: interrupts at 410-630/s, with single points and pairs back
    // at the old 900/s) is still that shift: up to shift_gap_points points
    // in a row back inside the band keep it going, unreported and unlearned
    // (the median stands in), and do not count towards rebaseline_after.
    // Not in a sparse window: there the zeros between intermittent errors
    // are the series' normal, and the errors must not become it.
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
  bool young = count_ < static_cast<size_t>(cfg_.mature_after);
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
  if (run_ < cfg_.level_shift_points) run_seqs_.push_back(first_seq_ + count_ - 1);
  return v;
}

void RobustDetector::AppendTo(std::string* out) const {
  bytes::PutU8(out, kSnapshotVersion);
  bytes::PutFixed32(out, static_cast<uint32_t>(count_));
  for (size_t i = 0; i < count_; ++i) bytes::PutDouble(out, ring_[Slot(i)]);
  bytes::PutDouble(out, mad_);
  bytes::PutDouble(out, step_);
  bytes::PutFixed64(out, static_cast<uint64_t>(since_mad_));
  bytes::PutFixed32(out, static_cast<uint32_t>(run_));
  bytes::PutFixed32(out, static_cast<uint32_t>(outside_run_));
  bytes::PutFixed32(out, static_cast<uint32_t>(gap_));
  bytes::PutU8(out, run_dir_ == Direction::kUp ? 0 : 1);
  bytes::PutFixed32(out, static_cast<uint32_t>(run_raw_.size()));
  for (double x : run_raw_) bytes::PutDouble(out, x);
  bytes::PutFixed32(out, static_cast<uint32_t>(run_seqs_.size()));
  for (uint64_t s : run_seqs_) bytes::PutFixed64(out, s - first_seq_);  // positions relative to the oldest value
  bytes::PutU8(out, has_prev_normal_ ? 1 : 0);
  bytes::PutDouble(out, prev_lo_);
  bytes::PutDouble(out, prev_hi_);
  bytes::PutFixed32(out, static_cast<uint32_t>(since_rebaseline_));
}

Result<RobustDetector> RobustDetector::Parse(std::string_view* in, const RobustDetectorConfig& cfg) {
  std::string_view cur = *in;
  RobustDetector d(cfg);
  auto fail = [](const Status& s) { return s.WithContext("robust detector snapshot"); };
  uint8_t version = 0, dir = 0;
  uint32_t n = 0, run = 0, nraw = 0, nseq = 0;
  int64_t since_mad = 0;
  Status s = GetU8(&cur, &version, "version");
  if (!s.ok()) return fail(s);
  if (version != kSnapshotVersion && version != 2) {
    return Status::Corruption("robust detector snapshot has version " + std::to_string(version) + ", expected " +
                              std::to_string(kSnapshotVersion));
  }
  if (!(s = GetU32(&cur, &n, "value count")).ok()) return fail(s);
  if (n > kMaxSnapshotValues) return Status::Corruption("robust detector snapshot claims " + std::to_string(n) + " values");
  std::vector<double> values(n);
  for (auto& x : values) {
    if (!(s = GetDouble(&cur, &x, "window value")).ok()) return fail(s);
    if (!std::isfinite(x)) return Status::Corruption("robust detector snapshot has a non-finite window value");
  }
  if (!(s = GetDouble(&cur, &d.mad_, "MAD")).ok()) return fail(s);
  if (!(s = GetDouble(&cur, &d.step_, "step")).ok()) return fail(s);
  if (!(s = GetI64(&cur, &since_mad, "MAD age")).ok()) return fail(s);
  if (!(s = GetU32(&cur, &run, "run length")).ok()) return fail(s);
  uint32_t outside_run = 0;
  if (!(s = GetU32(&cur, &outside_run, "outside run length")).ok()) return fail(s);
  if (outside_run > run) return Status::Corruption("robust detector snapshot has a bad run");
  uint32_t gap = 0;
  if (version >= 3 && !(s = GetU32(&cur, &gap, "shift gap length")).ok()) return fail(s);
  if (gap > static_cast<uint32_t>(d.cfg_.shift_gap_points)) gap = static_cast<uint32_t>(d.cfg_.shift_gap_points);
  if (!(s = GetU8(&cur, &dir, "run direction")).ok()) return fail(s);
  if (!(s = GetU32(&cur, &nraw, "run value count")).ok()) return fail(s);
  if (nraw > kMaxSnapshotValues || nraw > run) return Status::Corruption("robust detector snapshot has a bad run");
  d.run_raw_.resize(nraw);
  for (auto& x : d.run_raw_) {
    if (!(s = GetDouble(&cur, &x, "run value")).ok()) return fail(s);
  }
  if (!(s = GetU32(&cur, &nseq, "run position count")).ok()) return fail(s);
  if (nseq > nraw || dir > 1) return Status::Corruption("robust detector snapshot has a bad run");
  std::vector<uint64_t> rel(nseq);
  for (auto& r : rel) {
    if (!(s = GetU64(&cur, &r, "run position")).ok()) return fail(s);
    if (r >= n) return Status::Corruption("robust detector snapshot has a run position outside the window");
  }
  uint8_t has_prev = 0;
  uint32_t since_rebaseline = 0;
  if (!(s = GetU8(&cur, &has_prev, "previous-normal flag")).ok()) return fail(s);
  if (!(s = GetDouble(&cur, &d.prev_lo_, "previous normal low")).ok()) return fail(s);
  if (!(s = GetDouble(&cur, &d.prev_hi_, "previous normal high")).ok()) return fail(s);
  if (!(s = GetU32(&cur, &since_rebaseline, "points since rebaseline")).ok()) return fail(s);
  if (has_prev > 1) return Status::Corruption("robust detector snapshot has a bad previous-normal flag");
  d.has_prev_normal_ = has_prev == 1;
  d.since_rebaseline_ = static_cast<int>(std::min<uint32_t>(since_rebaseline, 1u << 30));

  // Keep the newest values when the configured window is smaller.
  size_t keep = std::min<size_t>(n, static_cast<size_t>(d.cfg_.window));
  size_t dropped = n - keep;
  d.ring_.reserve(static_cast<size_t>(d.cfg_.window) + kMadRefreshEvery);
  d.ring_.assign(values.begin() + static_cast<ptrdiff_t>(dropped), values.end());
  d.head_ = 0;
  d.count_ = keep;
  d.sorted_.assign(d.ring_.begin(), d.ring_.end());
  std::sort(d.sorted_.begin(), d.sorted_.end());
  d.first_seq_ = dropped;  // sequence numbers count from the snapshot's oldest value
  for (uint64_t r : rel) d.run_seqs_.push_back(r);
  d.since_mad_ = dropped == 0 ? static_cast<int>(std::clamp<int64_t>(since_mad, -1, kMadRefreshEvery)) : -1;
  if (d.ring_.empty()) d.since_mad_ = -1;
  d.run_ = static_cast<int>(std::min<uint32_t>(run, 1u << 30));
  d.outside_run_ = static_cast<int>(std::min<uint32_t>(outside_run, 1u << 30));
  d.gap_ = static_cast<int>(gap);
  d.run_dir_ = dir == 0 ? Direction::kUp : Direction::kDown;
  if (d.run_raw_.size() > static_cast<size_t>(d.cfg_.rebaseline_after)) d.run_raw_.resize(d.cfg_.rebaseline_after);
  *in = cur;
  return d;
}

bool CountsFailures(std::string_view metric_name, std::string_view status_code) {
  if (!status_code.empty() && status_code.size() == 3 && status_code[0] == '5') return true;  // 5xx, 500, 503...
  std::string name(metric_name);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* word : {"error", "errs", "fail", "exception"}) {
    if (name.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace vigil
