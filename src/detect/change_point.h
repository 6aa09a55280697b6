// Level shifts and change points on a standardised residual stream.
//
// Cusum: the two-sided cumulative sum of E. S. Page ("Continuous Inspection
// Schemes", Biometrika 41, 1954). S+ = max(0, S+ + z - k) and likewise
// downwards; a shift of more than ~2k sigmas is signalled after about
// h / (shift - k) points. O(1), 8 bytes.
//
// Bocpd: Bayesian online change-point detection (R. P. Adams and D. J. C.
// MacKay, "Bayesian Online Changepoint Detection", arXiv:0710.3742, 2007)
// with a Gaussian observation model of known unit variance (the input is a
// residual already divided by its robust scale) and a conjugate normal prior
// on each segment's mean. The run-length posterior is kept for at most
// kMaxRuns hypotheses (the least probable is dropped, as in the paper's
// pruning remark), so each point costs O(kMaxRuns).
#pragma once

#include <array>
#include <cstdint>

#include "detect/fp_select.h"

namespace vigil {

class Cusum {
 public:
  Cusum(float k = 0.5f, float h = 10.0f) : k_(k), h_(h) {}
  // Returns +1 / -1 when an upward / downward shift is signalled (and
  // restarts), 0 otherwise. (Inline and branch-free but for the rare
  // signal: it runs twice per point of every series.)
  int Update(double z) {
    z = ClampOf(z, -50.0, 50.0);
    up_ = static_cast<float>(MaxOf(0.0, up_ + z - k_));
    down_ = static_cast<float>(MaxOf(0.0, down_ - z - k_));
    if (up_ > h_) {
      Reset();
      return 1;
    }
    if (down_ > h_) {
      Reset();
      return -1;
    }
    return 0;
  }
  void Reset() { up_ = down_ = 0; }
  // The larger cumulative sum relative to h (>= 1 at a signal).
  double Level() const { return Sum() / h_; }
  // The larger cumulative sum itself (with h infinite the sums never
  // restart: an evidence score for a caller's own threshold).
  double Sum() const { return up_ > down_ ? up_ : down_; }

 private:
  float k_, h_;
  float up_ = 0, down_ = 0;
};

class Bocpd {
 public:
  static constexpr int kMaxRuns = 16;
  // hazard: prior probability of a change at each point.
  explicit Bocpd(double hazard = 1.0 / 200) : hazard_(hazard) { Reset(); }
  void Reset();
  // Feeds one standardised residual.
  void Update(double z);
  // Posterior probability that the current segment started at most `recent`
  // points ago.
  double RecentChangeProbability(int recent) const;
  // Most probable run length and the mean of that segment.
  int MapRunLength() const;
  double MapMean() const;

 private:
  // The run hypotheses as three arrays (structure of arrays, so that the
  // per-run update runs four runs per SSE2 instruction): probability, sum of
  // the segment's values, length. Entries from count_ on are unused.
  double hazard_;
  std::array<float, kMaxRuns> prob_{};
  std::array<float, kMaxRuns> sum_{};
  std::array<int32_t, kMaxRuns> len_{};
  int count_ = 0;
};

}  // namespace vigil
