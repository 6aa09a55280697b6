#include "sim/baseline.h"

#include <cmath>

namespace vigil::sim {

StaticThresholdAlerter::StaticThresholdAlerter(const Simulator& sim, int for_steps, int64_t quiet_ms)
    : sim_(sim), for_steps_(for_steps), quiet_ms_(quiet_ms), pods_(sim.pods().size()) {}

void StaticThresholdAlerter::Observe(const StepOutput& step) {
  static const char* kRules[4] = {"cpu > 90%", "error rate > 5%", "p99 latency > 1s", "target down"};
  const auto& v = step.values;
  auto present = [&](int i) { return i >= 0 && !std::isnan(v[i]); };
  for (size_t p = 0; p < pods_.size(); ++p) {
    PodRules& r = pods_[p];
    const Service& svc = sim_.topology().services[sim_.pods()[p].service];
    bool breach[4] = {false, false, false, false};
    const int up = sim_.PodSeries(static_cast<int>(p), kUp);
    const int cpu = sim_.PodSeries(static_cast<int>(p), kCpuSeconds);
    if (!present(up) || v[up] < 0.5 || !present(cpu)) {
      breach[3] = true;
      r.last_cpu = r.last_total = r.last_bad = -1;
    } else {
      double total = 0, bad = 0, p99 = 0;
      for (const auto& es : sim_.PodEndpointSeries(static_cast<int>(p))) {
        for (int c = 0; c < 3; ++c) total += v[es.req[c]];
        bad += v[es.req[2]];
        p99 = std::max(p99, v[es.p99]);
      }
      const double dt = static_cast<double>(step.ts_ms - r.last_ms) / 1000.0;
      if (r.last_cpu >= 0 && dt > 0 && v[cpu] >= r.last_cpu && total >= r.last_total) {
        breach[0] = (v[cpu] - r.last_cpu) / dt / svc.cpu_limit_cores > 0.9;
        const double dtotal = total - r.last_total, dbad = bad - r.last_bad;
        breach[1] = dtotal / dt > 0.1 && dbad / dtotal > 0.05;
      }
      breach[2] = p99 > 1.0;
      r.last_cpu = v[cpu];
      r.last_total = total;
      r.last_bad = bad;
      r.last_ms = step.ts_ms;
    }
    bool any = false;
    const char* rule = nullptr;
    for (int k = 0; k < 4; ++k) {
      r.streak[k] = breach[k] ? r.streak[k] + 1 : 0;
      if (r.streak[k] >= for_steps_) {
        any = true;
        if (!rule) rule = kRules[k];
      }
    }
    if (any) {
      if (!r.firing && (r.last_firing_ms < 0 || step.ts_ms - r.last_firing_ms > quiet_ms_)) {
        alerts_.push_back({step.ts_ms, static_cast<int>(p), rule});
      }
      r.firing = true;
      r.last_firing_ms = step.ts_ms;
    } else {
      r.firing = false;
    }
  }
}

}  // namespace vigil::sim
