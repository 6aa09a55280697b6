// Counters and their rates.
//
// Prometheus counters only go up, except when the process exporting them
// restarts and the counter starts again from zero. Their raw values say
// nothing about behaviour; their per-second rate does. This header decides
// which series are counters and turns counter samples into rates.
//
// All classes are plain values: no clock, no threads. Not thread-safe; the
// engine keeps one object per series on the series' shard.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/sample.h"
#include "core/status.h"

namespace vigil {

// True when `metric_name` follows the Prometheus naming conventions for
// cumulative series: it ends in "_total", "_count", "_sum" or "_bucket"
// (which covers "_seconds_total", "_bytes_total", histogram and summary
// parts). Everything else is treated as a gauge until MonotonicityTracker
// says otherwise.
bool LooksLikeCounter(std::string_view metric_name);

// Per-second rate of a counter, sample by sample.
//
// Update() returns the rate over the interval since the previous accepted
// sample, or nullopt when there is none yet. Rules (those of Prometheus'
// rate()):
//   - a value lower than the previous one is a counter reset: the increase
//     since the reset is the new value itself;
//   - a sample whose timestamp is not after the previous accepted one
//     (duplicate or out of order) is ignored: nullopt, state unchanged;
//   - a non-finite value (NaN, the stale marker, infinities) ends the
//     series' activity: nullopt, and the next sample starts afresh.
class CounterRate {
 public:
  std::optional<double> Update(TimestampMs ts, double value);
  void Reset();
  bool has_previous() const { return has_prev_; }

  // Binary snapshot of the state (format versioned, little-endian).
  void AppendTo(std::string* out) const;
  // Reads what AppendTo wrote from the front of `*in`, advancing it.
  static Result<CounterRate> Parse(std::string_view* in);

 private:
  bool has_prev_ = false;
  TimestampMs prev_ts_ = 0;
  double prev_value_ = 0;
};

// What a series' values say it is.
enum class SeriesKind {
  kUndecided,  // not enough evidence yet: analyse the raw values
  kCounter,    // behaves like a counter: analyse its rate
  kGauge,      // has moved in a way no counter does: never a counter again
};

const char* SeriesKindName(SeriesKind kind);

struct MonotonicityConfig {
  int min_points = 20;     // finite values seen before a series can be called a counter
  int min_increases = 2;   // steps that went up, at least
  double max_reset_fraction = 0.05;  // resets among steps, at most
  double reset_ratio = 0.1;  // a drop to at most this fraction of the previous value is a reset
};

// Watches a series that is not named like a counter (node_vmstat_pgfault,
// node_time_seconds, application counters without the _total suffix) and
// decides whether it behaves like one.
//
// Rule, evaluated on every finite value:
//   - a negative value, or a decrease that is not a reset, makes the series
//     kGauge for good (a reset is a drop to at most reset_ratio times the
//     previous value, i.e. "back to near zero");
//   - after at least min_points values, with at least min_increases steps
//     up and at most max(1, max_reset_fraction * steps) resets, the series
//     is kCounter;
//   - otherwise it stays kUndecided (a constant series is never a counter).
// The rule leans towards kCounter on purpose: a gauge wrongly called a
// counter reverts at its first decrease (and a one-point rate blip is not an
// anomaly in a sparse rate series), while a counter analysed as a gauge turns
// every increment into a level shift.
// Once kCounter, a series stays kCounter unless it later decreases without
// resetting, which makes it kGauge.
//
// Feed each raw value to Observe() BEFORE using it: when the kind changes
// from kCounter to kGauge, switch the series back to raw analysis without
// computing a rate from that value (a gauge's decrease would look like a
// counter reset and produce a bogus spike).
class MonotonicityTracker {
 public:
  explicit MonotonicityTracker(MonotonicityConfig cfg = {}) : cfg_(cfg) {}

  // Records `value` and returns the series' kind after it. Non-finite
  // values are ignored (the kind is returned unchanged).
  SeriesKind Observe(double value);
  SeriesKind kind() const { return kind_; }
  int points() const { return points_; }

  void AppendTo(std::string* out) const;
  static Result<MonotonicityTracker> Parse(std::string_view* in, MonotonicityConfig cfg = {});

 private:
  MonotonicityConfig cfg_;
  SeriesKind kind_ = SeriesKind::kUndecided;
  int points_ = 0;
  int increases_ = 0;
  int resets_ = 0;
  double prev_ = 0;
};

}  // namespace vigil
