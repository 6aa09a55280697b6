// SpectralResidual: saliency of the newest point of a series by the spectral
// residual of H. Ren, B. Xu, Y. Wang et al., "Time-Series Anomaly Detection
// Service at Microsoft", KDD 2019 (after X. Hou and L. Zhang's visual
// saliency, CVPR 2007).
//
// For the last kWindow points, extended by kExtend points extrapolated from
// the average gradient of the window (the paper's trick so that the newest
// point sits inside the transform), the log amplitude spectrum L is taken,
// its local average (a 3-point moving mean) removed, and the residual mapped
// back with the original phases. The saliency map S is large where the
// series is surprising; the newest point's score is
// (S - mean of recent S) / mean of recent S, as in the paper.
// Cost per point: two 64-point FFTs (~2 us), so the profiler enables it only
// for irregular, spiky series where the cheaper baselines are blind.
#pragma once

#include <array>
#include <cstdint>

namespace vigil {

class SpectralResidual {
 public:
  static constexpr int kFft = 64;
  static constexpr int kExtend = 5;
  static constexpr int kWindow = kFft - kExtend;
  static constexpr int kLocal = 21;

  // Adds x (cheap: the transform runs only in Score()).
  void Add(double x);
  // The newest point's score (0 until the window is full). The suite calls
  // it only for candidate points, so its cost is paid rarely.
  double Score() const;
  double Update(double x) {
    Add(x);
    return Score();
  }

 private:
  std::array<float, kWindow> ring_{};
  int head_ = 0, filled_ = 0;
};

}  // namespace vigil
