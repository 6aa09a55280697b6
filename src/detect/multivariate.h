// Multivariate anomaly detection over the metrics of one entity (a host, a
// pod): a row of d values per timestamp, scored jointly, so that a broken
// relation between metrics (CPU busy while requests stop, memory rising
// without load) is seen even when each metric alone stays in its usual range.
//
// Method. Each metric is standardised by the mean and standard deviation of
// the training rows (the scale floored, so that a metric constant in
// training does not divide by zero, and the standardised value clipped at
// +-kClip). The covariance of the standardised rows is estimated with the
// Ledoit-Wolf shrinkage towards a scaled identity (O. Ledoit and M. Wolf,
// "A well-conditioned estimator for large-dimensional covariance matrices",
// Journal of Multivariate Analysis 88, 2004): the sample covariance S is
// replaced by (b^2/d^2) m I + (a^2/d^2) S with the paper's consistent,
// data-driven estimates of the weights (its section 3.3), which keeps the estimate invertible when metrics are
// collinear or constant and the training window is short. The score of a
// row z is its squared Mahalanobis distance z' Sigma^-1 z (P. C.
// Mahalanobis, 1936).
//
// Explanation. The score splits exactly into per-metric terms
// c_i = z_i (Sigma^-1 z)_i (sum_i c_i = score); the metrics with the largest
// terms are the ones that broke the pattern.
//
// Streaming. Update() scores a row against the current model and then adds
// it to a bounded window of recent rows (unless it was anomalous: an incident
// must not become the baseline); every refit_every rows the model is refitted
// on the window. O(d^2) per row, O(n d^2) per refit.
//
// Pure library: no I/O, no clock, no threads.
#pragma once

#include <cstddef>
#include <deque>
#include <span>
#include <vector>

#include "core/status.h"

namespace vigil {

struct MultivariateConfig {
  size_t window = 5000;        // recent rows kept for refits
  size_t refit_every = 1000;   // rows between refits (0 = never)
  size_t min_rows = 30;        // rows needed before the first fit
  // A row is anomalous when its score exceeds the training scores'
  // `quantile` times `margin`.
  double quantile = 0.999;
  double margin = 1.5;
};

struct MetricContribution {
  size_t metric = 0;
  double share = 0;  // c_i / score
};

struct MultivariateVerdict {
  bool ready = false;      // a model exists
  bool anomalous = false;
  double score = 0;        // squared Mahalanobis distance
  double threshold = 0;
  std::vector<MetricContribution> top;  // largest contributions first (at most 5)
};

// A fitted model: standardisation and the inverse shrunk covariance.
class ShrunkCovarianceModel {
 public:
  static constexpr double kClip = 50;

  // Fits rows (each of size d). InvalidArgument when fewer than 2 rows or
  // rows of different sizes.
  static Result<ShrunkCovarianceModel> Fit(const std::vector<std::vector<double>>& rows);

  size_t dims() const { return mean_.size(); }
  double shrinkage() const { return shrinkage_; }  // weight of the identity target, [0, 1]
  // Squared Mahalanobis distance; contributions (size d) when non-null.
  double Score(std::span<const double> row, std::vector<double>* contributions = nullptr) const;

 private:
  std::vector<double> mean_, scale_;
  std::vector<double> inv_;  // d x d, row-major
  double shrinkage_ = 0;
};

class EntityDetector {
 public:
  EntityDetector(size_t dims, const MultivariateConfig& cfg);

  // Fits the model on training rows (also seeds the window). Errors as
  // ShrunkCovarianceModel::Fit, or a row of the wrong size.
  Status Train(const std::vector<std::vector<double>>& rows);
  // Scores a row (non-finite values count as the training mean), then
  // learns from it. Rows of the wrong size are refused (score 0, not ready).
  MultivariateVerdict Update(std::span<const double> row);

  size_t dims() const { return dims_; }
  bool ready() const { return fitted_; }

 private:
  void Refit();

  size_t dims_;
  MultivariateConfig cfg_;
  ShrunkCovarianceModel model_;
  bool fitted_ = false;
  double threshold_ = 0;
  std::deque<std::vector<double>> window_;
  size_t since_fit_ = 0;
};

}  // namespace vigil
