// Point-adjusted scoring for labelled KPI series (AIOps Challenge 2018
// format), written from the published rules:
//  - Point adjust with delay (the challenge's rule; also Xu et al., "Unsupervised
//    Anomaly Detection via Variational Auto-Encoder for Seasonal KPIs in Web
//    Applications" (Donut), WWW 2018): a labelled anomaly segment counts as
//    fully detected when an alarm falls within its first delay+1 points
//    (delay = 7); otherwise the whole segment counts as missed, alarms later
//    in it included.
//  - PA%K (Kim et al., "Towards a Rigorous Evaluation of Time-Series Anomaly
//    Detection", AAAI 2022): a segment counts as fully detected when at least
//    K % of its points are alarms; K = 0 is plain point adjust, K = 100 is
//    point-wise.
//  - Event-wise F1: recall over labelled segments (any alarm inside),
//    precision over alarm events (maximal runs of alarms; a run touching a
//    segment is a true event).
// All counts are summed over the series before F1 is taken (the challenge
// concatenated all KPIs).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vigil {

struct KpiSeriesResult {
  // Per-point inputs: label (true = anomalous), the detector's score and its
  // own alarm decision.
  std::vector<bool> labels;
  std::vector<double> scores;
  std::vector<bool> alarms;
};

struct Counts {
  int64_t tp = 0, fp = 0, fn = 0;
  void Add(const Counts& o) { tp += o.tp; fp += o.fp; fn += o.fn; }
  double F1() const;
  double Precision() const;
  double Recall() const;
};

// Point-wise counts after the delay rule (delay < 0: plain point adjust).
Counts PointAdjustCounts(const std::vector<bool>& labels, const std::vector<bool>& alarms, int delay);
// Point-wise counts after PA%K (k in [0, 100]).
Counts PaKCounts(const std::vector<bool>& labels, const std::vector<bool>& alarms, double k);
// Plain point-wise counts.
Counts PointCounts(const std::vector<bool>& labels, const std::vector<bool>& alarms);
// Event counts: tp = detected segments, fn = missed segments, fp = alarm
// events touching no segment.
Counts EventCounts(const std::vector<bool>& labels, const std::vector<bool>& alarms);

struct BestF1 {
  double f1 = 0, threshold = 0;
  Counts counts;
};
// Best F1 under the delay rule over one threshold shared by all series
// (alarm = score >= threshold).
BestF1 BestPointAdjustF1(const std::vector<const KpiSeriesResult*>& series, int delay);

struct KpiScore {
  double best_f1_pa = 0, best_threshold = 0;
  double f1_pa = 0;   // the detector's own alarms, delay rule
  double f1 = 0;      // the detector's own alarms, point-wise
  std::map<int, double> pa_k;  // K -> F1 under PA%K, own alarms
  double event_f1 = 0;
  int64_t points = 0, anomalous_points = 0, segments = 0;
};

inline constexpr int kAiopsDelay = 7;
// Scores a set of series together (pass one for a per-series score).
KpiScore ScoreKpi(const std::vector<const KpiSeriesResult*>& series, int delay = kAiopsDelay);

}  // namespace vigil
