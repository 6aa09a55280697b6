#include "detect/spot.h"

#include <algorithm>
#include <cmath>

namespace vigil {

void SpotThreshold::Refit() {
  if (!calibrated_) return;
  double z = t_;
  if (peaks_ >= 2) {
    const double m = sum_ / static_cast<double>(peaks_);
    const double v = std::max(sum_sq_ / static_cast<double>(peaks_) - m * m, 1e-12);
    double gamma = 0.5 * (1.0 - m * m / v);
    const double sigma = 0.5 * m * (1.0 + m * m / v);
    gamma = std::clamp(gamma, -0.5, 0.5);  // moments exist only for gamma < 1/2
    const double r = q_ * risk_factor_ * static_cast<double>(n_) / static_cast<double>(peaks_);
    z = std::fabs(gamma) < 1e-6 ? t_ - sigma * std::log(r) : t_ + sigma / gamma * (std::pow(r, -gamma) - 1.0);
  } else {
    z = t_ * 1.5;
  }
  z_ = std::max(z, floor_);
}

bool SpotThreshold::Update(double score) {
  if (!std::isfinite(score)) return false;
  if (!calibrated_) {
    initial_.push_back(static_cast<float>(score));
    if (static_cast<int>(initial_.size()) < init_) return score > floor_ * 2;
    std::vector<float> sorted = initial_;
    std::sort(sorted.begin(), sorted.end());
    t_ = sorted[static_cast<size_t>(0.98 * static_cast<double>(sorted.size() - 1))];
    n_ = static_cast<int64_t>(sorted.size());
    for (float s : sorted) {
      if (s > t_) {
        ++peaks_;
        sum_ += s - t_;
        sum_sq_ += (s - t_) * (s - t_);
      }
    }
    initial_.clear();
    initial_.shrink_to_fit();
    calibrated_ = true;
    Refit();
    return false;
  }
  if (score > z_) return true;
  ++n_;
  if (score > t_) {
    ++peaks_;
    sum_ += score - t_;
    sum_sq_ += (score - t_) * (score - t_);
    Refit();
  } else if ((n_ & 255) == 0) {
    Refit();  // n grows: the threshold tightens slowly between peaks
  }
  return false;
}

}  // namespace vigil
