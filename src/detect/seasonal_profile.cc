#include "detect/seasonal_profile.h"

#include <algorithm>
#include <cmath>

#include "detect/snapshot_fields.h"
#include "core/prefetch.h"

namespace vigil {

namespace {
// Weight of one point in the day-type gain (normalised: ~100 daytime
// points; 1/30 and 1/50 followed the noise, 1/200 and 1/400 were slower
// to pay off on the synthetic KPI check, docs/detection.md round kpi3).
constexpr double kGainRate = 1.0 / 100;
}  // namespace

SeasonalProfile::SeasonalProfile(int64_t period_ms, int slots, double points_per_slot) : period_ms_(period_ms) {
  slots = std::max(1, slots);
  slot_ms_ = std::max<int64_t>(1, (period_ms + slots - 1) / slots);
  alpha_ = static_cast<float>(std::clamp(0.3 / std::max(1.0, points_per_slot), 0.002, 0.3));
  step_share_ = points_per_slot >= 2 ? static_cast<float>(1.0 / points_per_slot) : 0.0f;
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
  cache_slot_ = static_cast<uint32_t>(slot);
  cache_inv_span_ = 1.0f / static_cast<float>(cache_hi_ - cache_lo_);
  return cache_slot_;
}

bool SeasonalProfile::Ready(int64_t ts) const { return started_ && ts - first_ts_ >= 2 * period_ms_; }

size_t SeasonalProfile::Neighbour(int64_t ts, size_t own, float* share) const {
  // SlotOf(ts) was the last lookup, so [cache_lo_, cache_hi_) is own's span.
  // (No division or modulo: this runs several times per point.)
  const size_t n = slots_.size();
  const float u = static_cast<float>(ts - cache_lo_) * cache_inv_span_ + 0.5f * step_share_ - 0.5f;
  const size_t j = u >= 0 ? (own + 1 == n ? 0 : own + 1) : (own == 0 ? n - 1 : own - 1);
  *share = step_share_ > 0 && slots_[j].dev >= 0 && slots_[own].dev >= 0 ? std::min(0.5f, std::fabs(u)) : 0.0f;
  return j;
}

double SeasonalProfile::Expected(int64_t ts) const {
  // Linear interpolation between the centres of the two nearest slots: a
  // slot spans up to ~9 minutes of a daily shape, and on a steep morning
  // rise the slot's single level is off by up to half the rise across the
  // slot at its edges, a deterministic saw-tooth of ~1 noise sd on busy
  // web traffic that inflated the residual's spread (round kpi3).
  const size_t i = SlotOf(ts);
  if (slots_[i].dev < 0) return SlotAt(ts).level;
  float w = 0;
  const size_t j = Neighbour(ts, i, &w);
  return mean_ + gain_ * (Interpolated(i, j, w) - mean_);
}

void SeasonalProfile::Recentre() {
  double sum = 0, sum2 = 0;
  int n = 0;
  for (const Slot& s : slots_) {
    if (s.dev < 0) continue;
    sum += s.level;
    ++n;
  }
  if (n == 0) return;
  const double mean = sum / n;
  for (const Slot& s : slots_) {
    if (s.dev >= 0) sum2 += (s.level - mean) * (s.level - mean);
  }
  mean_ = static_cast<float>(mean);
  inv_spread2_ = sum2 > 0 ? static_cast<float>(n / sum2) : 0.0f;
}

double SeasonalProfile::Scale(int64_t ts, double floor) const { return std::max<double>(SlotAt(ts).dev * 1.2533, floor); }

void SeasonalProfile::Learn(int64_t ts, double x, double floor) {
  const size_t i = SlotOf(ts);
  if (i < last_slot_) Recentre();
  last_slot_ = static_cast<uint16_t>(i);
  Slot& s = slots_[i];
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
  // The residual against the interpolated expectation teaches both slots
  // in proportion to their share of it (least-mean-squares on the linear
  // interpolation, so the interpolated curve, not each slot, fits the data).
  float w = 0;
  const size_t j = Neighbour(ts, i, &w);
  const double sc = std::max<double>(s.dev * 1.2533, floor);
  const double swing = Interpolated(i, j, w) - mean_;
  const double e = std::clamp(x - (mean_ + gain_ * swing), -2.0 * sc, 2.0 * sc);
  // Normalised least-mean-squares on the gain (its residual clipped as
  // the slots' is): informative only where the profile swings away from
  // its mean (daytime), frozen at night. Only with two points or more per
  // slot: at coarser steps (NAB's five-minute series in 168 slots) its
  // ~100-point memory spans most of a day, so it followed bursts rather
  // than the day type (NAB standard -2.3 measured).
  if (inv_spread2_ > 0 && step_share_ > 0) {
    gain_ = static_cast<float>(std::clamp(gain_ + kGainRate * e * swing * inv_spread2_, 0.25, 4.0));
  }
  const float r = static_cast<float>(e) / gain_;  // the residual with the gain taken out
  s.level = static_cast<float>(s.level + alpha_ * (1.0f - w) * r);
  slots_[j].level = static_cast<float>(slots_[j].level + alpha_ * w * r);
  s.dev = static_cast<float>(s.dev + alpha_ * (std::fabs(e) - s.dev));
}

void SeasonalProfile::Shift(double delta) {
  mean_ = static_cast<float>(mean_ + delta);
  for (Slot& s : slots_) s.level = static_cast<float>(s.level + delta);
}

void SeasonalProfile::AppendTo(std::string* out) const {
  using snapshot_fields::PutPod;
  PutPod(out, period_ms_);
  PutPod(out, slot_ms_);
  PutPod(out, first_ts_);
  PutPod(out, started_);
  PutPod(out, alpha_);
  PutPod(out, step_share_);
  PutPod(out, mean_);
  PutPod(out, inv_spread2_);
  PutPod(out, gain_);
  PutPod(out, last_slot_);
  snapshot_fields::PutPodVector(out, slots_);
}

Status SeasonalProfile::ParseFrom(std::string_view* in) {
  using snapshot_fields::GetPod;
  Status s = GetPod(in, &period_ms_, "seasonal period");
  if (s.ok()) s = GetPod(in, &slot_ms_, "seasonal slot");
  if (s.ok()) s = GetPod(in, &first_ts_, "seasonal first ts");
  if (s.ok()) s = GetPod(in, &started_, "seasonal started");
  if (s.ok()) s = GetPod(in, &alpha_, "seasonal alpha");
  if (s.ok()) s = GetPod(in, &step_share_, "seasonal step share");
  if (s.ok()) s = GetPod(in, &mean_, "seasonal mean");
  if (s.ok()) s = GetPod(in, &inv_spread2_, "seasonal spread");
  if (s.ok()) s = GetPod(in, &gain_, "seasonal gain");
  if (s.ok()) s = GetPod(in, &last_slot_, "seasonal last slot");
  if (s.ok()) s = snapshot_fields::GetPodVector(in, &slots_, "seasonal slots", 1 << 16);
  if (s.ok() && !slots_.empty() && (period_ms_ <= 0 || slot_ms_ <= 0)) s = Status::Corruption("seasonal period not positive");
  cache_lo_ = 1;
  cache_hi_ = 0;
  return s;
}

void SeasonalProfile::Prefetch() const {
  if (slots_.empty()) return;
  const size_t i = cache_slot_ < slots_.size() ? cache_slot_ : 0;
  PrefetchLine(&slots_[i]);
  PrefetchLine(&slots_[i + 1 < slots_.size() ? i + 1 : 0]);
}

}  // namespace vigil
