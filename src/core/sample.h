// Samples: one timestamped value of one series.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/labels.h"

namespace vigil {

// All timestamps in vigil are int64 milliseconds since the Unix epoch, UTC.
using TimestampMs = int64_t;

struct Sample {
  TimestampMs ts_ms = 0;
  double value = 0;
};

// Prometheus marks a series that disappeared from its target with this NaN
// payload. It ends the series' activity; it is never a value.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;

inline bool IsStaleMarker(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == kStaleNaNBits;
}

inline double StaleMarker() {
  double v;
  uint64_t bits = kStaleNaNBits;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

// A series with the samples of one write, in time order.
struct TimeSeries {
  Labels labels;
  std::vector<Sample> samples;
};

}  // namespace vigil
