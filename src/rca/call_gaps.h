// Call gaps: the time a call spends between the caller's span and the
// callee's span (the parent's duration minus the child's, when they are on
// different instances): network, egress queues, connection set-up. A pod
// with a delayed or lossy interface shows no slow span of its own -- its
// spans are as fast as ever -- but every call into (or out of) it has a
// wider gap. The per-edge baseline comes from normal spans as in MicroRank
// (median + k robust sd per caller service, callee service and operation);
// an instance is suspected by the share of its calls, in and out, whose gap
// is beyond the baseline, in the spirit of TraceAnomaly's per-call-path
// latency features (Liu et al., "Unsupervised Detection of Microservice
// Trace Anomalies through Service-Level Deep Bayesian Networks", ISSRE 2020).
#pragma once

#include <string>
#include <vector>

#include "core/span.h"

namespace vigil::rca {

struct GapSuspect {
  std::string service, instance;
  double score = 0;            // share of its calls with a wide gap, in or out (0..1, Wilson lower bound)
  int slow_in = 0, calls_in = 0, slow_out = 0, calls_out = 0;
  double median_excess_ms = 0;  // typical gap beyond the baseline median
};

// Instances by the share of their calls with a wide gap, best first; only
// instances with at least `min_calls` calls in the window.
std::vector<GapSuspect> RankCallGaps(const std::vector<Span>& baseline, const std::vector<Span>& window,
                                     double threshold_sd = 4.0, int min_calls = 5);

}  // namespace vigil::rca
