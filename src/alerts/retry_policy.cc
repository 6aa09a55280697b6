#include "alerts/retry_policy.h"

#include <algorithm>
#include <cmath>

#include "core/hash.h"

namespace vigil {

TimestampMs RetryPolicy::DelayFor(int attempt) const {
  attempt = std::max(1, attempt);
  double cap = static_cast<double>(std::max<TimestampMs>(0, max_ms));
  double base = static_cast<double>(std::max<TimestampMs>(0, initial_ms));
  double f = factor >= 1 ? factor : 1;
  // Multiply step by step and stop at the cap: no overflow for any attempt.
  double delay = base;
  for (int i = 1; i < attempt && delay < cap; ++i) delay *= f;
  delay = std::min(delay, cap);
  double j = std::clamp(jitter, 0.0, 0.999);
  if (j > 0) {
    uint64_t h = Mix64(seed ^ Mix64(static_cast<uint64_t>(attempt) + 0x9e3779b97f4a7c15ULL));
    double u = static_cast<double>(h >> 11) / static_cast<double>(1ULL << 53);  // [0, 1)
    delay *= 1.0 - j * u;
  }
  return static_cast<TimestampMs>(std::llround(delay));
}

}  // namespace vigil
