// HoltWintersResidual: one-step forecast residual of exponential smoothing with a
// damped additive trend and an additive or multiplicative seasonal term
// (C. C. Holt, 1957; P. R. Winters, "Forecasting sales by exponentially
// weighted moving averages", Management Science 6, 1960; damped trend from
// E. S. Gardner and E. McKenzie, "Forecasting trends in time series",
// Management Science 31, 1985). The seasonal term lives in slots of the
// period (as in SeasonalProfile) so a week at one-minute resolution costs
// 168 floats. The residual's scale is a Huber-clipped EWMA, and the update
// uses the clipped residual, so outliers do not bend the forecast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil {

class HoltWintersResidual {
 public:
  HoltWintersResidual() = default;
  // period_ms = 0: no seasonal term (Holt's damped trend only).
  HoltWintersResidual(int64_t period_ms, int slots, bool multiplicative, double alpha = 0.1, double beta = 0.01,
              double gamma = 0.1, double phi = 0.95);
  bool ready() const { return n_ >= 10; }
  double Forecast(int64_t ts) const;
  double Scale(double floor) const;
  // Learns x (call after judging it against Forecast()).
  void Learn(int64_t ts, double x, double floor);
  void ShiftLevel(double delta) { level_ += static_cast<float>(delta); }
  // Start loading the seasonal slot of the last lookup and the next one.
  void Prefetch() const;
  size_t StateBytes() const { return sizeof(*this) + season_.capacity() * sizeof(float); }
  // Snapshot (part of KpiDetector's).
  void AppendTo(std::string* out) const;
  Status ParseFrom(std::string_view* in);

 private:
  size_t SlotOf(int64_t ts) const;
  int64_t period_ms_ = 0, slot_ms_ = 1;
  mutable int64_t cache_lo_ = 1, cache_hi_ = 0;  // as in SeasonalProfile: the last slot looked up
  mutable size_t cache_slot_ = 0;
  bool multiplicative_ = false;
  float alpha_ = 0.1f, beta_ = 0.01f, gamma_ = 0.1f, phi_ = 0.95f;
  float level_ = 0, trend_ = 0, dev_ = 0;
  int n_ = 0;
  std::vector<float> season_;
};

}  // namespace vigil
