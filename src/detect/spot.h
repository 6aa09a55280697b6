// SpotThreshold: an alarm threshold for a stream of scores from extreme value
// theory, so that no score threshold is set by hand.
//
// SPOT (A. Siffer, P.-A. Fouque, A. Termier, C. Largouet, "Anomaly Detection
// in Streams with Extreme Value Theory", KDD 2017): by the
// Pickands-Balkema-de Haan theorem the excesses of a stream over a high
// initial threshold t follow a generalised Pareto distribution (GPD). With
// the GPD fitted to the excesses, the threshold that a value exceeds with
// probability q is
//     z_q = t + sigma/gamma * ((q * n / N_t)^(-gamma) - 1)
// (n values seen, N_t of them over t). Values over z_q are alarms and are not
// learned; values between t and z_q are new peaks and refit the GPD.
// DSPOT applies SPOT to the residual of a moving baseline; vigil's detectors
// already produce residual scores, so this class is the DSPOT step.
//
// The GPD is fitted by the method of moments from running sums of the
// excesses (gamma = (1 - m^2/v) / 2, sigma = m (1 + m^2/v) / 2), so each peak
// costs O(1); the paper uses Grimshaw's maximum-likelihood trick, which needs
// the peaks kept. The initial threshold t is the 98 % quantile of the first
// `init` scores (kept only until calibration).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "detect/fp_select.h"

namespace vigil {

// The configuration of a tail: the false-alarm probability per point q,
// the scores before calibration, and the floor of the threshold. Kept out
// of the tail's state (SpotTail), so that an owner with several tails of one
// configuration (KpiDetector: six per series) keeps it once (round hot2,
// docs/detection.md: 16 B fewer per tail).
struct SpotParams {
  float q = 1e-4f;
  int init = 200;
  float floor = 4.0f;
  static SpotParams Of(double q, int init, double floor) {
    return SpotParams{static_cast<float>(q), init, static_cast<float>(floor)};
  }
};

// The state of one SPOT tail; each call that needs the configuration takes
// it (the owner passes the same SpotParams on every call). SpotThreshold
// below is the tail with its own configuration.
class SpotTail {
 public:
  // rebase: t follows the scores (see Rebase in spot.cc) instead of staying
  // at the initial calibration's quantile; for autocorrelated scores, whose
  // first `init` values are a poor sample of the stream.
  explicit SpotTail(bool rebase = false) : rebase_(rebase) {}

  bool calibrated() const { return calibrated_; }
  // Current alarm threshold (the floor until calibrated).
  double threshold(const SpotParams& p) const { return calibrated_ ? z_ : p.floor; }
  // Feeds one non-negative score; returns true when it is an alarm.
  // (Inline for the common case, a calibrated tail and an ordinary score
  // that only counts; the rest is UpdateFull. Both views of a point's work
  // run ~7 times per point of every series.)
  bool Update(const SpotParams& p, double score) {
    if (calibrated_ && std::isfinite(score) && !(score > z_) && !(score > t_)) {
      const float n = n_ + 1;
      if (!(n >= kHorizon && peaks_ >= 8) && (static_cast<int64_t>(n) & 255) != 0) {
        n_ = n;
        return false;
      }
    }
    return UpdateFull(p, score);
  }
  // -log10 of the probability of a score at least this large under the
  // fitted tail (the "surprise"; -log10(q) at the alarm threshold). Below the
  // initial threshold t it is taken from the empirical rate of exceeding t,
  // scaled linearly, so that it stays monotone in the score.
  double Surprise(double score) const {
    // (Inline for the common case, a score below t on a fitted tail;
    // branch-free max: many views' scores are 0 half of the time.)
    if (calibrated_ && peaks_ > 0 && n_ > 0 && score <= t_) return t_ > 0 ? MaxOf(0.0, score / t_) * base_surprise_ : 0.0;
    return SurpriseFull(score);
  }
  // The surprise before calibration (distribution-free, see spot.cc).
  static double YoungSurprise(double score);
  // The surprise at the initial threshold t (-log10 of the rate of peaks):
  // what every score reaches on the way up the linear ramp below t.
  double base_surprise() const { return calibrated_ ? base_surprise_ : 0.0; }
  static constexpr double kHorizon = 8192;
  static constexpr double kMaxSurprise = 30;  // Surprise() never exceeds this (a 1e-30 event)
  // Snapshot (part of KpiDetector's): the configuration p first, as when
  // each tail held its own (and a risk factor of 1, which nothing sets any
  // more), then the state. ParseFrom returns the configuration it read in
  // *p (the owner decides whether to use it).
  void AppendTo(const SpotParams& p, std::string* out) const;
  Status ParseFrom(std::string_view* in, SpotParams* p);

 private:
  bool UpdateFull(const SpotParams& p, double score);
  double SurpriseFull(double score) const;
  void Refit(const SpotParams& p);
  void Rebase(const SpotParams& p);

  // Floats where precision does not matter, and the bools last: six of
  // these live per series (48 B each, within KpiDetector's 4 KiB budget).
  // The initial scores, only while calibrating (a null pointer afterwards
  // costs 8 B where an empty vector cost 24).
  std::unique_ptr<std::vector<float>> initial_;
  float t_ = 0, z_ = 0;
  float n_ = 0, peaks_ = 0;  // halved with the sums past kHorizon: the tail follows regime changes
  float sum_ = 0, sum_sq_ = 0;  // of the excesses over t (n_ < 2 kHorizon: exact in a float)
  float gamma_ = 0, sigma_ = 1;
  float base_surprise_ = 0;  // -log10(peaks / n), refreshed with the fit
  bool rebase_ = false;  // configuration (from the constructor), not in the snapshot
  bool calibrated_ = false;
};

// A tail with its own configuration.
class SpotThreshold {
 public:
  // q: false-alarm probability per point; init: scores before calibration;
  // floor: z_q is never below this (scores are in robust sigmas).
  // rebase: see SpotTail.
  explicit SpotThreshold(double q = 1e-4, int init = 200, double floor = 4.0, bool rebase = false)
      : p_(SpotParams::Of(q, init, floor)), tail_(rebase) {}

  bool calibrated() const { return tail_.calibrated(); }
  double threshold() const { return tail_.threshold(p_); }
  bool Update(double score) { return tail_.Update(p_, score); }
  double Surprise(double score) const { return tail_.Surprise(score); }
  static double YoungSurprise(double score) { return SpotTail::YoungSurprise(score); }
  double base_surprise() const { return tail_.base_surprise(); }
  static constexpr double kHorizon = SpotTail::kHorizon;
  static constexpr double kMaxSurprise = SpotTail::kMaxSurprise;
  // Snapshot (part of KnnNovelty's); the configuration is restored with it.
  void AppendTo(std::string* out) const { tail_.AppendTo(p_, out); }
  Status ParseFrom(std::string_view* in) { return tail_.ParseFrom(in, &p_); }

 private:
  SpotParams p_;
  SpotTail tail_;
};

}  // namespace vigil
