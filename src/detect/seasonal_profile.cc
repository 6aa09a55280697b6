#include "detect/seasonal_profile.h"

#include <algorithm>
#include <cmath>

#include "detect/snapshot_fields.h"

namespace vigil {

SeasonalProfile::SeasonalProfile(int64_t period_ms, int slots, double points_per_slot) : period_ms_(period_ms) {
  slots = std::max(1, slots);
  slot_ms_ = std::max<int64_t>(1, (period_ms + slots - 1) / slots);
  alpha_ = static_cast<float>(std::clamp(0.3 / std::max(1.0, points_per_slot), 0.002, 0.3));
  slots_.assign(static_cast<size_t>((period_ms + slot_ms_ - 1) / slot_ms_), Slot{0.0f, kUnseen});
}

const SeasonalProfile::Slot& SeasonalProfile::SlotAt(int64_t ts) const {
  const size_t i = SlotOf(ts);
  if (slots_[i].dev >= 0) return slots_[i];
  // A slot that no value has reached yet (a gap in the first period): its
  // nearest learned neighbour stands in, instead of an expected value of 0
  // that would alarm at this time of day, and inflate the score tail, for
  // days. Rare, so the linear search costs nothing on the common path.
  const size_t n = slots_.size();
  for (size_t d = 1; d <= n / 2; ++d) {
    if (slots_[(i + d) % n].dev >= 0) return slots_[(i + d) % n];
    if (slots_[(i + n - d) % n].dev >= 0) return slots_[(i + n - d) % n];
  }
  return slots_[i];
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

double SeasonalProfile::Expected(int64_t ts) const { return SlotAt(ts).level; }

double SeasonalProfile::Scale(int64_t ts, double floor) const { return std::max<double>(SlotAt(ts).dev * 1.2533, floor); }

void SeasonalProfile::Learn(int64_t ts, double x, double floor) {
  Slot& s = slots_[SlotOf(ts)];
  if (!started_) {
    started_ = true;
    first_ts_ = ts;
  }
  if (s.dev < 0) {  // the slot's first value (later than the first period after a gap: from its neighbour's spread)
    const Slot& stand_in = SlotAt(ts);
    s.dev = stand_in.dev >= 0 ? stand_in.dev : 0.0f;
    s.level = static_cast<float>(x);
    return;
  }
  if (ts - first_ts_ < period_ms_) {  // first period: take the values as they come
    {
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
