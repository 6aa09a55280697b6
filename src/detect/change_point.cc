#include "detect/change_point.h"

#include <algorithm>
#include <cmath>

namespace vigil {

int Cusum::Update(double z) {
  z = std::clamp(z, -50.0, 50.0);
  up_ = static_cast<float>(std::max(0.0, up_ + z - k_));
  down_ = static_cast<float>(std::max(0.0, down_ - z - k_));
  if (up_ > h_) {
    Reset();
    return 1;
  }
  if (down_ > h_) {
    Reset();
    return -1;
  }
  return 0;
}

namespace {
// Prior on a segment's mean: N(0, 1/kPriorPrecision) in residual units, so a
// new segment may sit several sigmas away.
constexpr double kPriorPrecision = 0.05;
}  // namespace

void Bocpd::Reset() {
  runs_ = {};
  runs_[0] = {1.0f, 0.0f, 0};
  count_ = 1;
}

void Bocpd::Update(double z) {
  z = std::clamp(z, -50.0, 50.0);
  // Predictive of each run: mean mu = sum / (prior + len), variance 1 + 1/(prior + len).
  std::array<Run, kMaxRuns> next{};
  double change_mass = 0, total = 0;
  int n = 0;
  next[n++] = {0.0f, 0.0f, 0};  // the new run, filled below
  for (int i = 0; i < count_; ++i) {
    const Run& r = runs_[static_cast<size_t>(i)];
    const float prec = static_cast<float>(kPriorPrecision) + static_cast<float>(r.len);
    const float mu = r.sum / prec;
    const float var = 1.0f + 1.0f / prec;
    const float dz = static_cast<float>(z) - mu;
    const double pred = std::exp(-0.5f * dz * dz / var) / std::sqrt(var);
    const double p = r.prob * pred;
    change_mass += p * hazard_;
    Run grown{static_cast<float>(p * (1 - hazard_)), static_cast<float>(r.sum + z), r.len + 1};
    if (n < kMaxRuns) {
      next[static_cast<size_t>(n++)] = grown;
    } else {
      // Drop the least probable hypothesis to make room.
      auto weakest = std::min_element(next.begin() + 1, next.end(),
                                      [](const Run& a, const Run& b) { return a.prob < b.prob; });
      if (weakest->prob < grown.prob) *weakest = grown;
    }
  }
  next[0].prob = static_cast<float>(change_mass);
  for (int i = 0; i < n; ++i) total += next[static_cast<size_t>(i)].prob;
  if (!(total > 1e-300)) {
    Reset();
    return;
  }
  for (int i = 0; i < n; ++i) next[static_cast<size_t>(i)].prob = static_cast<float>(next[static_cast<size_t>(i)].prob / total);
  runs_ = next;
  count_ = n;
}

double Bocpd::RecentChangeProbability(int recent) const {
  double p = 0;
  for (int i = 0; i < count_; ++i) {
    if (runs_[static_cast<size_t>(i)].len <= recent) p += runs_[static_cast<size_t>(i)].prob;
  }
  return p;
}

int Bocpd::MapRunLength() const {
  int best = 0;
  for (int i = 1; i < count_; ++i) {
    if (runs_[static_cast<size_t>(i)].prob > runs_[static_cast<size_t>(best)].prob) best = i;
  }
  return runs_[static_cast<size_t>(best)].len;
}

double Bocpd::MapMean() const {
  int best = 0;
  for (int i = 1; i < count_; ++i) {
    if (runs_[static_cast<size_t>(i)].prob > runs_[static_cast<size_t>(best)].prob) best = i;
  }
  const Run& r = runs_[static_cast<size_t>(best)];
  return r.sum / (kPriorPrecision + r.len);
}

}  // namespace vigil
