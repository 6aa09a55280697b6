#include "detect/change_point.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace vigil {

namespace {
// Prior on a segment's mean: N(0, 1/kPriorPrecision) in residual units, so a
// new segment may sit several sigmas away.
constexpr double kPriorPrecision = 0.05;

#if !defined(__SSE2__)
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

// Per run length, the predictive's constants (prec = prior + len, the
// variance factor prec / (prec + 1) and its square root).
struct RunConstants {
  float prec, inv_var, sqrt_inv_var;
};
inline RunConstants RunConstantsOf(int32_t len) {
  const float prec = static_cast<float>(kPriorPrecision) + static_cast<float>(len);
  const float inv_var = prec / (prec + 1.0f);  // 1 / (1 + 1/prec)
  return {prec, inv_var, std::sqrt(inv_var)};
}
#else
// FastExpNeg (e^x for x <= 0 to ~1e-4 relative error, no libm call: 2^(x
// log2 e) split into an integer power built in the exponent bits and a
// degree-5 polynomial for 2^f on [0, 1)) of four floats: the scalar form's
// float operations in the same order, lane-wise, so the same bits; floor is
// the truncation corrected by one where it rounded up (exact for the
// arguments here, |y| < 2^31).
inline __m128 FastExpNeg4(__m128 x) {
  // (_mm_max_ps returns its second operand when either is NaN, as std::max(x, -87) returns x.)
  const __m128 y = _mm_mul_ps(_mm_max_ps(_mm_set1_ps(-87.0f), x), _mm_set1_ps(1.44269504f));
  const __m128i ti = _mm_cvttps_epi32(y);
  __m128 n = _mm_cvtepi32_ps(ti);
  n = _mm_sub_ps(n, _mm_and_ps(_mm_cmpgt_ps(n, y), _mm_set1_ps(1.0f)));
  const __m128 f = _mm_sub_ps(y, n);
  __m128 p = _mm_add_ps(_mm_set1_ps(0.00961812911f), _mm_mul_ps(f, _mm_set1_ps(0.00133335581f)));
  p = _mm_add_ps(_mm_set1_ps(0.0555041087f), _mm_mul_ps(f, p));
  p = _mm_add_ps(_mm_set1_ps(0.240226507f), _mm_mul_ps(f, p));
  p = _mm_add_ps(_mm_set1_ps(0.693147182f), _mm_mul_ps(f, p));
  p = _mm_add_ps(_mm_set1_ps(1.0f), _mm_mul_ps(f, p));
  const __m128i e = _mm_slli_epi32(_mm_add_epi32(_mm_cvttps_epi32(n), _mm_set1_epi32(127)), 23);
  return _mm_mul_ps(p, _mm_castsi128_ps(e));
}
#endif
}  // namespace

void Bocpd::Reset() {
  prob_ = {};
  sum_ = {};
  len_ = {};
  prob_[0] = 1.0f;
  count_ = 1;
}

void Bocpd::Update(double z) {
  const float zf = static_cast<float>(std::clamp(z, -50.0, 50.0));
  const float hazard = static_cast<float>(hazard_);
  const float keep = 1 - hazard;
  // Predictive of each run: mean mu = sum / (prior + len), variance 1 + 1/(prior + len).
  // Every run grows (candidates 1..count_); slot 0 is the new run. The
  // per-run arithmetic is lane-wise (the same float operations as one run
  // at a time); the sums over runs stay sequential, in run order.
  constexpr int kPad = 4;  // (the last vector of four may reach past count_)
  static_assert(kMaxRuns % 4 == 0, "the vector loop reads runs four at a time from arrays of kMaxRuns");
  float weight[kMaxRuns];
  float next_prob[kMaxRuns + kPad], next_sum[kMaxRuns + kPad];
  int32_t next_len[kMaxRuns + kPad];
  const int count = count_;
#if defined(__SSE2__)
  const __m128 z4 = _mm_set1_ps(zf), keep4 = _mm_set1_ps(keep), one = _mm_set1_ps(1.0f);
  const __m128 prior = _mm_set1_ps(static_cast<float>(kPriorPrecision)), minus_half = _mm_set1_ps(-0.5f);
  for (int i = 0; i < count; i += 4) {
    const __m128 prob = _mm_loadu_ps(&prob_[static_cast<size_t>(i)]);
    const __m128 sum = _mm_loadu_ps(&sum_[static_cast<size_t>(i)]);
    const __m128i len = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&len_[static_cast<size_t>(i)]));
    // (RunConstants, computed: division and square root are exactly rounded in either form.)
    const __m128 prec = _mm_add_ps(prior, _mm_cvtepi32_ps(len));
    const __m128 inv_var = _mm_div_ps(prec, _mm_add_ps(prec, one));
    const __m128 dz = _mm_sub_ps(z4, _mm_div_ps(sum, prec));
    const __m128 arg = _mm_mul_ps(_mm_mul_ps(_mm_mul_ps(minus_half, dz), dz), inv_var);
    const __m128 p = _mm_mul_ps(_mm_mul_ps(prob, FastExpNeg4(arg)), _mm_sqrt_ps(inv_var));
    _mm_storeu_ps(&weight[i], p);
    _mm_storeu_ps(&next_prob[i + 1], _mm_mul_ps(p, keep4));
    _mm_storeu_ps(&next_sum[i + 1], _mm_add_ps(sum, z4));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&next_len[i + 1]), _mm_add_epi32(len, _mm_set1_epi32(1)));
  }
#else
  for (int i = 0; i < count; ++i) {
    const size_t k = static_cast<size_t>(i);
    const RunConstants c = RunConstantsOf(len_[k]);
    const float dz = zf - sum_[k] / c.prec;
    const float p = prob_[k] * FastExpNeg(-0.5f * dz * dz * c.inv_var) * c.sqrt_inv_var;
    weight[i] = p;
    next_prob[i + 1] = p * keep;
    next_sum[i + 1] = sum_[k] + zf;
    next_len[i + 1] = len_[k] + 1;
  }
#endif
  float change_mass = 0;
  for (int i = 0; i < count; ++i) change_mass += weight[i] * hazard;
  next_prob[0] = change_mass;
  next_sum[0] = 0.0f;
  next_len[0] = 0;
  int n = count + 1;
  if (n > kMaxRuns) {
    // Too many hypotheses: drop the least probable grown run (the paper's
    // pruning remark). One pass over the candidates.
    // (The first least, tracked without a jump per candidate.)
    int weakest = 1;
    float least = next_prob[1];
    for (int i = 2; i < n; ++i) {
      const bool less = next_prob[i] < least;
      weakest = less ? i : weakest;
      least = less ? next_prob[i] : least;
    }
    next_prob[weakest] = next_prob[n - 1];
    next_sum[weakest] = next_sum[n - 1];
    next_len[weakest] = next_len[n - 1];
    --n;
  }
  float total = 0;
  for (int i = 0; i < n; ++i) total += next_prob[i];
  if (!(total > 1e-30f)) {
    Reset();
    return;
  }
  const float inv_total = 1.0f / total;
  for (int i = 0; i < n; ++i) {
    const size_t k = static_cast<size_t>(i);
    prob_[k] = next_prob[i] * inv_total;
    sum_[k] = next_sum[i];
    len_[k] = next_len[i];
  }
  count_ = n;
}

double Bocpd::RecentChangeProbability(int recent) const {
  double p = 0;
  for (int i = 0; i < count_; ++i) {
    // (Adding 0 leaves p, never -0, as it is: no jump per run.)
    p += len_[static_cast<size_t>(i)] <= recent ? static_cast<double>(prob_[static_cast<size_t>(i)]) : 0.0;
  }
  return p;
}

int Bocpd::MapRunLength() const {
  int best = 0;
  for (int i = 1; i < count_; ++i) {
    if (prob_[static_cast<size_t>(i)] > prob_[static_cast<size_t>(best)]) best = i;
  }
  return len_[static_cast<size_t>(best)];
}

double Bocpd::MapMean() const {
  int best = 0;
  for (int i = 1; i < count_; ++i) {
    if (prob_[static_cast<size_t>(i)] > prob_[static_cast<size_t>(best)]) best = i;
  }
  return sum_[static_cast<size_t>(best)] / (kPriorPrecision + len_[static_cast<size_t>(best)]);
}

}  // namespace vigil
