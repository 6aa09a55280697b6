// Trace spectrum + personalized PageRank (Yu et al., "MicroRank: End-to-End
// Latency Issue Localization with Extended Spectrum Analysis in Cloud Native
// Systems", WWW 2021).
//
// 1. Each operation (an instance's span name) gets a latency baseline from
//    normal traces (the fault-free period when given, else the window before
//    the incident): median + k robust sd. A trace of the abnormal window is
//    anomalous when one of its spans errs or exceeds its operation's
//    threshold; the other traces of that window are the normal set.
// 2. For each set, a personalized PageRank runs on the bipartite graph of
//    traces and operations plus the operation call edges; the preference
//    favours anomalous traces that cover few operations (a short failing
//    trace pins the fault down) and, in the normal set, traces that cover
//    many. The PageRank weights replace MicroRank's raw counts in the
//    spectrum.
// 3. Spectrum formulas rank operations: ef/ep (weighted failing/passing
//    traces through the operation), nf/np (those not through it); Ochiai
//    ef/sqrt((ef+nf)(ef+ep)) by default, DStar2 ef^2/(ep+nf) as an option.
// Instances are ranked by their best operation.
#pragma once

#include <string>
#include <vector>

#include "core/span.h"

namespace vigil::rca {

struct MicroRankOptions {
  double threshold_sd = 3.0;    // latency beyond median + k * robust sd is anomalous
  double min_threshold_ratio = 1.5;  // ... and beyond this factor of the median
  double damping = 0.85;        // PageRank
  int iterations = 30;
  enum class Formula { kOchiai, kDStar2 } formula = Formula::kOchiai;
};

struct OperationSuspect {
  std::string service, instance, operation;
  double score = 0;
  double ef = 0, ep = 0;  // weighted anomalous / normal traces through it
  int anomalous_traces = 0, normal_traces = 0;  // raw counts through it
  int slow_spans = 0, error_spans = 0;          // its own beyond-threshold / failed spans
};

struct MicroRankResult {
  std::vector<OperationSuspect> operations;  // best first
  size_t anomalous_traces = 0, normal_traces = 0;
};

// `baseline`: spans of the normal period; `window`: spans of the abnormal
// window (whole traces). Instances with empty names are keyed by service.
MicroRankResult RunMicroRank(const std::vector<Span>& baseline, const std::vector<Span>& window,
                             const MicroRankOptions& options = {});

}  // namespace vigil::rca
