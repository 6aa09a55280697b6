// SeasonalProfile: a per-slot robust profile of one seasonal period (a day,
// a week, or a period in points found by the profiler), used as the expected
// value "at the same time yesterday / last week".
//
// Each slot keeps a Huber-clipped EWMA of the level and of the absolute
// deviation of the values that fell in it (as RobustLevel does), so the
// expected value is a robust average of the same slot over the last few
// periods: the year-on-year comparison of classic KPI monitoring, made
// robust (cf. the per-slot seasonal terms of Holt-Winters, C. C. Holt 1957 /
// P. R. Winters 1960, learned by an M-estimator instead of a plain EWMA).
// A period is cut into at most `slots` slots (neighbouring points share a
// slot), which bounds the memory: 168 slots of 8 bytes for a week at
// one-minute resolution. When a slot holds two points or more, the expected
// value interpolates linearly between the centres of the two nearest slots
// (which both learn, by least mean squares), and the profile's swing around
// its mean is scaled by a day-type gain learned online (weekends scale the
// daytime part of a daily profile; round kpi3 in docs/detection.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil {

class SeasonalProfile {
 public:
  SeasonalProfile() = default;
  // Slots by time of period (timestamp modulo period_ms); points_per_slot
  // sets the learning rate so that a slot forgets over ~4 periods.
  SeasonalProfile(int64_t period_ms, int slots, double points_per_slot);

  bool enabled() const { return !slots_.empty(); }
  int64_t period_ms() const { return period_ms_; }
  int slot_count() const { return static_cast<int>(slots_.size()); }
  // True once two whole periods have been learned.
  bool Ready(int64_t ts) const;
  double Expected(int64_t ts) const;
  // Residual standard deviation in the slot of ts, at least `floor`.
  double Scale(int64_t ts, double floor) const;
  void Learn(int64_t ts, double x, double floor);
  // Shifts every slot by delta (after a confirmed level shift).
  void Shift(double delta);
  size_t StateBytes() const { return sizeof(*this) + slots_.capacity() * sizeof(Slot); }
  // Snapshot (part of KpiDetector's).
  void AppendTo(std::string* out) const;
  Status ParseFrom(std::string_view* in);

 private:
  struct Slot {
    float level = 0, dev = 0;  // dev < 0: no value has reached the slot yet
  };
  static constexpr float kUnseen = -1.0f;
  size_t SlotOf(int64_t ts) const;
  // The slot nearest to ts other than its own and the share of ts that
  // goes to it (0 at the own slot's centre, 0.5 half-way to the neighbour's);
  // share 0 while the neighbour has no value yet.
  size_t Neighbour(int64_t ts, size_t own, float* share) const;
  // The slots' level interpolated at ts (slot i, its neighbour j, share w).
  double Interpolated(size_t i, size_t j, float w) const { return (1.0f - w) * slots_[i].level + w * slots_[j].level; }
  // Mean and (inverse) mean squared deviation of the learned slots (once per period).
  void Recentre();
  // The slot of ts, or its nearest learned neighbour while it has none.
  const Slot& SlotAt(int64_t ts) const;

 public:
  // Start loading the slot of the last lookup and the next one.
  void Prefetch() const;

 private:

  int64_t period_ms_ = 0, slot_ms_ = 1;
  int64_t first_ts_ = 0;
  // The slot of the last timestamp asked for and its time span: consecutive
  // points mostly fall in the same slot, so two 64-bit divisions per lookup
  // become two comparisons (several lookups happen per point).
  mutable int64_t cache_lo_ = 1, cache_hi_ = 0;
  mutable uint32_t cache_slot_ = 0;
  mutable float cache_inv_span_ = 0;  // 1 / (cache_hi_ - cache_lo_)
  float alpha_ = 0.1f;
  // A step's share of a slot when a slot holds two points or more (the
  // points' mean position is half a step before the slot's middle), else
  // 0: then every point has its own slot and nothing is interpolated.
  float step_share_ = 0;
  // Day-type gain: the expected value is mean_ + gain_ (slot - mean_), the
  // profile's swing around its mean scaled by a gain that adapts within
  // hours (weekends and holidays scale the daytime part of a daily
  // profile); the slots learn the value with the gain taken out.
  float mean_ = 0, inv_spread2_ = 0, gain_ = 1;  // inv_spread2_: 1 / mean squared deviation of the slots (0: none yet)
  uint16_t last_slot_ = 0;  // slot of the last value learned (a smaller one: a new period began)
  bool started_ = false;
  std::vector<Slot> slots_;
};

}  // namespace vigil
