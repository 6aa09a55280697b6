// EntityWatch: multivariate detection per entity in the daemon (opt-in:
// detect.multivariate.entity_label). Every detect.multivariate.interval the
// series of each entity (the values of that label: a host, a pod) are put on
// a common time grid from the engine's per-series windows (one row per step,
// one column per metric, gaps carried forward), an EntityDetector
// (detect/multivariate.h) is trained on the rows already judged and scores
// the rows that completed since the last check. An anomalous row raises one
// "entity_mahalanobis" anomaly on each metric carrying at least 15% of the
// joint score (at most 3), pattern "joint_anomaly", so the incident shows
// which metrics broke the entity's usual pattern.
//
// Bounded: max_entities entities, max_metrics metrics each (by name order).
// Not thread-safe: called from the engine's watcher thread only.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "core/anomaly.h"
#include "engine/config.h"

namespace vigil {

class Engine;

class EntityWatch {
 public:
  EntityWatch(const Engine* engine, const MultivariateSettings& cfg);

  // Checks when the interval has passed (and the watch is enabled).
  std::vector<Anomaly> Tick(TimestampMs now);
  // Checks every entity now.
  std::vector<Anomaly> Check(TimestampMs now);

  static constexpr const char* kDetector = "entity_mahalanobis";

 private:
  const Engine* engine_;
  MultivariateSettings cfg_;
  TimestampMs next_ms_ = 0;
  std::unordered_map<std::string, TimestampMs> last_scored_;  // entity -> newest row judged
};

}  // namespace vigil
