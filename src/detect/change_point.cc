#include "detect/change_point.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

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
// e^x for x <= 0 to ~1e-4 relative error, inline (no libm call): 2^(x log2 e)
// split into an integer power (built in the exponent bits) and a degree-5
// polynomial for 2^f on [0, 1). The run-length weights need nothing finer.
inline float FastExpNeg(float x) {
  const float y = std::max(x, -87.0f) * 1.44269504f;
  const float n = std::floor(y);
  const float f = y - n;
  const float p =
      1.0f + f * (0.693147182f + f * (0.240226507f + f * (0.0555041087f + f * (0.00961812911f + f * 0.00133335581f))));
  const int32_t e = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &e, sizeof(scale));
  return p * scale;
}

// Prior on a segment's mean: N(0, 1/kPriorPrecision) in residual units, so a
// new segment may sit several sigmas away.
constexpr double kPriorPrecision = 0.05;

// Per run length, the predictive's constants (prec = prior + len, the
// variance factor prec / (prec + 1) and its square root), computed with the
// same float operations as the loop did: every run of every series paid two
// divisions and a square root per point for numbers that depend on len only.
struct RunConstants {
  float prec, inv_var, sqrt_inv_var;
};
constexpr int kTabledLengths = 1024;
RunConstants ComputeRunConstants(int32_t len) {
  const float prec = static_cast<float>(kPriorPrecision) + static_cast<float>(len);
  const float inv_var = prec / (prec + 1.0f);  // 1 / (1 + 1/prec)
  return {prec, inv_var, std::sqrt(inv_var)};
}
const std::array<RunConstants, kTabledLengths> kRunConstants = [] {
  std::array<RunConstants, kTabledLengths> t{};
  for (int32_t len = 0; len < kTabledLengths; ++len) t[static_cast<size_t>(len)] = ComputeRunConstants(len);
  return t;
}();
inline RunConstants RunConstantsOf(int32_t len) {
  return len < kTabledLengths ? kRunConstants[static_cast<size_t>(len)] : ComputeRunConstants(len);
}
}  // namespace

void Bocpd::Reset() {
  runs_ = {};
  runs_[0] = {1.0f, 0.0f, 0};
  count_ = 1;
}

void Bocpd::Update(double z) {
  const float zf = static_cast<float>(std::clamp(z, -50.0, 50.0));
  const float hazard = static_cast<float>(hazard_);
  // Predictive of each run: mean mu = sum / (prior + len), variance 1 + 1/(prior + len).
  // Every run grows (candidates 1..count_); slot 0 is the new run.
  std::array<Run, kMaxRuns + 1> next;
  float change_mass = 0;
  for (int i = 0; i < count_; ++i) {
    const Run& r = runs_[static_cast<size_t>(i)];
    const RunConstants c = RunConstantsOf(r.len);
    const float dz = zf - r.sum / c.prec;
    const float p = r.prob * FastExpNeg(-0.5f * dz * dz * c.inv_var) * c.sqrt_inv_var;
    change_mass += p * hazard;
    next[static_cast<size_t>(i + 1)] = {p * (1 - hazard), r.sum + zf, r.len + 1};
  }
  next[0] = {change_mass, 0.0f, 0};
  int n = count_ + 1;
  if (n > kMaxRuns) {
    // Too many hypotheses: drop the least probable grown run (the paper's
    // pruning remark). One pass over the candidates.
    int weakest = 1;
    for (int i = 2; i < n; ++i) {
      if (next[static_cast<size_t>(i)].prob < next[static_cast<size_t>(weakest)].prob) weakest = i;
    }
    next[static_cast<size_t>(weakest)] = next[static_cast<size_t>(n - 1)];
    --n;
  }
  float total = 0;
  for (int i = 0; i < n; ++i) total += next[static_cast<size_t>(i)].prob;
  if (!(total > 1e-30f)) {
    Reset();
    return;
  }
  const float inv_total = 1.0f / total;
  for (int i = 0; i < n; ++i) {
    next[static_cast<size_t>(i)].prob *= inv_total;
    runs_[static_cast<size_t>(i)] = next[static_cast<size_t>(i)];
  }
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
