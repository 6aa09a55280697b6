// Branch-free std::max, std::min and std::clamp of doubles, with exactly
// their results (the same operand returned for NaNs and equal values, so
// signed zeros too). GCC compiles many of the std forms on doubles to a
// compare and a jump, and where the operands are noise (a one-sided sum at
// 0, two residuals' minimum) that jump is taken at random and mispredicted
// half the time; the SSE2 min/max instructions return their second operand
// for NaNs and equal values, which is what the std forms do with their
// operands swapped.
#pragma once

#include <algorithm>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace vigil {

// std::max(a, b): a < b ? b : a.
inline double MaxOf(double a, double b) {
#if defined(__SSE2__)
  return _mm_cvtsd_f64(_mm_max_sd(_mm_set_sd(b), _mm_set_sd(a)));
#else
  return std::max(a, b);
#endif
}

// The same for floats.
inline float MaxOf(float a, float b) {
#if defined(__SSE2__)
  return _mm_cvtss_f32(_mm_max_ss(_mm_set_ss(b), _mm_set_ss(a)));
#else
  return std::max(a, b);
#endif
}

// std::min(a, b): b < a ? b : a.
inline double MinOf(double a, double b) {
#if defined(__SSE2__)
  return _mm_cvtsd_f64(_mm_min_sd(_mm_set_sd(b), _mm_set_sd(a)));
#else
  return std::min(a, b);
#endif
}

// c ? a : b, without a jump (a bit mask).
inline double SelectOf(bool c, double a, double b) {
#if defined(__SSE2__)
  const __m128d m = _mm_castsi128_pd(_mm_set1_epi64x(-static_cast<long long>(c)));
  return _mm_cvtsd_f64(_mm_or_pd(_mm_and_pd(m, _mm_set_sd(a)), _mm_andnot_pd(m, _mm_set_sd(b))));
#else
  return c ? a : b;
#endif
}

// std::clamp(v, lo, hi) as libstdc++ computes it: std::min(std::max(v, lo), hi).
inline double ClampOf(double v, double lo, double hi) { return MinOf(MaxOf(v, lo), hi); }

}  // namespace vigil
