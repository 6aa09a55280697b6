// Forecasting one series with exponential smoothing (Holt-Winters).
//
// Method. Holt's linear trend (C. C. Holt, "Forecasting seasonals and trends
// by exponentially weighted moving averages", ONR memo 52, 1957; reprinted in
// IJF 20, 2004) with Winters' seasonal factors (P. R. Winters, "Forecasting
// sales by exponentially weighted moving averages", Management Science 6,
// 1960), in additive or multiplicative seasonal form, and with the damped
// trend of E. S. Gardner and E. McKenzie ("Forecasting trends in time
// series", Management Science 31, 1985): the h-step forecast of the trend is
// b * (phi + phi^2 + ... + phi^h), which flattens out instead of running off
// to infinity, the main reason damped trends forecast better over long
// horizons.
//
// State equations (error e = y - forecast, m = season length):
//   level   l = l' + phi b' + alpha e                  (additive season)
//           l = l' + phi b' + alpha e / s              (multiplicative)
//   trend   b = phi b' + beta e (divided by s when multiplicative)
//   season  s = s' + gamma e  /  s' + gamma e / (l' + phi b')
// This is the error-correction form of Hyndman, Koehler, Ord and Snyder,
// "Forecasting with Exponential Smoothing: the State Space Approach",
// Springer 2008, with additive errors.
//
// Fitting. FitForecastModel() tries each model form (no / damped / linear
// trend x no / additive / multiplicative season), each with its smoothing
// parameters chosen by Nelder-Mead (J. A. Nelder and R. Mead, "A simplex
// method for function minimization", Computer Journal 7, 1965), and keeps the
// form with the lowest objective. The objective is not the usual one-step
// squared error: parameters that are best one step ahead (often alpha near 1
// on noisy data) make poor forecasts a day ahead, so the objective is the
// mean absolute error of the model's own in-sample forecasts at the horizons
// it will be used at (1, H/4, H/2 and H steps, each forecast made before its
// target is seen: a rolling-origin evaluation inside the history). This is
// "direct multi-step estimation" (G. Chevillon, "Direct multi-step
// estimation and forecasting", Journal of Economic Surveys 21, 2007); the
// absolute error keeps single spikes from steering the fit. Because every
// form is scored out of sample in this way, the same number also chooses the
// form. The season length is given or found by autocorrelation
// (DetectSeasonPeriod).
//
// Prediction intervals. The h-step variance of the additive-error model is
// sigma^2 (1 + sum_{j<h} c_j^2), c_j = alpha (1 + beta/alpha * (phi + ... +
// phi^j)) + gamma [j mod m == 0] (Hyndman et al. 2008, chapter 6, class 1
// models); sigma is the one-step residual standard deviation. For the
// multiplicative season the same formula is used on the level scale and
// multiplied by the seasonal factor, an approximation. The band therefore
// grows with the horizon. It is never narrower than the RMSE the model
// actually had at that horizon on its history.
//
// Streaming. A HoltWinters object is O(1) per point (plus O(m) memory for the
// seasonal factors): Update() with each new value keeps the forecast current;
// refitting the parameters is the caller's periodic, batch step.
//
// Pure library: no I/O, no clock, no threads.
#pragma once

#include <cstdint>
#include <utility>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace vigil {

enum class TrendKind { kNone, kDamped, kLinear };
enum class SeasonKind { kNone, kAdditive, kMultiplicative };

const char* TrendKindName(TrendKind t);
const char* SeasonKindName(SeasonKind s);

struct HoltWintersParams {
  TrendKind trend = TrendKind::kDamped;
  SeasonKind season = SeasonKind::kNone;
  int period = 1;      // season length in steps (>= 2 when season != kNone)
  double alpha = 0.5;  // level smoothing, (0, 1)
  double beta = 0.05;  // trend smoothing, (0, alpha)
  double gamma = 0.1;  // season smoothing, (0, 1 - alpha)
  double phi = 0.98;   // damping, 1 for a linear trend
};

// The streaming state of one fitted model.
class HoltWinters {
 public:
  explicit HoltWinters(const HoltWintersParams& p);

  // Sets the initial level, trend and seasonal factors from the start of `y`
  // (the classical heuristic: the first cycle's mean is the level, the change
  // between the first two cycles' means the trend, the first cycle's
  // deviations from its mean the season). Requires y.size() >= MinHistory().
  void Initialize(std::span<const double> y);
  // Moves the level (the fit estimates the initial level this way).
  void ShiftLevel(double delta);
  // Points Initialize() needs: two seasons, or 4 points without a season.
  size_t MinHistory() const;

  // Folds in the next observation; returns its one-step error (y minus the
  // forecast made before seeing it). Non-finite values are skipped (the
  // state advances by its own forecast).
  double Update(double y);
  // The point forecast h >= 1 steps after the last Update().
  double Forecast(int h) const;
  // sum_{j=1}^{h-1} c_j^2 of the variance formula in the file comment.
  double VarianceFactor(int h) const;

  const HoltWintersParams& params() const { return p_; }
  double level() const { return level_; }
  double trend() const { return trend_; }
  // Seasonal factor that applies h steps ahead.
  double Season(int h) const;

 private:
  HoltWintersParams p_;
  double level_ = 0;
  double trend_ = 0;
  std::vector<double> season_;  // ring of m factors; season_[pos_] is the next step's
  size_t pos_ = 0;
};

struct ForecastOptions {
  int period = 0;           // season length in steps; 0 = detect, 1 = none
  int max_period = 2016;    // longest season DetectSeasonPeriod considers
  double coverage = 0.95;   // prediction interval coverage, (0, 1)
  bool allow_multiplicative = true;
  bool allow_trend = true;
  // The horizon, in steps, the forecast will be used at: the parameters are
  // fitted to the forecast errors at 1, fit_horizon/4, /2 and fit_horizon
  // steps (capped at a third of the history).
  int fit_horizon = 1;
};

// One point of a forecast: the expected value and its prediction interval.
struct ForecastPoint {
  double mean = 0;
  double lower = 0;
  double upper = 0;
};

// A fitted model after running through the history, ready to forecast.
struct ForecastModel {
  HoltWinters state{HoltWintersParams{}};
  double sigma = 0;     // one-step residual standard deviation
  double z = 1.96;      // normal quantile of the interval coverage
  double score = 0;     // the fitting objective (mean MAE over the fit horizons)
  size_t history = 0;   // points fitted
  // Root mean squared error of the in-sample h-step forecasts, for the fit
  // horizons: the interval is never narrower than what the model actually
  // achieved at that horizon on its own history.
  std::vector<std::pair<int, double>> horizon_rmse;

  // h = 1..horizon steps after the last point.
  std::vector<ForecastPoint> Forecast(int horizon) const;
  ForecastPoint At(int h) const;
  // The measured RMSE at the longest fit horizon not beyond h (0 if none).
  double EmpiricalSd(int h) const;
  // "damped trend, additive season of 288 (alpha=0.31 beta=0.01 gamma=0.05 phi=0.95)".
  std::string Describe() const;
};

// Fits the best model form to `y` (evenly spaced; non-finite values are
// treated as missing). InvalidArgument when fewer than 8 finite points.
Result<ForecastModel> FitForecastModel(std::span<const double> y, const ForecastOptions& opts);

// Fits one given form (its smoothing parameters are optimised; those in
// `form` are the starting point).
Result<ForecastModel> FitForecastForm(std::span<const double> y, const HoltWintersParams& form, double coverage,
                                      int fit_horizon = 1);

// The season length of `y` by autocorrelation: the lag in [2, max_period]
// (and at most a third of the series, so that three cycles back it) with the
// highest autocorrelation of the linearly detrended series that is a local
// peak and exceeds 0.3 (and beats the lag-1 decay of a smooth non-seasonal
// series). Returns 1 when there is none.
int DetectSeasonPeriod(std::span<const double> y, int max_period);

// Normal quantile for a two-sided interval of `coverage` (0.95 -> 1.96).
double NormalQuantileTwoSided(double coverage);

}  // namespace vigil
