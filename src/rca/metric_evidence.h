// Metric evidence: how far each metric moved at the incident, and which pod's
// change is not explained by its neighbours on the call graph.
//
// 1. Robust change score per metric (BARO's RobustScorer, Pham et al.,
//    "BARO: Robust Root Cause Analysis for Microservices via Multivariate
//    Bayesian Online Change Point Detection", FSE 2024): the median and
//    inter-quartile range of the normal window give a centre and a scale;
//    a metric's score is the largest |x - median| / scale in the abnormal
//    window. Ranking pods by their largest score is the plain "rank by
//    anomaly score" baseline, which independent benchmarks found hard to
//    beat, so it is always reported.
// 2. Graph method: regression-based hypothesis testing on the call graph
//    (Li et al., "Causal Inference-Based Root Cause Analysis for Online
//    Service Systems with Intervention Recognition" (CIRCA), KDD 2022). Each
//    metric is regressed, over the normal window, on its parents in a
//    structural graph derived from the call graph (a pod's latency and
//    errors on its callees' latency and errors and its own load; its load
//    on its callers' load; its resources on its own load). The abnormal
//    window's residuals, in robust sd of the normal residuals, tell how far
//    the metric moved beyond what its parents explain: an intervention.
#pragma once

#include <string>
#include <vector>

#include "rca/case_data.h"

namespace vigil::rca {

struct MetricWindows {
  TimestampMs normal_begin = 0, normal_end = 0;      // [begin, end)
  TimestampMs abnormal_begin = 0, abnormal_end = 0;  // [begin, end)
};

// The role of an indicator in the structural graph, from its name.
// kLoad: requests served (incoming); kClientLoad: requests sent (outgoing,
// driven by the pod's own load and by retries of failing callees).
enum class IndicatorKind { kLoad, kLatency, kErrors, kResource, kClientLoad };
IndicatorKind KindOfIndicator(const std::string& indicator);
// Node-level metrics carried on a pod's row (Nezha's NodeCpuUsageRate(%),
// node_exporter's node_*): evidence about the host, not the pod.
bool IsNodeIndicator(const std::string& indicator);

struct MetricChange {
  size_t series = 0;       // index into CaseData::metrics
  double score = 0;        // robust sd moved (>= 0), log-compressed beyond 10
  double signed_z = 0;     // direction of the largest move
  double normal_median = 0, abnormal_median = 0, scale = 0;
  double sustained = 0;    // signed shift of the abnormal median, compressed like score
};

// One change score per series with data in both windows, in series order.
std::vector<MetricChange> ScoreMetricChanges(const CaseData& data, const MetricWindows& w);

// A pod (or a service-level series' service) and its strongest metric.
struct MetricSuspect {
  std::string service, instance, host;
  std::string indicator;
  double score = 0;      // the localizer's score (robust sd, or residual sd for the graph)
  double raw_score = 0;  // the plain robust change of that indicator
  double normal_median = 0, abnormal_median = 0;
};

// Plain baseline: every pod by its largest robust change, best first.
std::vector<MetricSuspect> RankByScore(const CaseData& data, const std::vector<MetricChange>& changes);

// Graph method (CIRCA-style regression hypothesis test), best first.
std::vector<MetricSuspect> RankOnGraph(const CaseData& data, const CallGraph& graph,
                                       const std::vector<MetricChange>& changes, const MetricWindows& w);

// Robust statistics used across the localizers.
double Median(std::vector<double> v);
// Inter-quartile range / 1.349 (a robust standard deviation).
double RobustSd(std::vector<double> v);

}  // namespace vigil::rca
