// Limits: user-set hard limits, and learned extreme limits for irregular
// KPIs that have no usable pattern.
//
// LearnedLimits keeps the largest and smallest values seen, each decaying
// towards the running level by a small fraction per point (so a one-off
// record is forgotten over ~1/decay points), and reports a value beyond an
// extreme by more than `margin` times the current range. This is the
// "record-breaking" test of extreme value practice: for a series without a
// stable distribution, a new record far beyond the old ones is the only
// robust evidence.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

namespace vigil {

struct HardLimits {
  double lower = -std::numeric_limits<double>::infinity();
  double upper = std::numeric_limits<double>::infinity();
  bool Any() const { return std::isfinite(lower) || std::isfinite(upper); }
  // +1 above, -1 below, 0 inside.
  int Check(double x) const { return x > upper ? 1 : x < lower ? -1 : 0; }
};

class LearnedLimits {
 public:
  explicit LearnedLimits(float decay = 0.001f, float margin = 0.25f) : decay_(decay), margin_(margin) {}
  // Score before learning: distance beyond the extreme in units of
  // margin * range (> 1 = beyond the widened limit); 0 until `warm` values
  // were seen.
  double Score(double x, int warm = 50) const {
    if (n_ < warm) return 0;
    const double range = std::max<double>(hi_ - lo_, 1e-12);
    if (x > hi_) return (x - hi_) / (range * margin_);
    if (x < lo_) return (lo_ - x) / (range * margin_);
    return 0;
  }
  void Learn(double x, double level) {
    if (n_ == 0) hi_ = lo_ = static_cast<float>(x);
    hi_ = static_cast<float>(std::max<double>(x, hi_ - decay_ * (hi_ - level)));
    lo_ = static_cast<float>(std::min<double>(x, lo_ + decay_ * (level - lo_)));
    if (n_ < 1 << 30) ++n_;
  }
  double lower() const { return lo_; }
  double upper() const { return hi_; }

 private:
  float decay_, margin_;
  float hi_ = 0, lo_ = 0;
  int n_ = 0;
};

}  // namespace vigil
