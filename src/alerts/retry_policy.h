// RetryPolicy: when to try again after a failed delivery.
//
// Exponential backoff: the delay after the n-th failed attempt is
//   min(max_ms, initial_ms * factor^(n-1)),
// optionally shortened by up to `jitter` of itself (jitter 0.2: a delay of
// 80-100% of the nominal one) so that many receivers failing together do
// not retry in lockstep. The jitter is a hash of (seed, attempt), not a
// random number: the same policy always gives the same delays, and callers
// that want different delays per message put e.g. the message id in seed.
// After max_attempts failed attempts the caller gives up.
//
// A plain value; no clock; any thread.
#pragma once

#include <cstdint>

#include "core/sample.h"

namespace vigil {

struct RetryPolicy {
  TimestampMs initial_ms = 1000;
  TimestampMs max_ms = 60000;
  double factor = 2;
  int max_attempts = 10;
  double jitter = 0;  // in [0, 1)
  uint64_t seed = 0;

  // Delay before the next try after `attempt` failed attempts (attempt >= 1;
  // smaller values are treated as 1). Never negative, never above max_ms.
  TimestampMs DelayFor(int attempt) const;
  // True when `attempts` failed attempts mean giving up.
  bool Exhausted(int attempts) const { return attempts >= max_attempts; }
};

}  // namespace vigil
