#include "detect/spot.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "detect/snapshot_fields.h"

namespace vigil {

void SpotTail::Refit(const SpotParams& p) {
  if (!calibrated_) return;
  base_surprise_ = peaks_ > 0 && n_ > 0 ? -std::log10(peaks_ / n_) : 0.0;
  double z = t_;
  if (peaks_ >= 2) {
    const double m = sum_ / peaks_;
    const double v = std::max(sum_sq_ / peaks_ - m * m, 1e-12);
    double gamma = 0.5 * (1.0 - m * m / v);
    const double sigma = 0.5 * m * (1.0 + m * m / v);
    gamma = std::clamp(gamma, -0.5, 0.25);  // moments exist only for gamma < 1/2
    gamma_ = gamma;
    sigma_ = std::max(sigma, 1e-9);
    const double r = p.q * n_ / peaks_;
    z = std::fabs(gamma) < 1e-6 ? t_ - sigma * std::log(r) : t_ + sigma / gamma * (std::pow(r, -gamma) - 1.0);
  } else {
    gamma_ = 0;
    sigma_ = std::max(t_ * 0.25, 1e-9);
    z = t_ * 1.5;
  }
  z_ = static_cast<float>(std::max<double>(z, p.floor));
}

void SpotTail::Rebase(const SpotParams& p) {
  // Moves t back to the kRebaseRate quantile when the exceedance rate has
  // left [kRebaseRate / 4, 2 kRebaseRate]. Threshold stability of the GPD
  // (S. Coles, "An Introduction to Statistical Modeling of Extreme Values",
  // Springer 2001, section 4.2.2): if the excesses over t are GPD(sigma,
  // gamma), those over t1 are GPD(sigma + gamma (t1 - t), gamma) and
  // P(S > t1) follows from the tail, so the peaks' count and moment sums
  // over t1 are set from the fitted tail without the peaks themselves.
  // (Below t the tail is extrapolated; t1 stays >= t / 2.)
  constexpr double kRebaseRate = 0.02;  // the 98 % quantile of the initial calibration
  if (!rebase_ || peaks_ < 8 || n_ < 512) return;
  const double rate = peaks_ / n_;
  if (rate <= 2 * kRebaseRate && rate >= kRebaseRate / 4) return;
  const double g = gamma_, sg = sigma_;
  const double r = kRebaseRate * n_ / peaks_;
  double t1 = std::fabs(g) < 1e-6 ? t_ - sg * std::log(r) : t_ + sg / g * (std::pow(r, -g) - 1.0);
  t1 = std::max<double>(t1, 0.5 * t_);
  if (g < 0) t1 = std::min<double>(t1, t_ - 0.9 * sg / g);  // inside the fitted tail's end point
  const double d = t1 - t_;
  const double survive = std::fabs(g) < 1e-6 ? std::exp(-d / sg) : std::pow(std::max(1e-12, 1 + g * d / sg), -1.0 / g);
  const double sigma1 = std::max(1e-9, sg + g * d);
  const double peaks1 = peaks_ * survive;
  const double mean = sigma1 / (1 - g);  // GPD moments (gamma <= 0.25 here)
  const double var = sigma1 * sigma1 / ((1 - g) * (1 - g) * (1 - 2 * g));
  t_ = static_cast<float>(t1);
  peaks_ = static_cast<float>(peaks1);
  sum_ = static_cast<float>(peaks1 * mean);
  sum_sq_ = static_cast<float>(peaks1 * (var + mean * mean));
  Refit(p);
}

bool SpotTail::UpdateFull(const SpotParams& p, double score) {
  if (!std::isfinite(score)) return false;
  if (!calibrated_) {
    if (!initial_) initial_ = std::make_unique<std::vector<float>>();
    initial_->push_back(static_cast<float>(score));
    if (static_cast<int>(initial_->size()) < p.init) return score > p.floor * 2;
    std::vector<float> sorted = std::move(*initial_);
    std::sort(sorted.begin(), sorted.end());
    t_ = sorted[static_cast<size_t>(0.98 * static_cast<double>(sorted.size() - 1))];
    n_ = static_cast<float>(sorted.size());
    for (float s : sorted) {
      if (s > t_) {
        peaks_ += 1;
        sum_ += s - t_;
        sum_sq_ += (s - t_) * (s - t_);
      }
    }
    initial_.reset();
    calibrated_ = true;
    Refit(p);
    return false;
  }
  const bool alarm = score > z_;
  if (alarm) score = std::min<double>(score, 2 * z_);
  n_ += 1;
  if (n_ >= kHorizon && peaks_ >= 8) {
    n_ *= 0.5f;
    peaks_ *= 0.5f;
    sum_ *= 0.5f;
    sum_sq_ *= 0.5f;
  }
  if (score > t_) {
    peaks_ += 1;
    sum_ += static_cast<float>(score - t_);
    sum_sq_ += static_cast<float>((score - t_) * (score - t_));
    Refit(p);
  } else if ((static_cast<int64_t>(n_) & 255) == 0) {
    Refit(p);  // n grows: the threshold tightens slowly between peaks
  }
  if ((static_cast<int64_t>(n_) & 255) == 0) Rebase(p);
  return alarm;
}

double SpotTail::YoungSurprise(double score) {
  // No fitted tail yet: Cantelli's inequality, P(Z - mu >= z sd) <=
  // 1 / (1 + z^2) for any distribution with that sd, is the bound that holds
  // whatever the tail (the robust scale stands in for the sd), capped at a
  // 1e-4 event so that a young tail does not outrank a well-fitted one by
  // much. (A flat 1 % for every z >= the floor hid the windows that fall
  // in the first 200 scores after a re-calibration: NAB +1.5.)
  return std::min(4.0, std::log10(1.0 + score * score));
}

double SpotTail::SurpriseFull(double score) const {
  if (!calibrated_ || peaks_ <= 0 || n_ <= 0) return YoungSurprise(score);
  if (score <= t_) return t_ > 0 ? std::max(0.0, score / t_) * base_surprise_ : 0.0;
  const double y = (score - t_) / sigma_;
  // A fitted light tail (gamma < 0) has an end point beyond which values are
  // "impossible"; for the surprise the tail is taken as at least
  // exponential, so a value past the end point is very surprising, not
  // infinitely so.
  const double g = std::max<double>(gamma_, 0.0);
  const double log_tail = g < 1e-6 ? -y : -std::log1p(g * y) / g;  // ln P(S > score | S > t)
  // Capped: a tail fitted to near-equal excesses (a flat stretch: the KNN
  // view's distances all ~0, sigma ~1e-9) put a modest score at surprise
  // 1.4e10 (rogue_agent_key_updown, round nab6); beyond a 1e-30 event the
  // figure says nothing more, and the API and `vigil detect` print it.
  return std::min(kMaxSurprise, base_surprise_ - log_tail / std::log(10.0));
}

void SpotTail::AppendTo(const SpotParams& p, std::string* out) const {
  using snapshot_fields::PutPod;
  PutPod(out, p.q);
  PutPod(out, p.init);
  PutPod(out, p.floor);
  PutPod(out, 1.0f);  // the risk factor (once SetRiskFactor's, which nothing called)
  PutPod(out, calibrated_);
  snapshot_fields::PutPodVector(out, initial_ ? *initial_ : std::vector<float>{});
  PutPod(out, t_);
  PutPod(out, z_);
  PutPod(out, n_);
  PutPod(out, peaks_);
  PutPod(out, sum_);
  PutPod(out, sum_sq_);
  PutPod(out, gamma_);
  PutPod(out, sigma_);
  PutPod(out, base_surprise_);
}

Status SpotTail::ParseFrom(std::string_view* in, SpotParams* p) {
  using snapshot_fields::GetPod;
  float risk_factor = 1.0f;
  Status s = GetPod(in, &p->q, "spot q");
  if (s.ok()) s = GetPod(in, &p->init, "spot init");
  if (s.ok()) s = GetPod(in, &p->floor, "spot floor");
  if (s.ok()) s = GetPod(in, &risk_factor, "spot risk factor");
  if (s.ok() && risk_factor != 1.0f) {
    s = Status::Corruption("spot risk factor " + std::to_string(risk_factor) + " (only 1 is written)");
  }
  if (s.ok()) s = GetPod(in, &calibrated_, "spot calibrated");
  std::vector<float> initial;
  if (s.ok()) s = snapshot_fields::GetPodVector(in, &initial, "spot initial scores", 1 << 16);
  initial_.reset();
  if (s.ok() && !initial.empty()) initial_ = std::make_unique<std::vector<float>>(std::move(initial));
  if (s.ok()) s = GetPod(in, &t_, "spot t");
  if (s.ok()) s = GetPod(in, &z_, "spot z");
  if (s.ok()) s = GetPod(in, &n_, "spot n");
  if (s.ok()) s = GetPod(in, &peaks_, "spot peaks");
  if (s.ok()) s = GetPod(in, &sum_, "spot sum");
  if (s.ok()) s = GetPod(in, &sum_sq_, "spot sum of squares");
  if (s.ok()) s = GetPod(in, &gamma_, "spot gamma");
  if (s.ok()) s = GetPod(in, &sigma_, "spot sigma");
  if (s.ok()) s = GetPod(in, &base_surprise_, "spot base surprise");
  return s;
}

}  // namespace vigil
