// Offline scoring of multivariate detection in the layout of the Server
// Machine Dataset (Y. Su et al., "Robust anomaly detection for multivariate
// time series through stochastic recurrent neural network" (OmniAnomaly),
// KDD 2019): per machine, `train/<m>.txt` and `test/<m>.txt` hold one row per
// timestamp of comma-separated floats (one column per metric), and
// `test_label/<m>.txt` one 0/1 per test row.
//
// Scores, each at the threshold that maximises it (the usual "best F1"):
//  - f1: point-wise F1;
//  - best_f1_pa: F1 after point adjustment (Xu et al., "Unsupervised anomaly
//    detection via variational auto-encoder for seasonal KPIs in web
//    applications" (Donut), WWW 2018): when any point of a labelled segment
//    is flagged, the whole segment counts as detected;
//  - pa_k: PA%K (S. Kim et al., "Towards a rigorous evaluation of
//    time-series anomaly detection", AAAI 2022): a segment is adjusted only
//    when at least K% of its points are flagged; K = 0 is PA, K = 100 no
//    adjustment; "auc" is the mean over K = 0, 10, ..., 100;
//  - event_f1: segments as events: recall = labelled segments with at least
//    one flagged point / segments, precision = runs of flagged points that
//    overlap a labelled segment / runs.
//
// Pure library: parsing from text and scoring; the CLI reads the files.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace vigil {

// Rows of comma-separated floats. InvalidArgument naming line and column.
Result<std::vector<std::vector<double>>> ParseSmdMatrix(std::string_view text);
// One 0/1 per line (a row of comma-separated 0/1 is also read, its first value).
Result<std::vector<int>> ParseSmdLabels(std::string_view text);

struct SmdCounts {
  size_t tp = 0, fp = 0, fn = 0;
  double F1() const;
};

// Confusion counts of flags = score > threshold against labels, with PA%K
// adjustment (k_percent < 0: none; 0: classic point adjust).
SmdCounts CountAdjusted(std::span<const double> scores, std::span<const int> labels, double threshold, double k_percent);
// Event-wise counts: tp = detected segments, fn = missed segments, fp =
// flagged runs overlapping no segment.
SmdCounts CountEvents(std::span<const double> scores, std::span<const int> labels, double threshold);

struct SmdBestF1 {
  double f1 = 0;
  double threshold = 0;
  SmdCounts counts;
};

// The best F1 over thresholds (at most ~max_thresholds candidates: score
// quantiles). k_percent as in CountAdjusted; event = true scores events.
SmdBestF1 BestThreshold(std::span<const double> scores, std::span<const int> labels, double k_percent, bool event,
                     size_t max_thresholds = 400);

struct SmdScores {
  SmdBestF1 f1, f1_pa, event_f1;
  std::map<int, SmdBestF1> pa_k;  // K -> best
  double pa_k_auc = 0;
};

SmdScores ScoreSmd(std::span<const double> scores, std::span<const int> labels);

}  // namespace vigil
