// RobustDetector: a streaming rolling-median / MAD outlier test for one
// series, hardened for the metrics a real exporter produces.
//
// Method. The detector keeps the last `window` values. A new value is judged
// against that window before it is added: the centre is the window's median
// and the spread its median absolute deviation (MAD), scaled by 1.4826 so it
// estimates a standard deviation under normal noise. This is the Hampel
// identifier (F. R. Hampel, "The influence curve and its role in robust
// estimation", JASA 69, 1974; the MAD as a scale estimator is discussed in
// P. J. Rousseeuw and C. Croux, "Alternatives to the median absolute
// deviation", JASA 88, 1993). A value is an outlier when
// |value - median| > threshold * scale.
//
// Real node_exporter data breaks the textbook test in three ways, so:
//  1. Nearly constant series have a MAD of (almost) zero, and any float
//     wobble would score in the millions. The scale therefore has a floor:
//        scale = max(1.4826 * MAD, 2% of |median| (10% when over half the
//                    window is one value) + 10% of the window's 10-90%
//                    inter-quantile range + a third of the series'
//                    resolution + min_scale + 1e-9).
//     The resolution is the smallest gap between two window values, or for
//     a constant window the decimal resolution of its value (0.03 -> 0.01,
//     2 -> 1): counts (sockets, errors) must move by more than 2 to fire,
//     load averages printed with two decimals by more than 0.02. The 2%
//     floor makes a smooth series (page cache, traffic rates) fire on a
//     change of about 12% of its level, not on every few-MB wobble.
//  2. Bursty series (disk and network rates, GC pauses) have heavy tails the
//     MAD does not see. When the window already holds outliers (values beyond
//     the z band), a value must also lie beyond those extremes, by a margin
//     of half the distance from the median to the extreme plus one scale: a
//     burst no bigger than earlier ones is not news. The extremes are
//     learned: a short excursion (shorter than level_shift_points) is
//     written back into the window at its real value once it ends, so the
//     same burst does not fire twice. Longer excursions are not learned, so
//     a slow ramp cannot drag the limit along.
//  3. Sparse series (more than half of the window one value, typically 0:
//     iowait, errors, rarely-touched counters) fire on every first blip.
//     There an excursion must last sparse_confirm_points points in the same
//     direction before it is anomalous. Likewise on a heavy-tailed side (the
//     window already holds a value more than 4 scales from the median on
//     that side: scrape and GC timings, page faults) an excursion must last
//     heavy_tail_confirm_points points: such series break their own records
//     by single points all the time, while real changes persist. The same
//     holds while the window is young (fewer than mature_after values): it
//     has not seen the series' tails yet.
//
// Reported band. `lower`/`upper` are the limits actually applied: the wider
// of median -/+ threshold*scale and the learned extremes with their margin.
// `score` is |value - median| / scale.
//
// Pattern. The first anomalous point of an excursion is a "spike" (up) or
// "dip" (down); once level_shift_points consecutive points have been outside
// in the same direction they are "level_shift_up"/"level_shift_down".
//
// Baseline protection. While a value is outside the band, the window gets
// the median in its place (the Hampel filter's replacement rule), so an
// incident does not teach the detector that the incident is normal. If an
// excursion lasts rebaseline_after points the detector accepts the new
// level: the window restarts from the excursion's raw values (a permanent
// change must not alarm forever, and lagging series such as load averages
// must let an incident resolve). The band from before stays accepted as
// normal until the window is back in it or a whole window has passed, so
// the end of a long excursion is not itself reported as one.
//
// Cost. Amortised O(window) per point (sorted-vector insert and erase, a
// O(log n) MAD selection every few points or when a value is a candidate);
// about 4.3 KiB per series at window 240 (the ring with 32 spare slots, its
// sorted copy: see below).
//
// Deferred sorted copy (Update with Detail::kAnomalies, what the daemon
// calls). Most points of a full window are well inside the band; for them
// the sorted copy need not be touched at once. After each point judged in
// full, the detector bounds where the median and the 10-90% spread can be
// after up to kMadRefreshEvery more replacements (each moves an order
// statistic by at most one rank), and from those bounds and the current
// (stale, as always between refreshes) MAD the narrowest z band any such
// window could give. A later value inside it cannot be beyond the z band,
// so it only goes into the ring; the value it pushes out waits in a short
// list. The sorted copy catches up in one merge pass before the next point
// judged in full: a candidate, a MAD refresh (every kMadRefreshEvery
// points), an excursion or a young window. Floating-point rounding is
// monotone, so the bound is exact, not approximate: verdicts, state and
// snapshots are identical to judging every point in full (the equivalence
// test checks it against the previous implementation).
//
// Not thread-safe; one object per series. No clock: time only comes in with
// the samples.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/anomaly.h"
#include "core/prefetch.h"
#include "core/sample.h"
#include "core/status.h"

namespace vigil {

struct RobustDetectorConfig {
  int window = 240;        // values kept (>= 3)
  int warmup = 30;         // values needed before any verdict is ready (>= 3, <= window)
  double threshold = 6.0;  // robust z-score beyond which a value is outside
  // Absolute lower bound on the scale, in the series' own unit (e.g. 0.01
  // for a CPU-seconds-per-second rate): deviations smaller than
  // threshold*min_scale are never anomalous. 0 = only the relative floors.
  double min_scale = 0.0;
  int level_shift_points = 3;     // consecutive outside points that make a level shift
  int sparse_confirm_points = 3;  // consecutive outside points needed in a sparse window
  int heavy_tail_confirm_points = 2;  // ... on a side where the window already holds an outlier,
                                      // and while the window is young
  // Window size from which one point may be anomalous on its own.
  // 0 = min(window, max(4 * warmup, window / 2)).
  int mature_after = 0;
  // Consecutive outside points after which the new level is accepted.
  // 0 = max(warmup, window / 8).
  int rebaseline_after = 0;
  // A confirmed level shift survives up to this many consecutive points back
  // inside the band (neither reported nor learned); the next one ends it.
  int shift_gap_points = 3;
  // The series counts failures (CountsFailures): on a zero baseline, a
  // departure lasting 2 * sparse_confirm_points points scores up to twice
  // the threshold instead of 1.5 times (robust_detector.cc).
  bool counts_failures = false;
};

// True for a series that counts failures, where zero is the healthy value
// and a sustained departure from it is a symptom whatever its size: a 5xx
// status label (code, status, status_code, http_status; "5xx" or 5NN) or a
// metric name with "error", "errs", "fail" or "exception" in it
// (rpc_client_errors_total, node_network_receive_errs_total,
// dns_lookup_failures_total, vigil_log_error_lines).
bool CountsFailures(std::string_view metric_name, std::string_view status_code);

struct Verdict {
  bool ready = false;      // false during warm-up or for non-finite values
  bool anomalous = false;
  double expected = 0, lower = 0, upper = 0, score = 0;
  Direction direction = Direction::kUp;
  const char* pattern = "";  // static string; "" unless anomalous
};

class RobustDetector {
 public:
  static constexpr const char* kName = "robust_median_mad";

  // Out-of-range config values are clamped to the nearest sane value.
  explicit RobustDetector(const RobustDetectorConfig& cfg);

  // What a verdict carries for a point that is not anomalous.
  enum class Detail {
    kFull,       // everything (expected, band, score, direction) for every point
    kAnomalies,  // the band fields only when anomalous: a point well inside the
                 // band comes back ready, not anomalous, band fields 0, and
                 // costs no touch of the sorted window (see "Deferred" above)
  };

  // Judges `value` against the window BEFORE adding it, then adds it (or its
  // clipped form, see above). Non-finite values are ignored: a not-ready
  // verdict and no state change. `ts` is not used for the judgement; values
  // must come in time order. ready, anomalous and pattern, and every field
  // of an anomalous verdict, do not depend on `detail`.
  Verdict Update(TimestampMs ts, double value, Detail detail = Detail::kFull);
  // Forgets everything (e.g. when a series switches between raw values and
  // rates).
  void Reset();
  // Values in the window.
  size_t size() const { return count_; }
  // Asks the CPU to start loading the state the next Update touches. A
  // caller that analyses many series in turn calls it one series ahead:
  // the window lives in cold memory, and the binary searches of an Update
  // otherwise wait for one cache miss after another.
  void Prefetch() const {
    const size_t slot = Physical(head_ + count_);  // where the value goes
    if (slot < ring_.size()) PrefetchLine(ring_.data() + slot);
    if (FastPathArmed()) return;  // likely nothing else
    if (!ring_.empty()) PrefetchLine(ring_.data() + head_);
    PrefetchBytes(sorted_.data(), sorted_.size() * sizeof(double));
  }
  const RobustDetectorConfig& config() const { return cfg_; }

  // Appends a binary snapshot of the full state (versioned, little-endian).
  // A detector restored from it gives identical verdicts.
  void AppendTo(std::string* out) const;
  // Reads a snapshot from the front of `*in` and advances it. `cfg` is the
  // configuration to run with; when its window is smaller than the
  // snapshot's, only the newest values are kept. Corruption on truncated or
  // inconsistent input (and `*in` is left unchanged).
  static Result<RobustDetector> Parse(std::string_view* in, const RobustDetectorConfig& cfg);

 private:
  struct Band;

  Band ComputeBand();
  void RefreshMad();
  bool FastPathArmed() const { return fast_ok_ && since_mad_ >= 0 && since_mad_ < kMadRefreshEvery; }
  void ArmFastPath();
  void CatchUpSorted();
  Verdict UpdateInFull(double value, Detail detail);
  void Insert(double v);
  void PutNewest(double v);
  void ReplaceSorted(double old, double v);
  void Replace(uint64_t seq, double v);
  void EndRun();
  // Ring slot of position p counted from the oldest slot (p < 2 * ring size).
  size_t Physical(size_t p) const {
    const size_t cap = static_cast<size_t>(cfg_.window) + kMadRefreshEvery;
    return p < cap ? p : p - cap;
  }
  size_t Slot(size_t i) const { return Physical(head_ + i); }
  void Rebaseline(double old_lo, double old_hi);

  // Inserts between MAD recomputations (candidates always get a fresh one);
  // also the most replacements the sorted copy may lag behind.
  static constexpr int kMadRefreshEvery = 32;

  RobustDetectorConfig cfg_;
  // Window in arrival order, as a ring of window + kMadRefreshEvery slots:
  // the value with sequence first_seq_ + i (i < count_) is ring_[Slot(i)].
  // The slots just before the oldest still hold the last values that left
  // the window, which a deferred catch-up of the sorted copy removes (see
  // "Deferred sorted copy"). ring_ grows by push_back until it has all its
  // slots, and wraps only then. (A deque allocated and freed a block every
  // 64 points of every series.)
  std::vector<double> ring_;
  size_t head_ = 0;              // slot of the oldest value
  size_t count_ = 0;             // values in the window
  std::vector<double> sorted_;   // same values, ascending, except that the
  // deferred_ values that left last are still in it and the newest
  // deferred_ values not yet
  size_t deferred_ = 0;
  // Values in [fast_lo_, fast_hi_] are inside the z band of any
  // window the next kMadRefreshEvery replacements can make (valid while
  // fast_ok_ and since_mad_ < kMadRefreshEvery).
  bool fast_ok_ = false;
  double fast_lo_ = 0, fast_hi_ = 0;
  uint64_t first_seq_ = 0;
  double mad_ = 0;               // raw MAD, refreshed lazily
  double step_ = 0;              // resolution of the window's values, refreshed with mad_
  int since_mad_ = 0;            // inserts since mad_ was computed; < 0 = never computed

  // Current excursion: consecutive values beyond the z band in one direction,
  // and how many of the latest of them were also outside the applied band.
  int run_ = 0;
  int outside_run_ = 0;
  int gap_ = 0;  // consecutive points back inside the band during a confirmed shift
  Direction run_dir_ = Direction::kUp;
  std::vector<double> run_raw_;        // raw values of the excursion (capped at rebaseline_after)
  std::vector<uint64_t> run_seqs_;     // where its median stand-ins sit in the window (short runs only)

  // The normal band before the last rebaseline, accepted as normal too.
  bool has_prev_normal_ = false;
  double prev_lo_ = 0, prev_hi_ = 0;
  int since_rebaseline_ = 0;
};

}  // namespace vigil
