#include "detect/seasonal_profile.h"

#include <algorithm>
#include <cmath>

#include "detect/snapshot_fields.h"

namespace vigil {

SeasonalProfile::SeasonalProfile(int64_t period_ms, int slots, double points_per_slot) : period_ms_(period_ms) {
  slots = std::max(1, slots);
  slot_ms_ = std::max<int64_t>(1, (period_ms + slots - 1) / slots);
  alpha_ = static_cast<float>(std::clamp(0.3 / std::max(1.0, points_per_slot), 0.002, 0.3));
  slots_.assign(static_cast<size_t>((period_ms + slot_ms_ - 1) / slot_ms_), Slot{});
}

size_t SeasonalProfile::SlotOf(int64_t ts) const {
  if (ts >= cache_lo_ && ts < cache_hi_) return cache_slot_;
  int64_t phase = ts % period_ms_;
  if (phase < 0) phase += period_ms_;
  const int64_t slot = std::min<int64_t>(phase / slot_ms_, static_cast<int64_t>(slots_.size()) - 1);
  cache_lo_ = ts - (phase - slot * slot_ms_);
  cache_hi_ = cache_lo_ + std::min(slot_ms_, period_ms_ - slot * slot_ms_);
  cache_slot_ = static_cast<size_t>(slot);
  return cache_slot_;
}

bool SeasonalProfile::Ready(int64_t ts) const { return started_ && ts - first_ts_ >= 2 * period_ms_; }

double SeasonalProfile::Expected(int64_t ts) const { return slots_[SlotOf(ts)].level; }

double SeasonalProfile::Scale(int64_t ts, double floor) const {
  return std::max<double>(slots_[SlotOf(ts)].dev * 1.2533, floor);
}

void SeasonalProfile::Learn(int64_t ts, double x, double floor) {
  Slot& s = slots_[SlotOf(ts)];
  if (!started_) {
    started_ = true;
    first_ts_ = ts;
  }
  if (ts - first_ts_ < period_ms_) {  // first period: take the values as they come
    if (s.level == 0 && s.dev == 0) {
      s.level = static_cast<float>(x);
    } else {
      s.dev = static_cast<float>(s.dev + 0.3 * (std::fabs(x - s.level) - s.dev));
      s.level = static_cast<float>(s.level + 0.3 * (x - s.level));
    }
    return;
  }
  const double sc = std::max<double>(s.dev * 1.2533, floor);
  const double r = std::clamp(x - s.level, -2.0 * sc, 2.0 * sc);
  s.level = static_cast<float>(s.level + alpha_ * r);
  s.dev = static_cast<float>(s.dev + alpha_ * (std::fabs(r) - s.dev));
}

void SeasonalProfile::Shift(double delta) {
  for (Slot& s : slots_) s.level = static_cast<float>(s.level + delta);
}

void SeasonalProfile::AppendTo(std::string* out) const {
  using snapshot_fields::PutPod;
  PutPod(out, period_ms_);
  PutPod(out, slot_ms_);
  PutPod(out, first_ts_);
  PutPod(out, started_);
  PutPod(out, alpha_);
  snapshot_fields::PutPodVector(out, slots_);
}

Status SeasonalProfile::ParseFrom(std::string_view* in) {
  using snapshot_fields::GetPod;
  Status s = GetPod(in, &period_ms_, "seasonal period");
  if (s.ok()) s = GetPod(in, &slot_ms_, "seasonal slot");
  if (s.ok()) s = GetPod(in, &first_ts_, "seasonal first ts");
  if (s.ok()) s = GetPod(in, &started_, "seasonal started");
  if (s.ok()) s = GetPod(in, &alpha_, "seasonal alpha");
  if (s.ok()) s = snapshot_fields::GetPodVector(in, &slots_, "seasonal slots", 1 << 16);
  if (s.ok() && !slots_.empty() && (period_ms_ <= 0 || slot_ms_ <= 0)) s = Status::Corruption("seasonal period not positive");
  cache_lo_ = 1;
  cache_hi_ = 0;
  return s;
}

}  // namespace vigil
