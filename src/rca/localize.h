// Root-cause localization of one incident: the ensemble of vigil's offline
// localizers (trace spectrum + PageRank, metric evidence on the call graph,
// host scan, change correlation, error-log and failing-span itemsets),
// merged into one ranking of (service, instance, indicator) entries, each
// carrying the evidence behind it. Pure library: the caller supplies the
// case data and measures nothing but what it passes in; compute time is
// measured by the caller (RankingToJson takes it as an argument).
//
// Stable API (the daemon attaches the ranking to incidents as root_causes):
//   rca::Ranking r = rca::Localize(case_data, rca::LocalizeOptions{});
//   std::string json = rca::RankingToJson(r, compute_ms);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rca/case_data.h"

namespace vigil::rca {

// One piece of evidence for a candidate: which localizer, a sentence a
// person can check, and the numbers behind it (name -> value).
struct Evidence {
  std::string localizer;  // "metrics", "traces", "logs", "changes", "hosts", "itemsets"
  std::string text;       // e.g. "CpuUsageRate(%) moved +14.2 robust sd (31 -> 94)"
  std::vector<std::pair<std::string, double>> numbers;
  double score = 0;       // this localizer's normalized contribution (0..1)
};

struct RankedCause {
  std::string service;
  std::string instance;   // "" when the whole service is blamed
  std::string indicator;  // the metric or signal that moved most, "" unknown
  double score = 0;       // ensemble score, higher = more likely
  std::vector<Evidence> evidence;
};

struct Ranking {
  std::vector<RankedCause> causes;  // best first
  // The plain rank-by-anomaly-score baseline over the same data (services
  // by their largest robust metric change), reported beside the ensemble.
  std::vector<RankedCause> baseline;
  std::vector<std::string> notes;   // what was missing or skipped ("no spans", ...)
};

struct LocalizeOptions {
  int64_t abnormal_ms = 5 * 60000;   // abnormal window after incident_ms
  int64_t normal_ms = 25 * 60000;    // normal window length before it
  int64_t gap_ms = 60000;            // left out between normal and abnormal
  size_t max_causes = 10;
  // Localizers to run (all by default).
  bool use_metrics = true, use_traces = true, use_logs = true, use_changes = true, use_hosts = true;
  bool use_call_gaps = true;  // with use_traces: span gaps besides MicroRank
  // Metric localizer: the graph method (CIRCA-style regression on the call
  // graph) or the plain robust change score per metric.
  enum class MetricMethod { kGraph, kScore } metric_method = MetricMethod::kGraph;
};

Ranking Localize(const CaseData& data, const LocalizeOptions& options = {});

// {"ranking":[{"service","instance","indicator","score","evidence":[{"localizer",
// "text","score","numbers":{...}}]}],"baseline":[{"service","instance",
// "indicator","score"}],"notes":[...],"compute_ms":x}
std::string RankingToJson(const Ranking& ranking, double compute_ms);

}  // namespace vigil::rca
