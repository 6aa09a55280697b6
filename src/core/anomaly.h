// Anomalies: an explained judgement that one point of one series is abnormal.
#pragma once

#include <cstdint>
#include <string>

#include "core/labels.h"
#include "core/sample.h"

namespace vigil {

enum class Direction { kUp, kDown };

inline const char* DirectionName(Direction d) { return d == Direction::kUp ? "up" : "down"; }

struct Anomaly {
  int64_t id = 0;             // assigned by the store
  SeriesId series = 0;
  Labels labels;
  TimestampMs ts_ms = 0;
  double value = 0;           // the analysed value (a rate for counters)
  double expected = 0;        // centre of the normal band
  double lower = 0;           // normal band
  double upper = 0;
  double score = 0;           // how far outside, in robust standard deviations
  Direction direction = Direction::kUp;
  std::string detector;       // e.g. "robust_median_mad"
  std::string pattern;        // e.g. "spike", "dip", "level_shift_up"
  bool is_rate = false;       // value is a per-second rate of a counter
};

}  // namespace vigil
