#include "detect/holt_winters.h"

#include <algorithm>
#include <cmath>

#include "detect/snapshot_fields.h"
#include "core/prefetch.h"

namespace vigil {

HoltWintersResidual::HoltWintersResidual(int64_t period_ms, int slots, bool multiplicative, double alpha, double beta, double gamma,
                         double phi)
    : period_ms_(period_ms),
      multiplicative_(multiplicative),
      alpha_(static_cast<float>(alpha)),
      beta_(static_cast<float>(beta)),
      gamma_(static_cast<float>(gamma)),
      phi_(static_cast<float>(phi)) {
  if (period_ms_ > 0) {
    slots = std::max(1, slots);
    slot_ms_ = std::max<int64_t>(1, (period_ms + slots - 1) / slots);
    season_.assign(static_cast<size_t>((period_ms + slot_ms_ - 1) / slot_ms_), multiplicative ? 1.0f : 0.0f);
  }
}

size_t HoltWintersResidual::SlotOf(int64_t ts) const {
  if (ts >= cache_lo_ && ts < cache_hi_) return cache_slot_;
  int64_t phase = ts % period_ms_;
  if (phase < 0) phase += period_ms_;
  const int64_t slot = std::min<int64_t>(phase / slot_ms_, static_cast<int64_t>(season_.size()) - 1);
  cache_lo_ = ts - (phase - slot * slot_ms_);
  cache_hi_ = cache_lo_ + std::min(slot_ms_, period_ms_ - slot * slot_ms_);
  cache_slot_ = static_cast<size_t>(slot);
  return cache_slot_;
}

double HoltWintersResidual::Forecast(int64_t ts) const {
  const double base = level_ + phi_ * trend_;
  if (season_.empty()) return base;
  const double s = season_[SlotOf(ts)];
  return multiplicative_ ? base * s : base + s;
}

double HoltWintersResidual::Scale(double floor) const { return std::max<double>(dev_ * 1.2533, floor); }

void HoltWintersResidual::Learn(int64_t ts, double x, double floor) {
  if (n_ == 0) {
    level_ = static_cast<float>(x);
    n_ = 1;
    return;
  }
  const double f = Forecast(ts);
  const double sc = Scale(floor);
  const double r = std::clamp(x - f, -3.0 * sc, 3.0 * sc);
  const double xc = f + r;  // the value with its outlying part clipped
  const double prev_level = level_;
  double s = season_.empty() ? (multiplicative_ ? 1.0 : 0.0) : season_[SlotOf(ts)];
  double deseason = multiplicative_ ? xc / (std::fabs(s) > 1e-9 ? s : 1.0) : xc - s;
  level_ = static_cast<float>(alpha_ * deseason + (1 - alpha_) * (prev_level + phi_ * trend_));
  trend_ = static_cast<float>(beta_ * (level_ - prev_level) + (1 - beta_) * phi_ * trend_);
  if (!season_.empty()) {
    const double target = multiplicative_ ? xc / (std::fabs(level_) > 1e-9 ? level_ : 1.0) : xc - level_;
    season_[SlotOf(ts)] = static_cast<float>(gamma_ * target + (1 - gamma_) * s);
  }
  const double b = n_ >= 100 ? 0.02 : std::max(0.02, 1.0 / (n_ + 1));  // (1/101 < 0.02: no division once warm)
  dev_ = static_cast<float>(dev_ + b * (std::fabs(r) - dev_));
  if (n_ < 1 << 30) ++n_;
}

void HoltWintersResidual::AppendTo(std::string* out) const {
  using snapshot_fields::PutPod;
  PutPod(out, period_ms_);
  PutPod(out, slot_ms_);
  PutPod(out, multiplicative_);
  PutPod(out, alpha_);
  PutPod(out, beta_);
  PutPod(out, gamma_);
  PutPod(out, phi_);
  PutPod(out, level_);
  PutPod(out, trend_);
  PutPod(out, dev_);
  PutPod(out, n_);
  snapshot_fields::PutPodVector(out, season_);
}

Status HoltWintersResidual::ParseFrom(std::string_view* in) {
  using snapshot_fields::GetPod;
  Status s = GetPod(in, &period_ms_, "holt-winters period");
  if (s.ok()) s = GetPod(in, &slot_ms_, "holt-winters slot");
  if (s.ok()) s = GetPod(in, &multiplicative_, "holt-winters kind");
  if (s.ok()) s = GetPod(in, &alpha_, "holt-winters alpha");
  if (s.ok()) s = GetPod(in, &beta_, "holt-winters beta");
  if (s.ok()) s = GetPod(in, &gamma_, "holt-winters gamma");
  if (s.ok()) s = GetPod(in, &phi_, "holt-winters phi");
  if (s.ok()) s = GetPod(in, &level_, "holt-winters level");
  if (s.ok()) s = GetPod(in, &trend_, "holt-winters trend");
  if (s.ok()) s = GetPod(in, &dev_, "holt-winters dev");
  if (s.ok()) s = GetPod(in, &n_, "holt-winters count");
  if (s.ok()) s = snapshot_fields::GetPodVector(in, &season_, "holt-winters season", 1 << 16);
  if (s.ok() && !season_.empty() && (period_ms_ <= 0 || slot_ms_ <= 0)) s = Status::Corruption("holt-winters period not positive");
  cache_lo_ = 1;
  cache_hi_ = 0;
  return s;
}

void HoltWintersResidual::Prefetch() const {
  if (season_.empty()) return;
  const size_t i = cache_slot_ < season_.size() ? cache_slot_ : 0;
  PrefetchLine(&season_[i]);
  PrefetchLine(&season_[i + 1 < season_.size() ? i + 1 : 0]);
}

}  // namespace vigil
