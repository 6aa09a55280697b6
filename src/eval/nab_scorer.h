// NabScorer: the Numenta Anomaly Benchmark's scoring, written from its
// published description (A. Lavin and S. Ahmad, "Evaluating Real-time
// Anomaly Detection Algorithms -- the Numenta Anomaly Benchmark", IEEE ICMLA
// 2015; rules summarised in ../shared/data/nab/SCORING.md).
//
// Each record gets a weight: inside a label window a scaled sigmoid of its
// position (an early detection earns the full true-positive weight, a late
// one little); outside, a false-positive cost that is small just after a
// window and full elsewhere (and always full before the first window). A
// file's score at threshold t sums, per window, the best weight among the
// detections (records with score >= t) inside it, or -A_FN when there is
// none, plus the weights of all detections outside windows. One threshold
// per profile is chosen to maximise the corpus score; the result is
// normalised so that the null detector scores 0 and a perfect one 100.
//
// Pure computation: the caller supplies the scores and the window rows.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace vigil {

// NAB's application profiles (its config/profiles.json).
struct NabProfile {
  std::string name;
  double tp_weight = 1, fp_weight = 0.11, fn_weight = 1;
};
// standard, reward_low_FP_rate, reward_low_FN_rate.
std::vector<NabProfile> NabStandardProfiles();

// One label window: rows first..last of the file, both inclusive.
struct NabWindow {
  size_t first = 0, last = 0;
};

struct NabFileScores {
  std::string name;            // e.g. "realKnownCause/nyc_taxi.csv"
  std::vector<double> scores;  // one anomaly score in [0, 1] per row
  std::vector<NabWindow> windows;  // ascending, disjoint
};

struct NabProfileResult {
  std::string profile;
  double threshold = 1.1;    // the corpus-optimal detection threshold
  double raw = 0;            // corpus raw score at that threshold
  double normalized = 0;     // 100 * (raw - null) / (perfect - null)
  std::vector<double> file_raw;  // per file, in input order, at the threshold
};

// NAB's scaled sigmoid: 2 / (1 + e^(5y)) - 1, and -1 for y > 3.
double NabScaledSigmoid(double y);

// Probationary rows at the start of a file of n rows: min(floor(0.15 n), 750).
size_t NabProbationaryLength(size_t n);

// Scores the corpus under each profile (threshold optimised per profile).
std::vector<NabProfileResult> ScoreNabCorpus(const std::vector<NabFileScores>& files,
                                             const std::vector<NabProfile>& profiles);

}  // namespace vigil
