// RobustLevel: the level and scale of a stable KPI by exponentially weighted
// robust estimates, O(1) per point and 16 bytes of state.
//
// The level is an EWMA whose input residual is first clipped to +/- c scales
// (Huber's M-estimator applied online: P. J. Huber, "Robust Estimation of a
// Location Parameter", Ann. Math. Statist. 35, 1964; the online form is the
// robust EWMA of e.g. Lucas & Crosier, "Robust CUSUM", 1982). The scale is an
// EWMA of the clipped absolute residual times sqrt(pi/2) (mean absolute
// deviation -> standard deviation under normal noise), so a single outlier
// moves neither estimate by more than c scales times the learning rate.
// On sparse or quantised series (most values equal, regular jumps) that
// clipped deviation collapses towards zero, so the scale is also at least
// the 90 % quantile of |residual| / 1.645, tracked by stochastic
// approximation (H. Robbins and S. Monro, 1951): the same sigma under normal
// noise, but the size of the regular jumps when they make up over 10 %.
#pragma once

#include <algorithm>
#include <cmath>

#include "detect/fp_select.h"

namespace vigil {

class RobustLevel {
 public:
  // alpha: weight of a new value in the level; beta: in the scale.
  RobustLevel(float alpha = 0.05f, float beta = 0.02f) : alpha_(alpha), beta_(beta) {}

  bool started() const { return n_ > 0; }
  double level() const { return level_; }
  // Estimated standard deviation of the residual (never below `floor`).
  double scale(double floor) const { return MaxOf(static_cast<double>(MaxOf(scale_ * 1.2533f, q90_ * 0.6079f)), floor); }

  // Signed residual in scales, judged before learning the value.
  double Z(double x, double floor) const { return n_ == 0 ? 0.0 : (x - level_) / scale(floor); }

  // Learns x. `clip` is the Huber clip in scales (larger = follows faster).
  // (Always inline: three learn on every point, and a call spills every
  // live double of the caller.)
  [[gnu::always_inline]] inline void Learn(double x, double floor, double clip = 3.0) {
    if (n_ == 0) {
      level_ = static_cast<float>(x);
      scale_ = 0;
      n_ = 1;
      return;
    }
    const double s = scale(floor);
    const double r = std::clamp(x - level_, -clip * s, clip * s);
    // Early on, learn with 1/n weights so the estimates settle quickly.
    const double a = EarlyRate(alpha_, n_);
    const double b = EarlyRate(beta_, n_);
    const double raw = std::fabs(x - level_);
    level_ = static_cast<float>(level_ + a * r);
    scale_ = static_cast<float>(scale_ + b * (std::fabs(r) - scale_));
    // Quantile step proportional to the scale (and to the raw size early on).
    const double step = 4 * b * std::max(s, n_ < 10 ? raw : 0.0);
    q90_ = static_cast<float>(std::max(0.0, q90_ + step * SelectOf(raw > q90_, 0.9, -0.1)));
    if (n_ < 65535) ++n_;
  }
  // std::max<double>(rate, 1.0 / (n + 1)), without the division once
  // 1 / (n + 1) is certainly below rate ((n + 1) rate > 1, with room for
  // rounding): three levels learn on every point.
  static double EarlyRate(float rate, int n) {
    const double r = rate;
    return (n + 1) * r > 1.0 + 1e-9 ? r : std::max<double>(r, 1.0 / (n + 1));
  }
  // Jumps to a new level (after a confirmed level shift), keeping the scale.
  void Reset(double level) { level_ = static_cast<float>(level); }
  void ResetAll() { n_ = 0; level_ = scale_ = q90_ = 0; }
  int count() const { return n_; }

 private:
  float alpha_, beta_;
  float level_ = 0, scale_ = 0, q90_ = 0;
  int n_ = 0;
};

}  // namespace vigil
