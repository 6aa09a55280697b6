// StaticThresholdAlerter: what a team without AIOps runs. Four fixed rules
// per pod, evaluated on the same samples the simulator sends to vigil:
//   cpu      rate(container_cpu_usage_seconds_total) / CPU limit > 90%
//   errors   5xx / all requests over the pod's endpoints > 5%
//   latency  any endpoint's p99 > 1 s
//   down     the pod missed its scrape (up == 0 or absent)
// A rule fires after `for_steps` consecutive breaching evaluations (like a
// Prometheus rule's `for:`); a pod's alert opens when its first rule fires
// and counts as a new alert only after `quiet_ms` without any firing rule.
#pragma once

#include <string>
#include <vector>

#include "sim/model.h"

namespace vigil::sim {

struct ThresholdAlert {
  TimestampMs opened_ms = 0;
  int pod = 0;
  std::string rule;
};

class StaticThresholdAlerter {
 public:
  explicit StaticThresholdAlerter(const Simulator& sim, int for_steps = 2, int64_t quiet_ms = 300000);
  // Evaluates one step (after Simulator::Step filled it).
  void Observe(const StepOutput& step);
  const std::vector<ThresholdAlert>& alerts() const { return alerts_; }

 private:
  struct PodRules {
    double last_cpu = -1, last_total = -1, last_bad = -1;
    TimestampMs last_ms = 0;
    int streak[4] = {0, 0, 0, 0};
    bool firing = false;
    TimestampMs last_firing_ms = -1;
  };
  const Simulator& sim_;
  int for_steps_;
  int64_t quiet_ms_;
  std::vector<PodRules> pods_;
  std::vector<ThresholdAlert> alerts_;
};

}  // namespace vigil::sim
