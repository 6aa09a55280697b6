// CapacityWatch: the daemon side of capacity risk. Every
// detect.capacity_interval it forecasts the series matching each
// detect.capacity rule from the engine's per-series windows
// (detect/capacity.h) and returns a "capacity_risk" anomaly for each series
// whose likely threshold crossing falls within the rule's horizon. While a
// series stays at risk the anomaly is repeated at most once per the rule's
// `repeat`. Periodic and off the ingest path: a forecast per point would
// cost far more than the detectors.
//
// Not thread-safe: called from the engine's watcher thread only.
#pragma once

#include <optional>
#include <unordered_map>
#include <vector>

#include "core/anomaly.h"
#include "engine/config.h"
#include "engine/selector.h"

namespace vigil {

class Engine;

class CapacityWatch {
 public:
  // Rules were validated with the config; a rule whose selector no longer
  // parses is skipped.
  CapacityWatch(const Engine* engine, const DetectSettings& cfg);

  // Runs the rules when the interval has passed since the last run.
  std::vector<Anomaly> Tick(TimestampMs now);
  // Runs every rule now.
  std::vector<Anomaly> Check(TimestampMs now);

  static constexpr const char* kDetector = "capacity_forecast";
  static constexpr size_t kMaxSeriesPerRule = 1000;

 private:
  struct Rule {
    CapacityRule cfg;
    SeriesSelector selector;
    std::optional<Direction> direction;
  };
  const Engine* engine_;
  std::vector<Rule> rules_;
  TimestampMs interval_ms_;
  TimestampMs next_ms_ = 0;
  // (rule index, series) -> when its anomaly was last raised; entries of
  // series no longer at risk are dropped, so this is bounded by the series
  // at risk.
  std::unordered_map<uint64_t, TimestampMs> raised_;
};

}  // namespace vigil
