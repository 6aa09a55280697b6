#include "detect/multivariate.h"

#include <algorithm>
#include <cmath>

namespace vigil {

namespace {

// Cholesky factorisation of a symmetric positive definite matrix (row-major,
// in place: the lower triangle becomes L). False when not positive definite.
bool Cholesky(std::vector<double>& a, size_t d) {
  for (size_t j = 0; j < d; ++j) {
    double s = a[j * d + j];
    for (size_t k = 0; k < j; ++k) s -= a[j * d + k] * a[j * d + k];
    if (!(s > 0)) return false;
    double l = std::sqrt(s);
    a[j * d + j] = l;
    for (size_t i = j + 1; i < d; ++i) {
      double t = a[i * d + j];
      for (size_t k = 0; k < j; ++k) t -= a[i * d + k] * a[j * d + k];
      a[i * d + j] = t / l;
    }
  }
  return true;
}

// Inverse from the Cholesky factor L (lower triangle of `l`).
std::vector<double> InverseFromCholesky(const std::vector<double>& l, size_t d) {
  std::vector<double> inv(d * d, 0.0), col(d);
  for (size_t c = 0; c < d; ++c) {
    // Solve L y = e_c, then L' x = y.
    for (size_t i = 0; i < d; ++i) {
      double s = i == c ? 1.0 : 0.0;
      for (size_t k = 0; k < i; ++k) s -= l[i * d + k] * col[k];
      col[i] = s / l[i * d + i];
    }
    for (size_t ii = d; ii-- > 0;) {
      double s = col[ii];
      for (size_t k = ii + 1; k < d; ++k) s -= l[k * d + ii] * inv[k * d + c];
      inv[ii * d + c] = s / l[ii * d + ii];
    }
  }
  return inv;
}

}  // namespace

Result<ShrunkCovarianceModel> ShrunkCovarianceModel::Fit(const std::vector<std::vector<double>>& rows) {
  if (rows.size() < 2) return Status::InvalidArgument("need at least 2 rows to fit, got " + std::to_string(rows.size()));
  const size_t d = rows.front().size();
  if (d == 0) return Status::InvalidArgument("rows have no values");
  for (size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size() != d) {
      return Status::InvalidArgument("row " + std::to_string(r + 1) + " has " + std::to_string(rows[r].size()) +
                                     " values, the first has " + std::to_string(d));
    }
  }
  ShrunkCovarianceModel m;
  const double n = static_cast<double>(rows.size());
  m.mean_.assign(d, 0.0);
  m.scale_.assign(d, 0.0);
  std::vector<size_t> count(d, 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < d; ++i) {
      if (std::isfinite(row[i])) {
        m.mean_[i] += row[i];
        ++count[i];
      }
    }
  }
  for (size_t i = 0; i < d; ++i) m.mean_[i] = count[i] ? m.mean_[i] / static_cast<double>(count[i]) : 0.0;
  for (const auto& row : rows) {
    for (size_t i = 0; i < d; ++i) {
      if (std::isfinite(row[i])) m.scale_[i] += (row[i] - m.mean_[i]) * (row[i] - m.mean_[i]);
    }
  }
  for (size_t i = 0; i < d; ++i) {
    double sd = count[i] > 1 ? std::sqrt(m.scale_[i] / static_cast<double>(count[i] - 1)) : 0.0;
    // Floor: a metric (nearly) constant in training must move by a visible
    // amount, relative to its level, to score.
    m.scale_[i] = std::max({sd, 1e-3 * std::fabs(m.mean_[i]), 1e-3});
  }
  // Standardised rows.
  std::vector<double> z(rows.size() * d);
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t i = 0; i < d; ++i) {
      double v = rows[r][i];
      z[r * d + i] = std::isfinite(v) ? std::clamp((v - m.mean_[i]) / m.scale_[i], -kClip, kClip) : 0.0;
    }
  }
  // Sample covariance S (the rows are centred by construction).
  std::vector<double> s(d * d, 0.0);
  for (size_t r = 0; r < rows.size(); ++r) {
    const double* x = &z[r * d];
    for (size_t i = 0; i < d; ++i) {
      for (size_t j = 0; j <= i; ++j) s[i * d + j] += x[i] * x[j];
    }
  }
  for (size_t i = 0; i < d; ++i) {
    for (size_t j = 0; j <= i; ++j) {
      s[i * d + j] /= n;
      s[j * d + i] = s[i * d + j];
    }
  }
  // Ledoit-Wolf weights, with the paper's normalised Frobenius norm
  // ||A||^2 = tr(A A') / d.
  const double dd = static_cast<double>(d);
  double mu = 0;
  for (size_t i = 0; i < d; ++i) mu += s[i * d + i];
  mu /= dd;
  double delta2 = 0;  // ||S - mu I||^2
  double s_norm2 = 0;
  for (size_t i = 0; i < d; ++i) {
    for (size_t j = 0; j < d; ++j) {
      double v = s[i * d + j] - (i == j ? mu : 0.0);
      delta2 += v * v;
      s_norm2 += s[i * d + j] * s[i * d + j];
    }
  }
  delta2 /= dd;
  double beta2 = 0;  // (1/n^2) sum_k ||x_k x_k' - S||^2
  std::vector<double> sx(d);
  for (size_t r = 0; r < rows.size(); ++r) {
    const double* x = &z[r * d];
    double xx = 0, xsx = 0;
    for (size_t i = 0; i < d; ++i) {
      xx += x[i] * x[i];
      double t = 0;
      for (size_t j = 0; j < d; ++j) t += s[i * d + j] * x[j];
      xsx += x[i] * t;
    }
    beta2 += (xx * xx - 2 * xsx + s_norm2) / dd;
  }
  beta2 /= n * n;
  beta2 = std::min(beta2, delta2);
  m.shrinkage_ = delta2 > 0 ? beta2 / delta2 : 1.0;
  double target = mu > 0 ? mu : 1.0;
  std::vector<double> sigma(d * d);
  for (size_t i = 0; i < d; ++i) {
    for (size_t j = 0; j < d; ++j) {
      sigma[i * d + j] = (1 - m.shrinkage_) * s[i * d + j] + (i == j ? m.shrinkage_ * target : 0.0);
    }
  }
  // Constant metrics make the diagonal 0 when shrinkage is 0; a tiny ridge
  // keeps the factorisation defined without changing a healthy estimate.
  for (size_t i = 0; i < d; ++i) sigma[i * d + i] += 1e-6 * target;
  if (!Cholesky(sigma, d)) return Status::InvalidArgument("covariance is not positive definite");
  m.inv_ = InverseFromCholesky(sigma, d);
  return m;
}

double ShrunkCovarianceModel::Score(std::span<const double> row, std::vector<double>* contributions) const {
  const size_t d = dims();
  thread_local std::vector<double> z;
  z.assign(d, 0.0);
  for (size_t i = 0; i < d && i < row.size(); ++i) {
    z[i] = std::isfinite(row[i]) ? std::clamp((row[i] - mean_[i]) / scale_[i], -kClip, kClip) : 0.0;
  }
  if (contributions) contributions->assign(d, 0.0);
  double score = 0;
  for (size_t i = 0; i < d; ++i) {
    double t = 0;
    for (size_t j = 0; j < d; ++j) t += inv_[i * d + j] * z[j];
    double c = z[i] * t;
    score += c;
    if (contributions) (*contributions)[i] = c;
  }
  return std::max(score, 0.0);
}

// ---- EntityDetector ----

EntityDetector::EntityDetector(size_t dims, const MultivariateConfig& cfg) : dims_(dims), cfg_(cfg) {}

Status EntityDetector::Train(const std::vector<std::vector<double>>& rows) {
  for (size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size() != dims_) {
      return Status::InvalidArgument("training row " + std::to_string(r + 1) + " has " +
                                     std::to_string(rows[r].size()) + " values, expected " + std::to_string(dims_));
    }
  }
  window_.clear();
  size_t start = rows.size() > cfg_.window ? rows.size() - cfg_.window : 0;
  for (size_t r = start; r < rows.size(); ++r) window_.push_back(rows[r]);
  Refit();
  return fitted_ ? Status::Ok() : Status::InvalidArgument("could not fit the training rows");
}

void EntityDetector::Refit() {
  since_fit_ = 0;
  if (window_.size() < std::max<size_t>(cfg_.min_rows, 2)) return;
  std::vector<std::vector<double>> rows(window_.begin(), window_.end());
  auto m = ShrunkCovarianceModel::Fit(rows);
  if (!m.ok()) return;
  model_ = std::move(*m);
  fitted_ = true;
  std::vector<double> scores;
  scores.reserve(rows.size());
  for (const auto& r : rows) scores.push_back(model_.Score(r));
  size_t k = std::min(scores.size() - 1, static_cast<size_t>(cfg_.quantile * static_cast<double>(scores.size())));
  std::nth_element(scores.begin(), scores.begin() + static_cast<std::ptrdiff_t>(k), scores.end());
  // The floor: the expected score of a normal row is about d.
  threshold_ = std::max(scores[k], static_cast<double>(dims_)) * cfg_.margin;
}

MultivariateVerdict EntityDetector::Update(std::span<const double> row) {
  MultivariateVerdict v;
  if (row.size() != dims_) return v;
  if (fitted_) {
    std::vector<double> c;
    v.ready = true;
    v.score = model_.Score(row, &c);
    v.threshold = threshold_;
    v.anomalous = v.score > threshold_;
    std::vector<size_t> order(dims_);
    for (size_t i = 0; i < dims_; ++i) order[i] = i;
    size_t top = std::min<size_t>(5, dims_);
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), order.end(),
                      [&](size_t a, size_t b) { return c[a] > c[b]; });
    for (size_t i = 0; i < top; ++i) {
      v.top.push_back({order[i], v.score > 0 ? c[order[i]] / v.score : 0.0});
    }
  }
  if (!v.anomalous) {
    window_.emplace_back(row.begin(), row.end());
    if (window_.size() > cfg_.window) window_.pop_front();
  }
  ++since_fit_;
  if (!fitted_ ? window_.size() >= cfg_.min_rows : (cfg_.refit_every > 0 && since_fit_ >= cfg_.refit_every)) Refit();
  return v;
}

}  // namespace vigil
